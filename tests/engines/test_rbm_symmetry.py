"""Z2-symmetric RBMs (engines.rbm.symmetry) and the exact negative phase (engines.rbm.exact_phase):
symmetric models stay exactly symmetric under training, resume bit-for-bit, and the enumerated
expectations and samples are exact."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from engines.exact import critical_temperature
from engines.ising import IsingParams, IsingSimulation
from engines.rbm import RBM, RBMConfig, RBMTrainer, all_visible_states, log_probabilities_exact
from engines.rbm.exact_phase import model_moments, sample_exact
from engines.rbm.symmetry import check_symmetric, flip_asymmetry
from engines.rbm.training import STATE_VERSION


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    """1200 configurations of the 4x4 Ising model at T_c (Wolff, one sweep apart), flattened."""
    sim = IsingSimulation(IsingParams(4, critical_temperature(), algorithm="wolff", seed=21))
    sim.thermalize(50)
    out = np.empty((1200, 16), dtype=np.int8)
    for i in range(out.shape[0]):
        sim.sweep()
        out[i] = sim.spins.reshape(-1)
    return out


def random_model(n: int, m: int, seed: int) -> RBM:
    g = torch.Generator().manual_seed(seed)
    return RBM(
        0.7 * torch.randn(n, m, generator=g, dtype=torch.float64),
        0.3 * torch.randn(n, generator=g, dtype=torch.float64),
        0.3 * torch.randn(m, generator=g, dtype=torch.float64),
    )


SYMMETRIC_CASES = {
    "pcd-sgd-l1-l2": {"method": "pcd", "l1": 1e-3, "l2": 1e-3},
    "pcd-adam-centered": {
        "method": "pcd",
        "optimizer": "adam",
        "learning_rate": 0.01,
        "centering": True,
    },
    "cd": {"method": "cd", "k": 2},
    "pt": {"method": "pt", "n_temperatures": 3, "n_chains": 16},
    "exact-adam": {"method": "exact", "optimizer": "adam", "learning_rate": 0.02},
}


@pytest.mark.parametrize("case", SYMMETRIC_CASES)
def test_mirror_pairs_stay_exactly_symmetric(data, case):
    """Hundreds of updates with every optimizer and regularizer: W[:, m/2:] = -W[:, :m/2] and
    b[m/2:] = b[:m/2] bit for bit, a = 0, and so F(v) = F(-v) up to float64 summation order."""
    config = RBMConfig(
        n_hidden=8, symmetry="pairs", epochs=8, batch_size=32, seed=3, **SYMMETRIC_CASES[case]
    )
    trainer = RBMTrainer(config, data)
    while not trainer.finished:
        trainer.step_batch()
    model = trainer.model
    assert trainer.epoch == 8 and float(model.W.abs().max()) > 0.1  # it did learn something
    assert torch.equal(model.W[:, 4:], -model.W[:, :4])
    assert torch.equal(model.b[4:], model.b[:4])
    assert not model.a.any()
    check_symmetric(model, "pairs")
    states = all_visible_states(16)[::7]
    assert float(flip_asymmetry(model, states).abs().max()) < 1e-11
    p = log_probabilities_exact(model)
    assert np.allclose(p, p[::-1], rtol=0.0, atol=1e-9)  # state x and its flip, index 2^16-1-x


@pytest.mark.parametrize("case", SYMMETRIC_CASES)
def test_hidden_spins_stay_symmetric(data, case):
    """b = 0 exactly and a = -W·1/2 (recomputed after every update): F(v) - F(-v) = -v·(2a + W1)
    is float32 rounding of a sum, ~1e-6, and ⟨m⟩ = 0 exactly over all states."""
    config = RBMConfig(
        n_hidden=8,
        symmetry="hidden-spins",
        epochs=8,
        batch_size=32,
        seed=4,
        **SYMMETRIC_CASES[case],
    )
    trainer = RBMTrainer(config, data)
    while not trainer.finished:
        trainer.step_batch()
    model = trainer.model
    assert float(model.W.abs().max()) > 0.1
    assert not model.b.any()
    assert torch.equal(model.a, -0.5 * model.W.sum(1))
    check_symmetric(model, "hidden-spins")
    scale = float(model.W.abs().sum())
    asym = float(flip_asymmetry(model, all_visible_states(16)[::7]).abs().max())
    assert asym < 1e-6 * scale
    p = np.exp(log_probabilities_exact(model))
    assert abs(float(p @ all_visible_states(16).mean(1))) < 1e-5


@pytest.mark.parametrize("symmetry", ["pairs", "hidden-spins"])
@pytest.mark.parametrize("method", ["pcd", "exact"])
def test_symmetric_and_exact_training_resume_bit_for_bit(data, symmetry, method):
    config = RBMConfig(
        n_hidden=6,
        symmetry=symmetry,
        method=method,
        optimizer="adam",
        learning_rate=0.01,
        batch_size=50,
        epochs=3,
        seed=7,
    )
    straight = RBMTrainer(config, data[:600])
    while not straight.finished:
        straight.step_batch()
    first = RBMTrainer(config, data[:600])
    for _ in range(15):
        first.step_batch()
    state = first.state_dict()
    assert state["version"] == STATE_VERSION == 3
    assert state["config"]["symmetry"] == symmetry and state["config"]["method"] == method
    resumed = RBMTrainer.from_state(copy.deepcopy(state), data[:600])
    while not resumed.finished:
        resumed.step_batch()
    for key in ("W", "a", "b"):
        assert torch.equal(getattr(resumed.model, key), getattr(straight.model, key)), key
    assert resumed.metrics() == straight.metrics()


def test_version_2_states_still_resume(data):
    """A state written before ``symmetry`` existed (version 2, no such config key) resumes as the
    unconstrained model it was."""
    config = RBMConfig(n_hidden=6, method="pcd", batch_size=50, epochs=2, seed=8)
    straight = RBMTrainer(config, data[:400])
    while not straight.finished:
        straight.step_batch()
    first = RBMTrainer(config, data[:400])
    for _ in range(5):
        first.step_batch()
    old = first.state_dict()
    old["version"] = 2
    del old["config"]["symmetry"]
    resumed = RBMTrainer.from_state(old, data[:400])
    assert resumed.config.symmetry == "none"
    while not resumed.finished:
        resumed.step_batch()
    assert torch.equal(resumed.model.W, straight.model.W)


def test_a_model_outside_the_family_is_refused(data):
    model = random_model(16, 6, 0).to(torch.float32)
    for symmetry, message in (("pairs", "mirror pairs"), ("hidden-spins", "hidden spins")):
        with pytest.raises(ValueError, match=message):
            RBMTrainer(RBMConfig(n_hidden=6, symmetry=symmetry), data, model=model)
    sym = RBM(model.W, -0.5 * model.W.sum(1), torch.zeros(6))
    RBMTrainer(RBMConfig(n_hidden=6, symmetry="hidden-spins"), data, model=sym)  # accepted


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"symmetry": "z2"}, "Unknown symmetry"),
        ({"symmetry": "pairs", "n_hidden": 7}, "even n_hidden"),
        ({"method": "exact", "n_hidden": 21}, "n_hidden <= 20"),
    ],
)
def test_invalid_symmetry_settings(change, message):
    with pytest.raises(ValueError, match=message):
        RBMConfig(**change).validate()


def brute_force_moments(model: RBM):
    states = torch.as_tensor(all_visible_states(model.n_visible), dtype=torch.float64)
    p = torch.as_tensor(np.exp(log_probabilities_exact(model)))
    ph = model.hidden_probabilities(states)
    return p @ states, p @ ph, states.T @ (p[:, None] * ph)


def test_model_moments_are_exact():
    model = random_model(9, 6, 1)
    for got, want in zip(model_moments(model), brute_force_moments(model), strict=True):
        assert torch.allclose(got, want, rtol=0.0, atol=1e-13)
    spins_model = RBM(model.W, -0.5 * model.W.sum(1), torch.zeros(6, dtype=torch.float64))
    want = brute_force_moments(spins_model)
    for got in (model_moments(spins_model), model_moments(spins_model, half=True)):
        for g, w in zip(got, want, strict=True):
            assert torch.allclose(g, w, rtol=0.0, atol=1e-13)
    # float32 products, float64 sums: still far below any minibatch noise
    for g, w in zip(
        model_moments(model.to(torch.float32)), brute_force_moments(model), strict=True
    ):
        assert torch.allclose(g, w, rtol=0.0, atol=1e-5)


def test_exact_update_is_the_exact_minibatch_gradient(data):
    """lr = 1 and no momentum: one exact update moves the parameters by data minus model moments
    (brute force over all visible states)."""
    model = random_model(16, 5, 2).to(torch.float32)
    config = RBMConfig(
        n_hidden=5,
        method="exact",
        batch_size=len(data),
        learning_rate=1.0,
        momentum=0.0,
        lr_schedule="constant",
        validation_fraction=0.0,
        epochs=1,
    )
    trainer = RBMTrainer(config, data, model=model)
    before = {k: v.clone().double() for k, v in (("W", model.W), ("a", model.a), ("b", model.b))}
    trainer.step_batch()
    m64 = RBM(before["W"], before["a"], before["b"])
    v = torch.as_tensor(data, dtype=torch.float64)
    p = m64.hidden_probabilities(v)
    mv, mh, mvh = brute_force_moments(m64)
    expected = {"W": v.T @ p / len(v) - mvh, "a": v.mean(0) - mv, "b": p.mean(0) - mh}
    for key, gradient in expected.items():
        step = getattr(trainer.model, key).double() - before[key]
        # float32 parameters of size <= 2 and float32 sums of 1200 rows: errors ~1e-6, while
        # any wrong term (a missing model moment, a sign) would be >= 1e-2
        assert torch.allclose(step, gradient, rtol=0.0, atol=1e-5), key


def test_exact_samples_follow_p_v():
    model = random_model(8, 6, 3)
    samples = sample_exact(model, 200_000, torch.Generator().manual_seed(5))
    assert samples.dtype == np.int8 and samples.shape == (200_000, 8)
    index = ((samples > 0).astype(np.int64) << np.arange(8)).sum(1)
    freq = np.bincount(index, minlength=256) / samples.shape[0]
    p = np.exp(log_probabilities_exact(model))
    seen = p > 1e-4  # expected counts >= 20, where the normal approximation holds
    z = np.abs(freq - p)[seen] / np.sqrt(p * (1 - p) / samples.shape[0])[seen]
    assert z.max() < 4.5  # the largest of ~200 |z| is about 3 for exact draws

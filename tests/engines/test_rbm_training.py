"""RBM training: it learns (exact held-out NLL), resumes bit-for-bit, validates its settings and
detects divergence."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

from engines.exact import boltzmann_probabilities, critical_temperature
from engines.ising import IsingParams, IsingSimulation
from engines.ising.rng import fill_uniform_float32
from engines.rbm import RBM, RBMConfig, RBMDivergence, RBMTrainer, log_probabilities_exact


@pytest.fixture(scope="module")
def ising_data() -> np.ndarray:
    """4000 configurations of the 4x4 Ising model at T_c (Wolff, one sweep apart), flattened."""
    sim = IsingSimulation(IsingParams(4, critical_temperature(), algorithm="wolff", seed=3))
    sim.thermalize(50)
    out = np.empty((4000, 16), dtype=np.int8)
    for i in range(out.shape[0]):
        sim.sweep()
        out[i] = sim.spins.reshape(-1)
    return out


def kl_to_ising(model: RBM) -> float:
    p = boltzmann_probabilities(4, critical_temperature())
    return float(np.sum(p * (np.log(p) - log_probabilities_exact(model))))


@pytest.mark.parametrize("method", ["cd", "pcd", "pt"])
def test_training_lowers_the_exact_held_out_nll(ising_data, method):
    config = RBMConfig(n_hidden=16, method=method, epochs=4, n_temperatures=5, seed=1)
    trainer = RBMTrainer(config, ising_data[:3000], ising_data[3000:])
    before = trainer.metrics()
    kl_before = kl_to_ising(trainer.model)
    while not trainer.finished:
        after = trainer.step_epoch()
    assert before["log_z_method"] == after["log_z_method"] == "exact"
    assert after["nll_valid_error"] == 0.0
    # The start is the independent-spin model (≈ 16 ln 2 ≈ 11.1 nats at T_c, where <v_i> ≈ 0);
    # the Ising entropy is 4.48 nats, so a learned model must come close to it.
    assert before["nll_valid"] > 10.5
    assert after["nll_valid"] < 5.6
    assert kl_to_ising(trainer.model) < 0.25 * kl_before
    assert after["pseudo_likelihood"] > before["pseudo_likelihood"]


@pytest.mark.parametrize(
    ("method", "flip_moves"), [("pcd", True), ("pcd", False), ("pt", True), ("pt", False)]
)
def test_persistent_chains_sample_the_model_when_it_stands_still(method, flip_moves):
    """With a vanishing learning rate the chains are an MCMC sampler of a fixed model: their
    visits must follow the exact p(v) (each chain's frequencies give the error bar)."""
    g = torch.Generator().manual_seed(8)
    W = 0.8 * torch.randn(8, 6, generator=g)
    model = RBM(W, 0.3 * torch.randn(8, generator=g), 0.3 * torch.randn(6, generator=g))
    data = np.where(np.random.default_rng(0).random((64, 8)) < 0.5, 1, -1).astype(np.int8)
    config = RBMConfig(
        n_hidden=6,
        method=method,
        flip_moves=flip_moves,
        learning_rate=1e-30,
        batch_size=64,
        n_chains=64,
        n_temperatures=3,
        epochs=600,
        validation_fraction=0.0,
    )
    trainer = RBMTrainer(config, data, model=model)
    visits = np.zeros((64, 256))
    for step in range(600):
        trainer.step_batch()
        if step >= 100:
            v = trainer.persistent_chains.numpy() > 0
            visits[np.arange(64), (v.astype(np.int64) << np.arange(8)).sum(1)] += 1
    assert torch.equal(trainer.model.W, model.W.to(torch.float32))  # the model did not move
    p = np.exp(log_probabilities_exact(model))
    freq = visits / visits.sum(1, keepdims=True)
    error = freq.std(0, ddof=1) / np.sqrt(freq.shape[0])
    seen = p > 1e-3
    z = np.abs(freq.mean(0)[seen] - p[seen]) / error[seen]
    assert z.max() < 4.5


def plain(value) -> bool:
    """A value the session file can store: numpy array, plain scalar, or a dict of those."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    return isinstance(value, np.ndarray | bool | int | float | str)


RESUME_CASES = {
    "cd": {"method": "cd", "k": 2},
    "pcd-centered-adam": {
        "method": "pcd",
        "centering": True,
        "optimizer": "adam",
        "learning_rate": 0.003,
        "l1": 1e-4,
        "l2": 1e-3,
        "lr_schedule": "exponential",
    },
    "pt-no-flips": {"method": "pt", "n_temperatures": 4, "n_chains": 10, "flip_moves": False},
    "pt": {"method": "pt", "n_temperatures": 3, "lr_schedule": "constant"},
}


@pytest.mark.parametrize("case", RESUME_CASES)
@pytest.mark.parametrize("split", [False, True])
def test_resume_is_bit_for_bit(ising_data, case, split):
    data = ising_data[:640]
    validation = None if split else ising_data[3000:3200]
    config = RBMConfig(n_hidden=8, batch_size=32, epochs=3, seed=5, **RESUME_CASES[case])
    straight = RBMTrainer(config, data, validation)
    while not straight.finished:
        straight.step_epoch()

    first = RBMTrainer(config, data, validation)
    first.step_epoch()
    for _ in range(7):  # stop in the middle of the second epoch
        first.step_batch()
    state = first.state_dict()
    assert plain(state)
    assert state["epoch"] == 1 and state["batch_in_epoch"] == 7 and state["permutation"].size
    resumed = RBMTrainer.from_state(copy.deepcopy(state), data, validation)
    while not resumed.finished:
        resumed.step_epoch()

    for key in ("W", "a", "b"):
        assert torch.equal(getattr(resumed.model, key), getattr(straight.model, key)), key
    if straight.persistent_chains is not None:
        assert torch.equal(resumed.persistent_chains, straight.persistent_chains)
    final, reference = resumed.state_dict(), straight.state_dict()
    for key, value in reference.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(final[key], value), key
        else:
            assert final[key] == value, key
    assert resumed.metrics() == straight.metrics()


@pytest.mark.parametrize(
    ("method", "k", "flip_moves"), [("pcd", 1, True), ("pcd", 2, True), ("cd", 2, False)]
)
def test_one_update_is_the_documented_update(method, k, flip_moves):
    """The trainer's update (stacked products, one draw of uniforms, sampling in place) against
    the module doc's update computed plainly in float64 from the same uniforms: same samples,
    same gradient up to float32 rounding (lr = 1 and no momentum, so the step is the gradient)."""
    n, m, rows, chains = 12, 5, 6, 4 if method == "pcd" else 6
    data = np.where(np.random.default_rng(1).random((rows, n)) < 0.5, 1, -1).astype(np.int8)
    g = torch.Generator().manual_seed(3)
    model = RBM(
        0.5 * torch.randn(n, m, generator=g),
        0.2 * torch.randn(n, generator=g),
        0.2 * torch.randn(m, generator=g),
    )
    config = RBMConfig(
        n_hidden=m,
        method=method,
        k=k,
        flip_moves=flip_moves,
        batch_size=rows,
        n_chains=chains,
        learning_rate=1.0,
        momentum=0.0,
        lr_schedule="constant",
        validation_fraction=0.0,
        epochs=1,
    )
    trainer = RBMTrainer(config, data, model=model)
    before = trainer.state_dict()
    W, a, b = (torch.as_tensor(before[key], dtype=torch.float64) for key in ("W", "a", "b"))
    order = torch.Generator()
    order.set_state(torch.from_numpy(before["split_generator"]))
    trainer.step_batch()

    uniforms = np.empty(100_000, dtype=np.float32)  # the CPU trainer's source: xoshiro256**
    fill_uniform_float32(before["uniform_state"].copy(), uniforms)
    uniforms = torch.from_numpy(uniforms).to(torch.float64)
    used = 0

    def take(*shape):
        nonlocal used
        size = math.prod(shape)
        used += size
        return uniforms[used - size : used].reshape(shape)

    v_data = torch.as_tensor(data, dtype=torch.float64)[torch.randperm(rows, generator=order)]
    p_data = torch.sigmoid(b + v_data @ W)
    if method == "cd":
        h = (take(rows, m) < p_data).to(torch.float64)
    else:
        h = torch.as_tensor(before["chain_hidden"], dtype=torch.float64)
    v = 2.0 * (take(chains, n) < torch.sigmoid(2.0 * (a + h @ W.T))).to(torch.float64) - 1.0
    for _ in range(k - 1):
        h = (take(chains, m) < torch.sigmoid(b + v @ W)).to(torch.float64)
        v = 2.0 * (take(chains, n) < torch.sigmoid(2.0 * (a + h @ W.T))).to(torch.float64) - 1.0
    if flip_moves:
        x = b + v @ W
        softplus = torch.nn.functional.softplus
        log_ratio = (softplus(2.0 * b - x) - softplus(x)).sum(1) - 2.0 * (v @ a)
        v = torch.where((take(chains) < torch.exp(log_ratio))[:, None], -v, v)
    p_chains = torch.sigmoid(b + v @ W)
    expected = {
        "W": v_data.T @ p_data / rows - v.T @ p_chains / chains,
        "a": v_data.mean(0) - v.mean(0),
        "b": p_data.mean(0) - p_chains.mean(0),
    }
    after = trainer.state_dict()
    for key, gradient in expected.items():
        step = torch.as_tensor(after[key], dtype=torch.float64) - locals()[key]
        # float32 parameters of size <= 2 and sums of <= 12 terms: a few ulps of 2, far below 1e-5
        assert torch.allclose(step, gradient, rtol=0.0, atol=1e-5), key
    if method == "pcd":
        assert np.array_equal(after["chains"], v.numpy())
        hidden = (take(chains, m) < p_chains).numpy()
        assert np.array_equal(after["chain_hidden"], hidden.astype(np.int8))


def test_metrics_do_not_change_the_training_trajectory(ising_data):
    config = RBMConfig(n_hidden=8, method="pcd", batch_size=50, epochs=2, seed=2)
    quiet = RBMTrainer(config, ising_data[:500])
    noisy = RBMTrainer(config, ising_data[:500])
    while not quiet.finished:
        quiet.step_batch()
    while not noisy.finished:
        noisy.step_batch()
        noisy.metrics()
    assert torch.equal(quiet.model.W, noisy.model.W)


def test_split_schedule_and_step_reports(ising_data):
    config = RBMConfig(
        n_hidden=4,
        method="pt",
        n_temperatures=3,
        batch_size=100,
        epochs=2,
        validation_fraction=0.25,
        seed=9,
    )
    trainer = RBMTrainer(config, ising_data[:400])
    assert trainer.train_data.shape == (300, 16) and trainer.validation_data.shape == (100, 16)
    assert trainer.n_batches == 3
    assert trainer.persistent_chains.shape == (100, 16)
    rates = []
    while not trainer.finished:
        report = trainer.step_batch()
        rates.append(report["lr"])
    assert report["epoch"] == 2 and report["batch"] == 0 and 0 < report["swap_acceptance"] <= 1
    assert rates == pytest.approx([0.01 * (1 - u / 6) for u in range(6)])  # linear to 0
    with pytest.raises(RuntimeError, match="finished"):
        trainer.step_batch()
    other = RBMTrainer(config, ising_data[:400])
    assert np.array_equal(other.validation_data, trainer.validation_data)  # seeded split


def test_large_models_report_ais_estimates():
    rng = np.random.default_rng(0)
    data = np.where(rng.random((300, 40)) < 0.5, 1, -1).astype(np.int8)
    trainer = RBMTrainer(RBMConfig(n_hidden=30, epochs=1, seed=0), data)
    out = trainer.step_epoch()
    assert out["log_z_method"] == "ais"
    assert 0 < out["nll_valid_error"] < 1 and out["nll_valid_error"] == out["log_z_error"]
    expected = {
        "epoch",
        "log_z",
        "log_z_error",
        "log_z_method",
        "nll_train",
        "nll_valid",
        "nll_train_error",
        "nll_valid_error",
        "pseudo_likelihood",
        "reconstruction_mismatch",
        "free_energy_gap",
        "weight_norm",
        "weight_max",
        "visible_bias_norm",
        "hidden_bias_norm",
        "checkpoint",
    }
    assert set(out) == expected
    assert all(math.isfinite(v) for v in out.values() if isinstance(v, float))
    # uniform random data: the NLL cannot beat 40 ln 2 by much more than the AIS error
    assert out["nll_valid"] > 40 * math.log(2) - 3 * out["nll_valid_error"] - 0.5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"n_hidden": 0}, "n_hidden"),
        ({"learning_rate": float("nan")}, "learning rate"),
        ({"learning_rate": -0.1}, "learning rate"),
        ({"method": "gibbs"}, "Unknown training method"),
        ({"k": 0}, "k \\(Gibbs"),
        ({"batch_size": 0}, "batch_size"),
        ({"optimizer": "rmsprop"}, "Unknown optimizer"),
        ({"momentum": 1.0}, "momentum"),
        ({"l2": -1.0}, "l2"),
        ({"lr_schedule": "cosine"}, "schedule"),
        ({"lr_decay": 0.0}, "lr_decay"),
        ({"epochs": 0}, "epochs"),
        ({"n_temperatures": 1}, "n_temperatures"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"device": "tpu"}, "device"),
        ({"seed": -1}, "seed"),
        ({"centering": 1}, "centering"),
    ],
)
def test_invalid_settings_raise_one_clear_error(ising_data, change, message):
    config = RBMConfig(**change)
    with pytest.raises(ValueError, match=message):
        config.validate()
    with pytest.raises(ValueError, match=message):
        RBMTrainer(config, ising_data[:100])


def test_shape_and_value_mismatches(ising_data):
    config = RBMConfig(n_hidden=4, epochs=1)
    with pytest.raises(ValueError, match="spins per configuration"):
        RBMTrainer(config, ising_data[:100], ising_data[:50, :9])
    with pytest.raises(ValueError, match="model has shape"):
        wrong = RBM(np.zeros((16, 5)), np.zeros(16), np.zeros(5))
        RBMTrainer(config, ising_data[:100], model=wrong)
    with pytest.raises(ValueError, match="only spins"):
        RBMTrainer(config, (ising_data[:100] + 1) // 2)
    with pytest.raises(ValueError, match="validation split leaves no"):
        RBMTrainer(RBMConfig(validation_fraction=0.9), ising_data[:1])
    trainer = RBMTrainer(config, ising_data[:100])
    with pytest.raises(ValueError, match="differ"):
        RBMTrainer.from_state(trainer.state_dict(), -ising_data[:100])
    with pytest.raises(ValueError, match="Not an RBM trainer state"):
        RBMTrainer.from_state({"format": "other"}, ising_data[:100])
    incomplete = trainer.state_dict()
    del incomplete["chain_hidden"]
    with pytest.raises(ValueError, match="lacks the entries \\['chain_hidden'\\]"):
        RBMTrainer.from_state(incomplete, ising_data[:100])


@pytest.mark.parametrize("learning_rate", [1e4, 1e38])
def test_a_huge_learning_rate_raises_divergence(ising_data, learning_rate):
    config = RBMConfig(n_hidden=8, learning_rate=learning_rate, epochs=2)
    trainer = RBMTrainer(config, ising_data[:500])
    with pytest.raises(RBMDivergence, match="diverged"):
        for _ in range(20):
            trainer.step_batch()
    assert issubclass(RBMDivergence, RuntimeError)

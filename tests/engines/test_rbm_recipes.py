"""The Ising preset (engines.rbm.recipes): its settings, and that it learns exactly checkable
thermodynamics on small lattices (exact KL and observables by enumeration)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.exact import boltzmann_probabilities, critical_temperature
from engines.ising import IsingParams, IsingSimulation
from engines.rbm import RBMConfig, RBMTrainer, log_probabilities_exact
from engines.rbm.recipes import ISING_PRESET, ISING_UPDATES, ising_config, ising_epochs
from engines.rbm.thermodynamics import (
    compare,
    data_thermodynamics,
    exact_model_thermodynamics,
    exact_thermodynamics,
    model_thermodynamics,
)


def wolff(L: int, T: float, n: int, seed: int) -> np.ndarray:
    sim = IsingSimulation(IsingParams(L, T, algorithm="wolff", seed=seed))
    sim.thermalize(100)
    out = np.empty((n, L * L), dtype=np.int8)
    for i in range(n):
        sim.sweep()
        out[i] = sim.spins.reshape(-1)
    return out


def test_preset_settings_and_overrides():
    config = ising_config()
    for key, value in ISING_PRESET.items():
        assert getattr(config, key) == value, key
    assert ising_config(n_hidden=16, seed=3).n_hidden == 16
    # the epochs follow the data size so that the number of updates stays put
    sized = ising_config(20_000)
    assert sized.epochs == ising_epochs(20_000) == round(ISING_UPDATES / 38) == 1105
    assert ising_config(20_000, epochs=5).epochs == 5
    with pytest.raises(ValueError, match="even n_hidden"):
        ising_config(n_hidden=7, symmetry="pairs")
    with pytest.raises(TypeError):
        ising_config(not_a_setting=1)


def test_rbm_config_defaults_are_unchanged():
    """Other code relies on RBMConfig's defaults; the preset must not have moved them."""
    d = RBMConfig()
    assert (d.method, d.k, d.optimizer, d.learning_rate, d.lr_schedule, d.batch_size) == (
        "cd",
        1,
        "sgd",
        0.01,
        "linear",
        64,
    )
    assert (d.n_hidden, d.epochs, d.symmetry, d.flip_moves, d.n_chains) == (
        64,
        100,
        "none",
        True,
        0,
    )


N_DATA = 20_000
N_HIDDEN = 16


@pytest.fixture(scope="module")
def small_case():
    """L = 4 at T_c: 20 000 Wolff configurations and a model trained by the preset's recipe
    (PCD-20 on 256 chains with the flip move, hidden spins, Adam decayed linearly), shortened to
    100 epochs = 3800 updates. The preset's step 0.003 is sized for its 42 000 updates; a run 11×
    shorter needs a larger one (0.02; measured: 0.01 over 1520 updates left KL 0.07 and e 6.7σ
    high, an under-trained model too hot, as in the issue)."""
    T = critical_temperature()
    data = wolff(4, T, N_DATA, seed=12)
    config = ising_config(n_hidden=N_HIDDEN, epochs=100, learning_rate=0.02, seed=1)
    trainer = RBMTrainer(config, data)
    while not trainer.finished:
        trainer.step_batch()
    return T, trainer


def test_preset_learns_the_l4_ising_model_exactly(small_case):
    """KL(p_Ising ‖ p_RBM) over all 2^16 states is near its finite-data floor, the model is
    exactly symmetric, and its exact e, |m|, c, χ agree with the exact Ising values within 3σ of
    the training data's own errors (the model cannot be asked to beat the noise of what it
    learned from)."""
    T, trainer = small_case
    model = trainer.model
    p = boltzmann_probabilities(4, T)
    kl = float(np.sum(p * (np.log(p) - log_probabilities_exact(model))))
    # Expected KL of a maximum-likelihood fit: the capacity floor of 16 hidden spins (exact-
    # gradient training on 100 000 configurations reached 0.0038, of which 256/(2·10^5) = 0.0013
    # is finite data) plus k/(2N) = 256 parameters / (2·19 000) = 0.0067 (± sqrt(2k)/(2N) =
    # 0.0006): about 0.009, which the recipe reached (0.0088). The bound leaves a factor ~2 for a
    # shortened schedule; an untrained or biased model sits at 0.05-0.5.
    n_train = len(trainer.train_data)
    floor = 0.0025 + N_HIDDEN * 16 / (2 * n_train)
    assert kl < 2 * floor, (kl, floor)
    exact_model = exact_model_thermodynamics(model, T)
    assert abs(exact_model["m"]) < 1e-5
    data = data_thermodynamics(trainer.train_data, T)
    exact = exact_thermodynamics(4, T)
    for key in ("e", "abs_m", "c", "chi"):
        z = (exact_model[key] - exact[key]) / data[key].error
        assert abs(z) < 3, (key, exact_model[key], exact[key], data[key].error)


def test_model_thermodynamics_of_the_trained_model(small_case):
    """The chains of the evaluation function agree with the exact enumeration of the same model."""
    T, trainer = small_case
    result = model_thermodynamics(
        trainer.model,
        T,
        n_samples=20_000,
        n_chains=32,
        burn_in=200,
        thin=2,
        generator=torch.Generator().manual_seed(2),
    )
    table = compare(result["estimates"], exact=exact_model_thermodynamics(trainer.model, T))
    for key in ("e", "m", "abs_m", "c", "chi", "binder"):
        assert abs(table[key]["z_exact"]) < 4, (key, table[key])

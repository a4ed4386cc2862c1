"""The exact maximum-likelihood fit against an independent computation over every visible state.

At a maximum of the likelihood the data's and the model's expectations of ∂F/∂θ agree; the
model's are computed here by enumerating all 2^n visible configurations (the fit itself sums over
the hidden layer), so the test checks the fit's objective, its gradient and its convergence at
once.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.exact import boltzmann_probabilities
from engines.rbm import all_visible_states, log_probabilities_exact
from engines.rbm.likelihood_fit import (
    MAX_FIT_HIDDEN,
    fit_maximum_likelihood,
    negative_log_likelihood,
)
from engines.rbm.symmetry import check_symmetric

L = 3
N = L * L


def ising_data(temperature: float, n_samples: int, seed: int) -> np.ndarray:
    """Exact Boltzmann draws of the 3×3 Ising torus (independent, so no Monte Carlo in the test)."""
    p = boltzmann_probabilities(L, temperature)
    states = all_visible_states(N)
    rng = np.random.default_rng(seed)
    index = rng.choice(states.shape[0], size=n_samples, p=p / p.sum())
    return states[index]


def state_index(v: np.ndarray) -> np.ndarray:
    return (((v + 1) // 2).astype(np.int64) << np.arange(v.shape[1])).sum(1)


def hidden_means(W: np.ndarray, a: np.ndarray, b: np.ndarray, v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(v @ W + b)))


@pytest.mark.parametrize("symmetry", ["none", "hidden-spins"])
def test_fit_is_a_stationary_point_by_visible_enumeration(symmetry: str) -> None:
    data = ising_data(2.5, 3000, seed=1)
    fit = fit_maximum_likelihood(data, 3, symmetry=symmetry, seed=0, gradient_tolerance=1e-8)
    assert fit.converged and fit.max_gradient <= 1e-8
    p = fit.model.to_numpy()
    W, a, b = (np.asarray(p[k], dtype=np.float64) for k in ("W", "a", "b"))
    states = all_visible_states(N).astype(np.float64)
    log_p = log_probabilities_exact(fit.model)
    prob = np.exp(log_p)
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)
    # the objective: the mean NLL over the data, from the visible-state table
    nll = -log_p[state_index(data)].mean()
    assert fit.nll == pytest.approx(nll, abs=1e-9)
    assert negative_log_likelihood(fit.model, data) == pytest.approx(nll, abs=1e-9)
    # stationarity: ⟨v σ(b + Wᵀv)ᵀ⟩ (and for "none" also ⟨v⟩, ⟨σ⟩) equal in data and model
    vd = data.astype(np.float64)
    hd, hm = hidden_means(W, a, b, vd), hidden_means(W, a, b, states)
    if symmetry == "hidden-spins":
        # ∂F/∂W for a = -W·1/2, b = 0: -v (σ - 1/2)ᵀ
        gd = vd.T @ (hd - 0.5) / len(vd)
        gm = states.T @ (prob[:, None] * (hm - 0.5))
        np.testing.assert_allclose(gd, gm, atol=1e-7)
        check_symmetric(fit.model, "hidden-spins")
        assert np.allclose(prob, prob[::-1], atol=1e-14)  # p(v) = p(-v): index k ↔ 2^n - 1 - k
    else:
        np.testing.assert_allclose(vd.T @ hd / len(vd), states.T @ (prob[:, None] * hm), atol=1e-7)
        np.testing.assert_allclose(vd.mean(0), states.T @ prob, atol=1e-7)
        np.testing.assert_allclose(hd.mean(0), hm.T @ prob, atol=1e-7)


def test_fit_is_a_local_minimum_and_beats_a_worse_start() -> None:
    data = ising_data(2.0, 2000, seed=2)
    fit = fit_maximum_likelihood(data, 2, symmetry="none", seed=3, gradient_tolerance=1e-8)
    rng = np.random.default_rng(0)
    p = fit.model.to_numpy()
    for _ in range(5):
        W = p["W"] + 1e-2 * rng.standard_normal(p["W"].shape)
        moved = type(fit.model)(W, p["a"], p["b"], dtype=torch.float64)
        assert negative_log_likelihood(moved, data) > fit.nll
    short = fit_maximum_likelihood(data, 2, symmetry="none", seed=3, max_iterations=1)
    assert not short.converged and short.iterations >= 1
    assert short.nll > fit.nll


def test_same_seed_same_fit() -> None:
    data = ising_data(3.0, 500, seed=4)
    one = fit_maximum_likelihood(data, 2, seed=7, max_iterations=40)
    two = fit_maximum_likelihood(data, 2, seed=7, max_iterations=40)
    np.testing.assert_array_equal(one.model.to_numpy()["W"], two.model.to_numpy()["W"])
    assert one.nll == two.nll


def test_a_given_start_is_used_and_an_optimum_stays_put() -> None:
    data = ising_data(2.5, 300, seed=6)
    fit = fit_maximum_likelihood(data, 2, seed=1, gradient_tolerance=1e-7)
    assert fit.converged
    W = fit.model.to_numpy()["W"].astype(np.float64)
    # started at the symmetric optimum, the fit is already converged: nothing moves
    again = fit_maximum_likelihood(data, 2, initial_weights=W, gradient_tolerance=1e-6)
    assert again.converged and again.iterations <= 2
    np.testing.assert_allclose(again.model.to_numpy()["W"], W, atol=1e-5)
    # one round of L-BFGS from a given non-optimal start is not the random start's round
    start = np.full((N, 2), 0.3)
    start[:, 1] = -0.3
    given = fit_maximum_likelihood(data, 2, initial_weights=start, max_iterations=1)
    random = fit_maximum_likelihood(data, 2, seed=1, max_iterations=1)
    assert given.nll != random.nll


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_hidden": 2, "initial_weights": np.zeros((N, 3))}, "initial_weights"),
        ({"n_hidden": 2, "initial_weights": np.full((N, 2), np.nan)}, "initial_weights"),
        ({"n_hidden": MAX_FIT_HIDDEN + 1}, "at most"),
        ({"n_hidden": 0}, "n_hidden"),
        ({"n_hidden": 2, "symmetry": "pairs"}, "symmetry"),
        ({"n_hidden": 2, "max_iterations": 0}, "max_iterations"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs: dict, message: str) -> None:
    data = ising_data(3.0, 50, seed=5)
    with pytest.raises(ValueError, match=message):
        fit_maximum_likelihood(data, **kwargs)


def test_data_must_be_spins() -> None:
    with pytest.raises(ValueError, match="±1"):
        fit_maximum_likelihood(np.zeros((10, N)), 2)

"""The ±1 ↔ {0,1} conversion preserves every probability exactly; .npz files round-trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engines.rbm import (
    RBM,
    from_zero_one,
    ising_rbm,
    load_npz,
    log_probabilities_exact,
    save_npz,
    to_zero_one,
)
from engines.rbm.partition import layer_states


def random_model(n: int = 9, m: int = 5, seed: int = 0) -> RBM:
    g = torch.Generator().manual_seed(seed)
    return RBM(
        torch.randn(n, m, generator=g, dtype=torch.float64),
        0.5 * torch.randn(n, generator=g, dtype=torch.float64),
        0.5 * torch.randn(m, generator=g, dtype=torch.float64),
    )


def zero_one_log_probabilities(W01, a01, b01) -> np.ndarray:
    """log p01(x) of every x ∈ {0,1}^n by brute force over (x, h), in the {0,1} energy."""
    W01, a01, b01 = (torch.as_tensor(np.asarray(t, dtype=np.float64)) for t in (W01, a01, b01))
    n, m = W01.shape
    x = layer_states(n, 0, 1 << n, torch.device("cpu"))
    h = layer_states(m, 0, 1 << m, torch.device("cpu"))
    minus_e = (x @ a01)[:, None] + (h @ b01)[None, :] + x @ W01 @ h.T
    log_px = torch.logsumexp(minus_e, dim=1)
    return (log_px - torch.logsumexp(log_px, 0)).numpy()


def test_zero_one_parameters_give_the_same_distribution():
    model = random_model()
    p01 = to_zero_one(model)
    W = model.W.numpy()
    assert np.allclose(p01["W"], 2 * W) and np.allclose(p01["a"], 2 * model.a.numpy())
    assert np.allclose(p01["b"], model.b.numpy() - W.sum(0))
    expected = log_probabilities_exact(model)  # index = state integer, bit i = (v_i = +1)
    log_p01 = zero_one_log_probabilities(p01["W"], p01["a"], p01["b"])
    assert np.allclose(log_p01, expected, rtol=0, atol=1e-12)


def test_from_zero_one_inverts_to_zero_one_and_reads_sklearn_style_parameters():
    rng = np.random.default_rng(1)
    components = rng.normal(size=(4, 8))  # sklearn: (n_components, n_features)
    intercept_visible, intercept_hidden = rng.normal(size=8), rng.normal(size=4)
    model = from_zero_one(components.T, intercept_visible, intercept_hidden)
    expected = zero_one_log_probabilities(components.T, intercept_visible, intercept_hidden)
    assert np.allclose(log_probabilities_exact(model), expected, rtol=0, atol=1e-12)
    back = to_zero_one(model)
    assert np.allclose(back["W"], components.T, atol=1e-15)
    assert np.allclose(back["a"], intercept_visible, atol=1e-15)
    assert np.allclose(back["b"], intercept_hidden, atol=1e-14)
    with pytest.raises(ValueError, match="do not form"):
        from_zero_one(components, intercept_visible, intercept_hidden)


@pytest.mark.parametrize("convention", ["pm1", "01"])
@pytest.mark.parametrize("which", ["random", "ising"])
def test_npz_round_trip_preserves_every_probability(tmp_path, convention, which):
    model = random_model(9, 7, 2) if which == "random" else ising_rbm(3, 2.269)
    path = tmp_path / f"model_{convention}.npz"
    save_npz(path, model, convention=convention)
    with np.load(path) as f:
        assert str(f["convention"]) == convention
        assert {"W", "a", "b", "convention"} <= set(f.files)
    loaded = load_npz(path)  # the file's own entry decides, whatever the argument's default
    assert np.allclose(
        log_probabilities_exact(loaded), log_probabilities_exact(model), rtol=0, atol=1e-12
    )
    if convention == "pm1":
        for key in "Wab":
            assert torch.equal(getattr(loaded, key), getattr(model, key))


def test_files_without_a_convention_entry_use_the_argument(tmp_path):
    model = random_model(6, 3, 3)
    path = tmp_path / "plain.npz"
    np.savez(path, **to_zero_one(model))
    loaded = load_npz(path, convention="01")
    assert np.allclose(log_probabilities_exact(loaded), log_probabilities_exact(model), atol=1e-12)
    misread = load_npz(path)  # read as ±1: a different model
    assert not np.allclose(log_probabilities_exact(misread), log_probabilities_exact(model))


def test_bad_files_and_conventions(tmp_path):
    model = random_model(4, 2, 4)
    with pytest.raises(ValueError, match="Unknown convention"):
        save_npz(tmp_path / "x.npz", model, convention="binary")
    np.savez(tmp_path / "missing.npz", W=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="lacks the arrays"):
        load_npz(tmp_path / "missing.npz")
    np.savez(tmp_path / "shape.npz", W=np.zeros((2, 2)), a=np.zeros(3), b=np.zeros(2))
    with pytest.raises(ValueError, match="do not match"):
        load_npz(tmp_path / "shape.npz")

"""``evaluate`` and ``sample`` print and store the model's thermodynamics against the data and
the exact Ising values; checked here against an independent computation: a small RBM (L = 4,
five hidden units) whose distribution p(v) ∝ exp(a·v) Π_j (1 + exp(b_j + (Wᵀv)_j)) is
enumerated over all 2¹⁶ visible configurations, with tolerances from the stored error bars."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from engines.exact import energy_per_spin
from engines.rbm import RBM, save_npz
from main import main

L, T = 4, 2.269
KEYS = ("e", "m", "abs_m", "c", "chi", "binder")


def enumerated(W: np.ndarray, a: np.ndarray, b: np.ndarray, T: float) -> dict[str, float]:
    """Exact per-spin observables of the model by enumerating every visible configuration."""
    n = L * L
    codes = np.arange(2**n)[:, None]
    v = np.where((codes >> np.arange(n)) & 1, 1.0, -1.0)
    log_p = v @ a + np.logaddexp(0.0, b + v @ W).sum(1)
    log_z = np.logaddexp.reduce(log_p)
    p = np.exp(log_p - log_z)
    s = v.reshape(-1, L, L)
    e = -(s * np.roll(s, 1, 1) + s * np.roll(s, 1, 2)).sum((1, 2)) / n
    m = v.mean(1)
    mean = lambda x: float(p @ x)  # noqa: E731
    m2, m4, abs_m = mean(m**2), mean(m**4), mean(np.abs(m))
    return {
        "e": mean(e),
        "c": n * (mean(e**2) - mean(e) ** 2) / T**2,
        "m": mean(m),
        "abs_m": abs_m,
        "chi": n * (m2 - abs_m**2) / T,
        "binder": 1 - m4 / (3 * m2**2),
        "log_z": float(log_z),
    }


@pytest.fixture
def imported(session, tmp_path):
    rng = np.random.default_rng(11)
    W = rng.normal(0.0, 0.35, (L * L, 5))
    W[:, 0] = 0.45  # one unit that orders the lattice: a nonzero ⟨|m|⟩ and a real χ
    model = RBM(W, rng.normal(0, 0.05, L * L), rng.normal(-1.0, 0.2, 5), dtype=None)
    npz = tmp_path / "small.npz"
    save_npz(npz, model)
    assert main(["import-rbm", str(session), str(npz), "--size", str(L)]) == 0
    params = model.to_numpy()
    return session, enumerated(*(params[k].astype(np.float64) for k in "Wab"), T)


def attributes(path, group: str) -> dict:
    with h5py.File(path, "r") as f:
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f[group].attrs.items()}


def test_evaluate_matches_the_enumerated_model_and_the_exact_ising_values(imported, capsys):
    session, truth = imported
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                str(session),
                "--rbm",
                "rbm-001",
                "--temperature",
                str(T),
                "--samples",
                "20000",
                "--chains",
                "32",
                "--burn-in",
                "200",
                "--thin",
                "2",
                "--seed",
                "5",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    for label in ("<m>", "<|m|>", "chi", "U4", "Δ/σ exact"):
        assert label in out
    ev = attributes(session, "runs/rbm-001/evaluation")
    assert ev["log_z_method"] == "exact" and ev["log_z"] == pytest.approx(truth["log_z"], 1e-6)
    for key in KEYS:
        sigma = float(ev[f"model_{key}_error"])
        assert 0 < sigma < 0.1, key
        assert abs(float(ev[f"model_{key}"]) - truth[key]) < 4.5 * sigma, (key, ev, truth)
    assert float(ev["exact_e"]) == pytest.approx(float(energy_per_spin(L, T)), 1e-9)
    z = (float(ev["model_e"]) - float(ev["exact_e"])) / float(ev["model_e_error"])
    assert float(ev["z_exact_e"]) == pytest.approx(z, 1e-9)
    assert "nll" not in ev and "data_e" not in ev  # an imported RBM has no data
    assert float(ev["tau_int_e"]) >= 1


def test_evaluate_without_a_temperature_shows_what_needs_none(imported, capsys):
    session, truth = imported
    assert (
        main(
            [
                "evaluate",
                str(session),
                "--rbm",
                "rbm-001",
                "--samples",
                "2000",
                "--burn-in",
                "100",
                "--thin",
                "2",
            ]
        )
        == 0
    )
    assert "need --temperature" in capsys.readouterr().out
    ev = attributes(session, "runs/rbm-001/evaluation")
    assert "model_e" in ev and "model_binder" in ev
    assert "model_c" not in ev and "exact_e" not in ev and "temperature" not in ev


def test_evaluate_with_data_adds_the_data_and_its_nll(imported, capsys):
    session, _ = imported
    assert (
        main(
            [
                "evaluate",
                str(session),
                "--rbm",
                "rbm-001",
                "--data",
                "ising-001",
                "--samples",
                "2000",
                "--burn-in",
                "100",
                "--thin",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "NLL of ising-001" in out and "effective couplings" in out
    ev = attributes(session, "runs/rbm-001/evaluation")
    assert float(ev["temperature"]) == pytest.approx(2.269)
    for key in KEYS:
        assert f"data_{key}" in ev and f"z_data_{key}" in ev and f"exact_{key}" in ev


def test_sample_prints_and_stores_the_same_comparison(imported, capsys):
    session, truth = imported
    capsys.readouterr()
    assert (
        main(
            [
                "sample",
                str(session),
                "--rbm",
                "rbm-001",
                "--temperature",
                str(T),
                "--samples",
                "8000",
                "--burn-in",
                "200",
                "--thin",
                "2",
                "--seed",
                "2",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "<|m|>" in out and "Δ/σ exact" in out
    results = attributes(session, "runs/rbm-samples-001/results")
    for key in ("e", "abs_m", "chi"):
        sigma = float(results[f"model_{key}_error"])
        assert abs(float(results[f"model_{key}"]) - truth[key]) < 4.5 * sigma, key

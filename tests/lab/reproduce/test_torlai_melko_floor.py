"""The Torlai–Melko reproduction's maximum-likelihood row: the fitted models are stored in the
session, and the figures in the results are those models' exact observables, recomputed here from
the stored parameters by an independent route (visible-layer sampling is too noisy, so the check is
the exact hidden-layer sum of engines.rbm.thermodynamics, fed only with what the file holds)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data import load_session
from engines.rbm import RBM
from engines.rbm.symmetry import check_symmetric
from engines.rbm.thermodynamics import exact_model_thermodynamics
from main import main


def test_quick_run_stores_the_ml_models_and_their_exact_observables(tmp_path, capsys):
    session = tmp_path / "S.h5"
    argv = ["reproduce", "torlai-melko", str(session), "--quick", "--quiet"]
    assert main([*argv, "--set", "ml_floor_iterations=5"]) == 0
    out = capsys.readouterr().out
    assert "the maximum-likelihood RBM itself (exact fit)" in out
    run = next(r for r in load_session(str(session)).runs.values() if r.kind == "reproduction")
    folder = session.with_name("S.h5.reports") / run.id
    results = json.loads((folder / "results.json").read_text())
    for T in (2.269, 3.0):
        W, a, b = (np.asarray(run.datasets[f"models/T{T:g}_nh16_ml/{k}"]) for k in "Wab")
        model = RBM(W, a, b)
        check_symmetric(model, "hidden-spins")
        exact = exact_model_thermodynamics(model, T)
        for k in ("e", "abs_m", "c", "chi"):
            stored = results["results"][f"ml16_T{T:g}_{k}"]
            assert stored == pytest.approx(exact[k], rel=1e-9), k
        assert results["results"][f"ml16_T{T:g}_max_gradient"] > 0


def test_the_floor_can_be_fitted_in_the_unconstrained_family(tmp_path, capsys):
    session = tmp_path / "S.h5"
    argv = ["reproduce", "torlai-melko", str(session), "--quick", "--quiet"]
    overrides = ["temperatures=[3.0]", 'trainer={"epochs": 2}', "ml_floor_iterations=5"]
    settings = [part for o in [*overrides, "ml_floor_symmetry=none"] for part in ("--set", o)]
    assert main([*argv, *settings]) == 0
    assert "unconstrained RBM" in capsys.readouterr().out
    run = next(r for r in load_session(str(session)).runs.values() if r.kind == "reproduction")
    W, a, b = (np.asarray(run.datasets[f"models/T3_nh16_ml/{k}"]) for k in "Wab")
    with pytest.raises(ValueError):  # a free a and b: not the symmetric family's a = -W·1/2
        check_symmetric(RBM(W, a, b), "hidden-spins")
    folder = session.with_name("S.h5.reports") / run.id
    stored = json.loads((folder / "results.json").read_text())["results"]["ml16_T3_e"]
    assert stored == pytest.approx(exact_model_thermodynamics(RBM(W, a, b), 3.0)["e"], rel=1e-9)

"""Combe §4.1's maximum-likelihood row: the block picture it starts from, and the stored fits
checked against an independent route (the exact NLL from every one of the 2^16 visible states'
probabilities, not the fit's sum over the hidden layer; the locality recomputed from the stored
weights)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from data import load_session
from engines.rbm import RBM, log_probabilities_exact
from engines.rg import matched_locality
from lab.reproduce.locality import block_picture
from main import main


def test_the_block_picture_is_one_unit_per_block():
    W = block_picture(4, 2)
    assert W.shape == (16, 4)
    fields = W.T.reshape(4, 4, 4)
    for k, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        expected = np.zeros((4, 4))
        expected[2 * i : 2 * i + 2, 2 * j : 2 * j + 2] = 1
        np.testing.assert_array_equal(fields[k], expected)
    loc = matched_locality(W, 4, 2)
    assert loc["blocks_covered"] and loc["mean_matched_share"] == 1.0


def test_quick_run_stores_the_fits_and_their_exact_likelihoods(tmp_path, capsys):
    session = tmp_path / "S.h5"
    argv = ["reproduce", "combe-4.1", str(session), "--quick", "--quiet"]
    assert main([*argv, "--set", "ml_fits=2", "--set", "ml_iterations=40"]) == 0
    assert "…and that is what maximum likelihood learns" in capsys.readouterr().out
    record = load_session(str(session))
    run = next(r for r in record.runs.values() if r.kind == "reproduction")
    data = np.asarray(record.runs[run.inputs[0]].datasets["samples"]).reshape(-1, 16)
    results = json.loads((session.with_name("S.h5.reports") / run.id / "results.json").read_text())
    results = results["results"]
    assert results["ml_fits"] == 3  # the block picture and two random starts
    index = (((data + 1) // 2).astype(np.int64) << np.arange(16)).sum(1)
    nlls, covered = [], 0
    for k in range(3):
        W, a, b = (np.asarray(run.datasets[f"models/ml_{k}/{x}"]) for x in "Wab")
        nlls.append(-log_probabilities_exact(RBM(W, a, b))[index].mean())
        covered += matched_locality(W, 4, 2)["blocks_covered"]
        if k == 0:
            assert results["ml_block_start_matched_share"] == pytest.approx(
                matched_locality(W, 4, 2)["mean_matched_share"], rel=1e-12
            )
    assert results["ml_block_start_nll"] == pytest.approx(nlls[0], abs=1e-8)
    assert results["ml_best_nll"] == pytest.approx(min(nlls), abs=1e-8)
    assert results["ml_fits_blocks_covered"] == covered

"""``reproduce NAME S.h5 --quick`` end to end for every experiment: the session's runs, the
report folder, the stored table and figures read back through the view, and bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from data import load_session
from lab.core.kinds import view_of
from lab.reproduce.experiment import experiments
from main import main

QUICK = sorted(experiments())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", QUICK)
def test_quick_reproduction_end_to_end(name, tmp_path, capsys):
    session = tmp_path / "S.h5"
    assert main(["reproduce", name, str(session), "--quick", "--quiet", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "| published claim | Monge Lab | verdict |" in out
    record = load_session(str(session))
    reproductions = [r for r in record.runs.values() if r.kind == "reproduction"]
    assert len(reproductions) == 1
    run = reproductions[0]
    view = view_of(run)
    assert view.experiment == name and view.quick and run.seed == 3
    assert view.rows and all(
        row.verdict in ("reproduced", "partly", "not reproduced") for row in view.rows
    )
    for row in view.rows:
        assert row.measured.replace("|", "\\|") in out  # the printed table is the stored one
    data = [record.runs[i] for i in run.inputs]
    assert data and all(r.kind == "ising" and r.datasets["samples"].ndim == 3 for r in data)
    folder = session.with_name("S.h5.reports") / run.id
    readme = (folder / "README.md").read_text()
    assert all(row.claim.replace("|", "\\|") in readme for row in view.rows)
    results = json.loads((folder / "results.json").read_text())
    assert results["experiment"] == name and results["seed"] == 3
    for figure in view.figures:
        assert (folder / f"{figure.name}.png").stat().st_size > 1000
        assert "<svg" in (folder / f"{figure.name}.svg").read_text()[:2000]
        assert figure.panels


def test_same_seed_same_table(tmp_path, capsys):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    for path in (a, b):
        small = ["--set", "epochs=20", "--set", "seeds=2", "--set", "n_samples=500"]
        assert main(["reproduce", "combe-4.1", str(path), "--quick", "--quiet", *small]) == 0
    rows = [
        view_of(
            next(r for r in load_session(str(p)).runs.values() if r.kind == "reproduction")
        ).rows
        for p in (a, b)
    ]
    assert [r.measured for r in rows[0]] == [r.measured for r in rows[1]]


def test_list_names_every_experiment(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in QUICK)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["no-such-paper"], "unknown reproduction"),
        (["combe-4.1", "--set", "nonsense=1"], "unknown setting"),
        (["combe-4.1", "--set", "epochs=many"], "expects a value"),
        (["combe-4.1", "--set", "epochs=0"], "epochs"),
        (["combe-4.1", "--set", "l1=-1"], "l1"),
        (["combe-4.1", "--seed", "-4"], "seed"),
        (["combe-4.1", "--set", "temperature=0"], "temperature"),
        (["combe-4.1", "--set", "ml_fits=-1"], "ml_fits"),
        (["combe-4.1", "--set", "ml_fits=true"], "ml_fits"),
        (["combe-4.1", "--set", "ml_iterations=0"], "ml_iterations"),
        (["torlai-melko", "--set", "ml_floor=[40]"], "ml_floor"),
        (["torlai-melko", "--set", "hidden=[]"], "hidden"),
        (["torlai-melko", "--set", "ml_floor_iterations=0"], "ml_floor_iterations"),
        (["torlai-melko", "--set", "ml_floor_symmetry=visible"], "ml_floor_symmetry"),
    ],
)
def test_bad_input_exits_2_and_leaves_the_session_unchanged(argv, fragment, tmp_path, capsys):
    session = tmp_path / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(session),
                "--size",
                "4",
                "--temperature",
                "3",
                "--samples",
                "10",
                "--quiet",
            ]
        )
        == 0
    )
    before = digest(session)
    capsys.readouterr()
    name, *rest = argv
    assert main(["reproduce", name, str(session), "--quick", *rest]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and fragment in err[0], err
    assert digest(session) == before
    assert not session.with_name("S.h5.reports").exists()

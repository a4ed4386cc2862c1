"""Export of runs: .npz round trip, CSV of the time series, and the ``export`` command."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from data import RunRecord, SessionRecord, load_session, read_run, save_session
from lab.session.export import export_csv, export_npz, npz_key, time_series
from main import main


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A session with one recorded Ising run (spins stored bit-packed in the file)."""
    path = tmp_path_factory.mktemp("export") / "S.h5"
    argv = [
        "simulate",
        "--out",
        str(path),
        "--quiet",
        "--size",
        "6",
        "--temperature",
        "2.5",
        "--algorithm",
        "heatbath",
        "--samples",
        "25",
        "--thermalize",
        "10",
        "--interval",
        "1",
        "--seed",
        "3",
    ]
    assert main(argv) == 0
    return path


def read_csv(path):
    with open(path, encoding="utf-8") as handle:
        comment = handle.readline()
        rows = list(csv.reader(handle))
    return comment, rows[0], rows[1:]


def test_npz_round_trip_is_exact_and_spins_come_back_as_int8(session, tmp_path):
    run = read_run(session, "ising-001")
    out = export_npz(run, tmp_path / "run", session)  # no suffix added by numpy
    assert out == tmp_path / "run"
    with np.load(out) as npz:
        keys = set(npz.files)
        assert keys == {npz_key(name) for name in run.datasets} | {"meta"}
        for name, array in run.datasets.items():
            back = npz[npz_key(name)]
            assert back.dtype == array.dtype and back.shape == array.shape
            assert np.array_equal(back, array, equal_nan=back.dtype.kind == "f")
        samples = npz["samples"]
        meta = json.loads(str(npz["meta"]))
    assert samples.dtype == np.int8 and samples.shape == (25, 6, 6)
    assert set(np.unique(samples)) == {-1, 1}
    assert "correlation__C" in keys
    assert meta["id"] == "ising-001" and meta["kind"] == "ising" and meta["seed"] == 3
    assert meta["params"]["size"] == 6 and meta["session"] == str(session)
    assert meta["status"] == run.status and meta["created"] == run.created
    assert meta["results"]["n_samples"] == 25
    assert meta["dataset_attrs"]["energy"]["units"] == "J per spin"


def test_npz_refuses_colliding_names(tmp_path):
    run = RunRecord(
        id="x",
        kind="other",
        status="finished",
        seed=None,
        params={},
        datasets={"a/b": np.zeros(2), "a__b": np.ones(2)},
    )
    with pytest.raises(ValueError, match="already taken"):
        export_npz(run, tmp_path / "x.npz")


def test_ising_csv_has_units_and_the_recorded_values_exactly(session, tmp_path):
    run = read_run(session, "ising-001")
    out = export_csv(run, tmp_path / "run.csv", "S.h5")
    comment, header, rows = read_csv(out)
    assert comment == "# session=S.h5, run=ising-001, kind=ising\n"
    assert header == ["sweep [sweeps]", "energy [J per spin]", "magnetization [per spin]"]
    assert len(rows) == 25
    table = np.array(rows, dtype=float)
    assert np.array_equal(table[:, 0], run.datasets["sweep"])
    assert np.array_equal(table[:, 1], run.datasets["energy"])  # 17 digits: exact round trip
    assert np.array_equal(table[:, 2], run.datasets["magnetization"])
    assert all("." not in row[0] for row in rows)  # integers stay integers


def test_time_series_rule_on_other_kinds():
    history = {
        f"history/{k}": np.arange(4, dtype=float) * i
        for i, k in enumerate(("epoch", "nll_train", "reconstruction_mismatch"))
    }
    rbm = RunRecord(
        id="rbm-001",
        kind="rbm",
        status="finished",
        seed=0,
        params={},
        datasets={
            "W": np.zeros((4, 4)),
            "checkpoints/epoch": np.arange(4),
            "checkpoints/W": np.zeros((4, 4, 4)),
            **history,
        },
        dataset_attrs={
            "checkpoints/epoch": {"axes": "checkpoint"},
            **{name: {"axes": "epoch"} for name in history},
        },
    )
    names, columns = time_series(rbm)
    # W and checkpoints/epoch have length 4 too, but are no per-epoch series
    assert names == ["history/epoch", "history/nll_train", "history/reconstruction_mismatch"]
    assert np.array_equal(columns[1], history["history/nll_train"])

    curves = np.array([[2.0, 2.5], [3.0, 3.5], [4.0, 4.5]])
    flow = RunRecord(
        id="rg-flow-001",
        kind="rg-flow",
        status="finished",
        seed=0,
        params={},
        datasets={"temperature": np.array([2.0, 2.2, 2.4]), "effective_temperature": curves},
        dataset_attrs={
            "effective_temperature": {"units": "T in units of J", "axes": "temperature, level"}
        },
    )
    names, columns = time_series(flow)
    assert names == [
        "temperature",
        "effective_temperature[level 0]",
        "effective_temperature[level 1]",
    ]
    assert np.array_equal(columns[2], curves[:, 1])

    other = RunRecord(
        id="o",
        kind="unknown",
        status="finished",
        seed=None,
        params={},
        datasets={
            "a": np.arange(3),
            "b": np.ones(5),
            "c": np.zeros(5),
            "s": np.array(["x", "y", "z", "w", "v"]),
        },
    )
    assert time_series(other)[0] == ["b", "c"]  # the length most 1-D numeric datasets share
    empty = RunRecord(
        id="e", kind="rbm", status="failed", seed=None, params={}, datasets={"W": np.zeros((2, 2))}
    )
    assert time_series(empty) == ([], [])


def test_export_command_writes_both_files(session, tmp_path, capsys):
    npz, table = tmp_path / "out.npz", tmp_path / "out.csv"
    before = session.read_bytes()
    assert main(["export", str(session), "ising-001", "--npz", str(npz), "--csv", str(table)]) == 0
    assert session.read_bytes() == before  # the session is only read
    run = load_session(session).runs["ising-001"]
    with np.load(npz) as f:
        assert np.array_equal(f["samples"], run.datasets["samples"])
    assert len(read_csv(table)[2]) == 25
    assert "ising-001" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv_tail, message",
    [
        (["ising-001"], "nothing to do"),
        (["nope", "--npz", "{tmp}/a.npz"], "no run 'nope'"),
        (["ising-001", "--csv", "{tmp}/missing-dir/a.csv"], "No such file"),
        (["ising-001", "--npz", "{tmp}"], "Is a directory"),
    ],
)
def test_export_command_bad_input_is_one_line_and_exit_2(
    session, tmp_path, capsys, argv_tail, message
):
    argv = ["export", str(session), *(a.format(tmp=tmp_path) for a in argv_tail)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_export_command_missing_session_and_run_without_series(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none.h5"), "r", "--npz", "x.npz"]) == 2
    assert "does not exist" in capsys.readouterr().err
    path = tmp_path / "T.h5"
    run = RunRecord(
        id="rbm-001",
        kind="rbm",
        status="failed",
        seed=1,
        params={},
        datasets={"W": np.zeros((4, 2))},
    )
    save_session(SessionRecord(runs={"rbm-001": run}, created="2026-01-01T00:00:00Z"), path)
    assert main(["export", str(path), "rbm-001", "--csv", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no time series" in err
    assert not (tmp_path / "t.csv").exists()


@pytest.mark.parametrize("option", ["--npz", "--csv"])
@pytest.mark.parametrize("spelling", ["same", "relative", "link"])
def test_export_never_writes_over_the_session_itself(
    session, tmp_path, capsys, monkeypatch, option, spelling
):
    before = session.read_bytes()
    if spelling == "same":
        target = str(session)
    elif spelling == "relative":
        monkeypatch.chdir(session.parent)
        target = f"./{session.name}"
    else:
        target = str(tmp_path / "link.h5")
        (tmp_path / "link.h5").symlink_to(session)
    assert main(["export", str(session), "ising-001", option, target]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is the session file itself" in err
    assert session.read_bytes() == before


def test_export_refuses_one_file_for_both_outputs(session, tmp_path, capsys):
    target = tmp_path / "both.npz"
    assert (
        main(["export", str(session), "ising-001", "--npz", str(target), "--csv", str(target)]) == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "same file" in err
    assert not target.exists()


def test_the_library_functions_refuse_the_session_too(session):
    run = load_session(session).runs["ising-001"]
    before = session.read_bytes()
    for write in (export_npz, export_csv):
        with pytest.raises(ValueError, match="session file itself"):
            write(run, session, session)
    assert session.read_bytes() == before

"""Replacing runs of a session file in place of the old ones, and reading a single run.

``replace_runs`` must write each new run where the old one was, leave every other object's stored
content byte for byte (checked on the stored chunks, types and attributes, not on decoded values
only), be atomic like ``add_runs``, and not let the file grow from replacement to replacement.
``read_run`` must return exactly what ``load_session`` returns for that run, reading only it.
"""

from __future__ import annotations

import os
import stat

import h5py
import numpy as np
import pytest

from data import (
    SessionFileError,
    SessionRecord,
    load_session,
    migrations,
    read_header,
    read_run,
    read_run_ids,
    replace_runs,
    save_session,
)
from data.schema import SCHEMA_VERSION
from tests.data.sessions import (
    BoomError,
    assert_sessions_identical,
    fail_on_call,
    full_session,
    make_run,
    migrate_0_to_1,
    stored_content,
    temp_leftovers,
    write_schema_0,
)


def contents(path, *names: str) -> dict:
    """``stored_content`` of the named objects (and of the root's attributes) of a file."""
    with h5py.File(path, "r") as f:
        out = {name: stored_content(f[name]) for name in names}
        out["/ attributes"] = stored_content(f)[0]
    return out


def new_ising(**changes):
    """A different ising-001: new status, datasets, results and groups."""
    fields = {
        "id": "ising-001",
        "kind": "ising",
        "status": "finished",
        "seed": 43,
        "params": {"size": 4, "temperature": 3.0},
        "datasets": {"energy": np.linspace(-2.0, -1.0, 7), "correlation/r": np.arange(3.0)},
        "dataset_attrs": {"energy": {"units": "J per spin"}},
        "results": {"e": -1.5, "e_error": 0.02},
        "groups": {
            "evaluation": {"log_z": 12.3, "log_z_error": 0.01, "log_z_method": "ais"},
            "evaluation/data-ising-001": {"nll": 0.5},
        },
        "finished": "2026-11-22T15:00:00Z",
    }
    fields.update(changes)
    return make_run(**fields)


# ---------------------------------------------------------------------------- the helper


def test_stored_content_sees_changed_bytes_types_attributes_and_filters(saved, tmp_path):
    path, _ = saved
    name = "runs/ising-001"
    before = contents(path, name)

    def changed(edit) -> bool:
        copy = tmp_path / "copy.h5"
        copy.write_bytes(path.read_bytes())
        with h5py.File(copy, "r+") as f:
            edit(f[name])
        return contents(copy, name) != before

    def rewrite_energy_without_checksum(run):
        data = run["energy"][()]
        del run["energy"]
        run.create_dataset("energy", data=data, chunks=True, maxshape=(None,))

    assert contents(path, name) == before
    assert changed(lambda run: run["energy"].__setitem__(0, 0.0))
    assert changed(lambda run: run["samples"].__setitem__((0, 0), ~run["samples"][0, 0]))
    assert changed(lambda run: run.attrs.__setitem__("size", np.int32(8)))  # same value, type
    assert changed(lambda run: run["results"].attrs.__setitem__("e", -1.42))
    assert changed(rewrite_energy_without_checksum)


# ---------------------------------------------------------------------------- replace_runs


def test_replace_runs_replaces_in_place_and_keeps_everything_else(saved):
    path, record = saved
    others = ["runs/rbm-001", "runs/geometry_2.b", "ui", "log"]
    before = contents(path, *others)
    replacement = new_ising()
    replace_runs(path, [replacement])
    assert read_run_ids(path) == list(record.runs)  # the display order is kept
    expected = full_session()
    expected.runs["ising-001"] = replacement
    assert_sessions_identical(load_session(path), expected)
    assert contents(path, *others) == before
    with h5py.File(path, "r") as f:  # nothing of the old group is left: no old datasets
        assert "samples" not in f["runs/ising-001"]
        assert list(f["runs/ising-001"]) == ["results", "energy", "correlation", "evaluation"]


def test_replace_runs_replaces_several_runs_and_appends_the_log(saved):
    path, record = saved
    before = contents(path, "runs/rbm-001", "ui")
    last = make_run(id="geometry_2.b", status="finished", groups={"cone": {"rank": 3}})
    replace_runs(path, [last, new_ising()], log=["replaced two", "x" * 1000])
    loaded = load_session(path)
    assert list(loaded.runs) == list(record.runs)
    assert loaded.runs["geometry_2.b"] == last and loaded.runs["ising-001"] == new_ising()
    assert loaded.log == [*record.log, "replaced two", "x" * 1000]
    assert contents(path, "runs/rbm-001", "ui") == before


def test_replace_runs_with_only_log_lines_changes_only_the_log(saved):
    path, record = saved
    before = contents(path, "runs", "ui")
    replace_runs(path, [], log=["just a line"])
    assert load_session(path).log == [*record.log, "just a line"]
    assert contents(path, "runs", "ui") == before


def test_replace_runs_refuses_a_missing_id_and_leaves_the_file_unchanged(saved):
    path, _ = saved
    before = path.read_bytes()
    with pytest.raises(ValueError, match=r"no run 'ising-999' in .*S\.h5 to replace"):
        replace_runs(path, [new_ising(), new_ising(id="ising-999")])
    with pytest.raises(ValueError, match="more than once"):
        replace_runs(path, [new_ising(), new_ising()])
    with pytest.raises(ValueError, match="status"):
        replace_runs(path, [new_ising(status="done")])
    with pytest.raises(ValueError, match="log line"):
        replace_runs(path, [new_ising()], log=[3])
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


def test_replace_runs_needs_an_existing_session(tmp_path):
    with pytest.raises(SessionFileError, match="does not exist"):
        replace_runs(tmp_path / "S.h5", [new_ising()])
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    before = foreign.read_bytes()
    with pytest.raises(SessionFileError, match="not a Monge Lab session"):
        replace_runs(foreign, [new_ising()])
    assert foreign.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["foreign.h5"]


@pytest.mark.parametrize(
    ("method", "n"), [("create_dataset", 1), ("create_dataset", 2), ("copy", 1), ("copy", 3)]
)
def test_failed_replace_runs_leaves_old_file_byte_identical(saved, monkeypatch, method, n):
    path, _ = saved
    before = path.read_bytes()
    fail_on_call(monkeypatch, n, method=method)
    with pytest.raises(SessionFileError, match=r"could not be updated \(BoomError: disk on fire"):
        replace_runs(path, [new_ising()], log=["never written"])
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


def test_interrupted_replace_runs_leaves_old_file_and_no_temp(saved, monkeypatch):
    path, _ = saved
    before = path.read_bytes()
    fail_on_call(monkeypatch, 2, KeyboardInterrupt(), method="copy")
    with pytest.raises(KeyboardInterrupt):
        replace_runs(path, [new_ising()])
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


def test_failed_rename_in_replace_runs_leaves_old_file_and_no_temp(saved, monkeypatch):
    path, _ = saved
    before = path.read_bytes()

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(SessionFileError, match="No space left on device"):
        replace_runs(path, [new_ising()])
    assert path.read_bytes() == before
    assert temp_leftovers(path.parent) == []


def test_replace_runs_keeps_permissions_and_symlinks(saved, tmp_path):
    path, _ = saved
    path.chmod(0o640)
    link = tmp_path / "link.h5"
    link.symlink_to(path.name)
    replace_runs(link, [new_ising()])
    assert link.is_symlink()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert read_run(path, "ising-001") == new_ising()


def test_repeated_replacements_do_not_grow_the_file(saved, tmp_path):
    # Deleting groups inside an HDF5 file leaves their space unused once it is closed; the
    # replacement must give a file as compact as the same session saved afresh.
    path, _ = saved
    for n in range(5, 50, 11):  # a growing run (measured: the in-place variant grew ~35%)
        samples = np.ones((n, 64, 64), np.int8)
        replace_runs(
            path, [new_ising(params={"size": 64}, datasets={"samples": samples}, dataset_attrs={})]
        )
    replace_runs(path, [new_ising()])
    fresh = tmp_path / "fresh.h5"
    save_session(load_session(path), fresh)
    assert os.path.getsize(path) <= os.path.getsize(fresh)
    size = os.path.getsize(path)
    replace_runs(path, [new_ising()])
    assert os.path.getsize(path) == size


def test_replace_runs_upgrades_an_older_file(tmp_path, monkeypatch):
    path = tmp_path / "old.h5"
    record = full_session()
    write_schema_0(path, record)
    monkeypatch.setitem(migrations.MIGRATIONS, 0, migrate_0_to_1)
    replace_runs(path, [new_ising()], log=["replaced"])
    assert read_header(path)["schema_version"] == SCHEMA_VERSION
    expected = full_session()
    expected.runs["ising-001"] = new_ising()
    expected.log.append("replaced")
    assert_sessions_identical(load_session(path), expected)


# ---------------------------------------------------------------------------- read_run


def test_read_run_reads_each_run_exactly(saved):
    path, record = saved
    loaded = load_session(path)
    for run_id, run in record.runs.items():
        one = read_run(path, run_id)
        assert one == run
        assert_sessions_identical(
            SessionRecord(runs={run_id: one}), SessionRecord(runs={run_id: loaded.runs[run_id]})
        )
    assert read_run(str(path), "rbm-001") == record.runs["rbm-001"]


def test_read_run_of_a_missing_or_invalid_id_is_a_value_error(saved):
    path, _ = saved
    with pytest.raises(ValueError, match=r"^no run 'nope' in .*S\.h5$"):
        read_run(path, "nope")
    with pytest.raises(ValueError, match="not a valid name"):
        read_run(path, "rbm-001/checkpoints")  # a path into the file, not a run id
    with pytest.raises(ValueError, match="not a valid name"):
        read_run(path, "..")


def test_read_run_of_a_bad_file_is_a_session_file_error(tmp_path):
    with pytest.raises(SessionFileError, match="does not exist"):
        read_run(tmp_path / "missing.h5", "r-1")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(SessionFileError, match="not an HDF5 file"):
        read_run(tmp_path / "notes.txt", "r-1")
    future = tmp_path / "future.h5"
    save_session(SessionRecord(runs={"r-1": make_run()}), future)
    with h5py.File(future, "r+") as f:
        f.attrs["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(SessionFileError, match="newer Monge Lab"):
        read_run(future, "r-1")


def _flip_first_chunk(path, dataset: str) -> None:
    with h5py.File(path, "r") as f:
        offset = f[dataset].id.get_chunk_info(0).byte_offset
    data = bytearray(path.read_bytes())
    data[offset + 3] ^= 0xFF
    path.write_bytes(bytes(data))


def test_read_run_detects_damage_in_its_run_only(saved):
    path, record = saved
    _flip_first_chunk(path, "runs/ising-001/energy")
    with pytest.raises(SessionFileError, match="damaged"):
        read_run(path, "ising-001")
    assert read_run(path, "rbm-001") == record.runs["rbm-001"]  # only one run is read


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (
            lambda f: f["runs/rbm-001"].attrs.__setitem__("status", "done"),
            r"holds invalid data \(run rbm-001: status 'done'",
        ),
        (lambda f: f["runs/rbm-001"].attrs.__delitem__("kind"), "rbm-001 has no 'kind' attribute"),
        (
            lambda f: f["runs/rbm-001/checkpoints"].attrs.__setitem__("note", 1),
            "'checkpoints' is also the folder of dataset",
        ),
        (
            lambda f: f["runs"].__setitem__("alias", h5py.SoftLink("/runs/rbm-001")),
            "unsupported SoftLink at /runs/alias",
        ),
        (lambda f: f.__delitem__("runs"), r"no /runs group"),
    ],
    ids=["invalid status", "no kind", "folder attributes", "soft link", "no runs"],
)
def test_read_run_of_an_invalid_run_is_a_session_file_error(saved, edit, fragment):
    path, _ = saved
    with h5py.File(path, "r+") as f:
        edit(f)
    run_id = "alias" if "alias" in fragment else "rbm-001"
    with pytest.raises(SessionFileError, match=fragment) as info:
        read_run(path, run_id)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_read_run_of_an_older_schema_migrates(tmp_path, monkeypatch):
    path = tmp_path / "old.h5"
    record = full_session()
    write_schema_0(path, record)
    before = path.read_bytes()
    monkeypatch.setitem(migrations.MIGRATIONS, 0, migrate_0_to_1)
    assert read_run(path, "rbm-001") == record.runs["rbm-001"]
    with pytest.raises(ValueError, match="no run 'nope'"):
        read_run(path, "nope")
    assert path.read_bytes() == before


def test_boom_error_is_what_the_failure_tests_inject():
    # The failure tests match "BoomError: disk on fire"; make sure that is what fail_on_call
    # raises, so a match cannot come from elsewhere.
    assert str(BoomError("disk on fire")) == "disk on fire"

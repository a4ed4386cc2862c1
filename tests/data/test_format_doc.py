"""docs/session-format.md matches the files: its h5py snippets run on a real session, its table
of run kinds is :data:`data.structure.RUN_KINDS`, and its example messages are the real ones."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from data import (
    SCHEMA_VERSION,
    RunRecord,
    SessionFileError,
    SessionRecord,
    load_session,
    save_session,
)
from data.structure import RUN_KINDS
from tests.data.test_frozen_files import SCHEMA2_FIXTURE

DOC = Path(__file__).resolve().parents[2] / "docs" / "session-format.md"


def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def snippets() -> list[str]:
    """The doc's ```python blocks that read a file (they begin with ``import h5py``)."""
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", doc(), flags=re.S | re.M)
    code = ["\n".join(line[len(indent) :] for line in body.splitlines()) for indent, body in blocks]
    return [c for c in code if c.startswith("import h5py")]


def ising_session(path: Path) -> None:
    rng = np.random.default_rng(3)
    s = rng.choice(np.array([-1, 1], np.int8), size=(50, 8, 8))
    e = -(s * (np.roll(s, -1, axis=2) + np.roll(s, -1, axis=1))).sum(axis=(1, 2)) / 64
    run = RunRecord(
        id="ising-001",
        kind="ising",
        status="finished",
        seed=1,
        params={"size": 8},
        datasets={"samples": s, "energy": e, "magnetization": s.mean(axis=(1, 2))},
        dataset_attrs={"energy": {"units": "J per spin"}},
    )
    save_session(SessionRecord(runs={run.id: run}, log=["created"]), path)


def test_the_h5py_snippets_run_on_a_session(tmp_path, monkeypatch, capsys):
    found = snippets()
    assert len(found) >= 2  # reading a session; reading spins
    ising_session(tmp_path / "S.h5")
    monkeypatch.chdir(tmp_path)
    for code in found:
        exec(compile(code, str(DOC), "exec"), {})
    out = capsys.readouterr().out
    assert "int8 (50, 8, 8) (50, 8, 8) 0 gzip True" in out


def test_the_table_of_run_kinds_is_the_code_s():
    rows = re.findall(
        r"^\| `([a-z-]+)` \| (.+?) \| (int8|real|integer) \| `([^`]+)` \| (.*?) \|$",
        doc(),
        flags=re.M,
    )
    table: dict[str, dict] = {}
    params: dict[str, dict] = {}
    for kind, names, dtype, axes, given in rows:
        for name in re.findall(r"`([^`]+)`", names):
            table.setdefault(kind, {})[name] = (dtype, axes)
        for symbol, param in re.findall(r"(\w+) = `(\w+)`", given):
            params.setdefault(kind, {})[symbol] = param
    assert table == {
        kind: {name: (rule.dtype, rule.axes) for name, rule in rules.datasets.items()}
        for kind, rules in RUN_KINDS.items()
    }
    assert params == {kind: rules.params for kind, rules in RUN_KINDS.items() if rules.params}


def test_the_root_attribute_table_gives_the_schema_written():
    assert f"layout version, `{SCHEMA_VERSION}` here" in doc()
    assert f"# The session file (schema {SCHEMA_VERSION})" in doc()


@pytest.mark.parametrize(
    "example",
    [
        "was written by a newer Monge Lab",
        "dataset 'energy' has shape (10,)",
        "spin_encoding is 'zip'",
    ],
)
def test_the_example_messages_are_real(tmp_path, example):
    line = next(line for line in doc().splitlines() if line.startswith("S.h5 ") and example in line)
    path = tmp_path / "S.h5"
    if "newer" in example:
        save_session(SessionRecord(), path)
        with h5py.File(path, "r+") as f:
            f.attrs["schema_version"] = np.int64(SCHEMA_VERSION + 1)
    elif "energy" in example:
        ising_session(path)
        with h5py.File(path, "r+") as f:  # 200 samples of 8×8, 10 energies
            run = f["runs/ising-001"]
            for name in ("samples", "energy", "magnetization"):
                del run[name]
            run["samples"] = np.ones((200, 8, 8), np.int8)
            run["energy"] = np.zeros(10)
    else:
        shutil.copyfile(SCHEMA2_FIXTURE, path)
        with h5py.File(path, "r+") as f:
            f["runs/ising-001/samples"].attrs["spin_encoding"] = b"zip"
    with pytest.raises(SessionFileError) as error:
        load_session(path)
    assert str(error.value).replace(str(path), "S.h5") == line

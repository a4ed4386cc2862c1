"""Every command that reads a session, given a damaged or structurally invalid one: one line on
stderr, exit code 2, no traceback, the file left as it was (the fuzz of the first-hour issue).

The damaged files are the bytes of a real session (an Ising run and an RBM trained on it) cut,
overwritten or corrupted at seeded places, plus files that are not sessions at all and files
whose checksums are valid but whose runs are not (float samples; too few energies; W and b of
different sizes). Commands run in-process (``main([...])``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from main import main

COMMANDS = {
    "inspect": lambda p: ["inspect", p],
    "recover": lambda p: ["recover", p],
    "export": lambda p: ["export", p, "ising-001", "--npz", p + ".npz"],
    "simulate": lambda p: [
        "simulate",
        "--out",
        p,
        "--size",
        "4",
        "--temperature",
        "2",
        "--samples",
        "5",
        "--quiet",
    ],
    "train": lambda p: ["train", p, "--data", "ising-001", "--epochs", "1", "--quiet"],
    "sample": lambda p: ["sample", p, "--rbm", "rbm-001", "--samples", "10"],
    "evaluate": lambda p: ["evaluate", p, "--rbm", "rbm-001", "--samples", "10"],
    "coarse-grain": lambda p: ["coarse-grain", p, "--data", "ising-001", "--levels", "1"],
    "geometry": lambda p: ["geometry", p, "--rbm", "rbm-001", "--quiet"],
    "reproduce": lambda p: ["reproduce", "combe-4.1", p, "--quick", "--quiet"],
}


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("good") / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "4",
                "--temperature",
                "2.5",
                "--algorithm",
                "wolff",
                "--samples",
                "100",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "train",
                str(path),
                "--data",
                "ising-001",
                "--hidden",
                "4",
                "--epochs",
                "1",
                "--seed",
                "1",
                "--quiet",
            ]
        )
        == 0
    )
    return path.read_bytes()


def damaged(good: bytes) -> dict[str, bytes | None]:
    rng = np.random.default_rng(11)
    cases: dict[str, bytes | None] = {
        "empty": b"",
        "text": b"my notes, not a session\n",
        "directory": None,
    }
    for fraction in (0.1, 0.5, 0.9):
        cases[f"cut at {fraction:.0%}"] = good[: int(len(good) * fraction)]
    for _ in range(4):
        data = bytearray(good)
        start = int(rng.integers(0, len(data) - 64))
        data[start : start + 64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
        cases[f"64 bytes overwritten at {start}"] = bytes(data)
    header = bytearray(good)
    header[:8] = b"\x00" * 8
    cases["no HDF5 signature"] = bytes(header)
    return cases


def invalid(good: bytes, tmp: Path) -> dict[str, bytes]:
    """Checksum-valid files whose runs break their kind's structure."""
    out = {}
    edits = {
        "float32 samples": lambda f: _replace(
            f, "runs/ising-001/samples", f["runs/ising-001/samples"][()].astype(np.float32)
        ),
        "10 energies for 100 samples": lambda f: _replace(f, "runs/ising-001/energy", np.zeros(10)),
        "W (10, 6) beside b (4,)": lambda f: _replace(f, "runs/rbm-001/W", np.zeros((10, 6))),
    }
    for name, edit in edits.items():
        path = tmp / f"{name}.h5"
        path.write_bytes(good)
        with h5py.File(path, "r+") as f:
            edit(f)
        out[name] = path.read_bytes()
    return out


def _replace(f: h5py.File, name: str, array: np.ndarray) -> None:
    del f[name]
    f.create_dataset(name, data=array, fletcher32=True)


def digest(path: Path) -> str:
    return "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_command_refuses_every_damaged_file_with_one_line(good, tmp_path, capsys):
    cases = {**damaged(good), **invalid(good, tmp_path)}
    refusals = 0
    for case, content in cases.items():
        for command, argv in COMMANDS.items():
            folder = tmp_path / f"{abs(hash((case, command)))}"
            folder.mkdir()
            path = folder / "S.h5"
            if content is None:
                path.mkdir()
            else:
                path.write_bytes(content)
            before = digest(path)
            capsys.readouterr()
            code = main(argv(str(path)))
            out = capsys.readouterr()
            assert "Traceback" not in out.err + out.out, (case, command, out.err)
            if code == 0:  # the damage missed everything this command reads
                continue
            assert code == 2, (case, command, code, out.err)
            lines = out.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("monge-lab: error:"), (
                case,
                command,
                lines,
            )
            assert digest(path) == before, (case, command)
            refusals += 1
            if os.path.exists(str(path) + ".npz"):
                os.remove(str(path) + ".npz")
    assert refusals >= len(cases) * len(COMMANDS) * 0.6  # most damage is seen by every command

"""Shared fixtures of the RBM command tests: a small real simulation (L = 4 at T_c, 600 Wolff
configurations; L = 6 at T = 2.5, 50) copied fresh for each test."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from main import main


@pytest.fixture(scope="module")
def base_session(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rbm") / "base.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(path),
                "--size",
                "4",
                "--temperature",
                "2.269",
                "--algorithm",
                "wolff",
                "--samples",
                "600",
                "--thermalize",
                "100",
                "--interval",
                "2",
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
                "simulate",
                "--out",
                str(path),
                "--size",
                "6",
                "--temperature",
                "2.5",
                "--algorithm",
                "wolff",
                "--samples",
                "50",
                "--thermalize",
                "50",
                "--seed",
                "2",
                "--quiet",
            ]
        )
        == 0
    )
    return path


@pytest.fixture
def session(base_session, tmp_path) -> Path:
    path = tmp_path / "S.h5"
    shutil.copy(base_session, path)
    return path


def digest(path: Path) -> str:
    """sha256 of the whole file: 'unchanged' means byte for byte."""
    return hashlib.sha256(path.read_bytes()).hexdigest()

"""``inspect`` shows, next to every estimate of a small lattice, the exact finite-L value:
Kaufman's e and c, and the transfer matrix's ⟨|m|⟩, χ and U₄ (L ≤ 8)."""

from __future__ import annotations

import re

import pytest

from engines import exact
from main import main


def test_inspect_shows_the_exact_moments_of_a_small_lattice(tmp_path, capsys):
    out = tmp_path / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(out),
                "--size",
                "4",
                "--temperature",
                "2.5",
                "--algorithm",
                "wolff",
                "--samples",
                "200",
                "--thermalize",
                "50",
                "--seed",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    moments = exact.magnetization_moments(4, 2.5)
    truth = {
        "e": exact.energy_per_spin(4, 2.5),
        "c": exact.specific_heat_per_spin(4, 2.5),
        "|m|": moments["abs_m"],
        "chi": moments["chi"],
        "U4": moments["binder"],
    }
    for label, value in truth.items():
        line = re.search(rf"^\s*{re.escape(label)} = .*\(exact finite-L: (\S+)\)$", text, re.M)
        assert line, f"no exact value shown for {label}:\n{text}"
        assert float(line.group(1)) == pytest.approx(float(value), abs=5e-5)


def test_inspect_shows_no_transfer_matrix_moments_beyond_l8(tmp_path, capsys):
    out = tmp_path / "S.h5"
    assert (
        main(
            [
                "simulate",
                "--out",
                str(out),
                "--size",
                "12",
                "--temperature",
                "3.0",
                "--algorithm",
                "wolff",
                "--samples",
                "20",
                "--thermalize",
                "10",
                "--seed",
                "3",
                "--quiet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert re.search(r"^\s*e = .*exact finite-L", text, re.M)  # Kaufman: every L
    assert not re.search(r"^\s*\|m\| = .*exact finite-L", text, re.M)

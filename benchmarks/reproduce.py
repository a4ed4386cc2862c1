"""The headline experiments, reproduced at full size: one JSON object with each report's table.

Run: ``python -m benchmarks.reproduce [--only NAME ...] [--quick] [--seed 0] [--set NAME:key=value]
[--out DIR]``; prints one JSON object (not a test; a full run takes long on 2 cores).

Each experiment runs exactly as a researcher would run it, ``python main.py reproduce NAME S.h5
--report DIR`` in a fresh interpreter, so the figures are those of the command and its report
(``DIR/<name>/README.md``, ``results.json`` and the figures as PNG and SVG). The reference each
row is judged against is in the row itself: the published claim and the exact value (Kaufman,
the transfer matrix) or the chance level, computed in the same run by the experiment. The JSON
gives, per experiment, the wall time, the verdicts, the measured results and the rows.

``--set NAME:key=value`` passes ``--set key=value`` to that experiment only (repeatable), e.g.
``--set torlai-melko:hidden=[64]``. :data:`VARIANTS` are the same experiments at the other
sizes the issue names (Mehta–Schwab at L = 16, the RBM flow at L = 8), run by default too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("torlai-melko", "mehta-schwab", "combe-4.1", "iso-shiba-yokoo", "gai-zhang")
VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    # the other sizes: Mehta–Schwab's 256–64–16 stack at L = 16 (learning rates by the
    # rule of engines/rg/reproductions.py, about 5 / n_visible per level), the RBM flow at L = 8
    "mehta-schwab-L16": ("mehta-schwab", ("size=16", "learning_rate=[0.02,0.08]")),
    "iso-shiba-yokoo-L8": ("iso-shiba-yokoo", ("size=8",)),
}
"""Extra runs of an experiment at other settings: name → (experiment, its --set overrides)."""


def run_one(name: str, folder: Path, quick: bool, seed: int, overrides: list[str]) -> dict:
    """Run one reproduction (or a :data:`VARIANTS` entry) in a fresh interpreter; its
    results.json plus wall time and status."""
    report = folder / name
    experiment, preset = VARIANTS.get(name, (name, ()))
    overrides = [*preset, *overrides]
    argv = [
        sys.executable,
        "main.py",
        "reproduce",
        experiment,
        str(folder / f"{name}.h5"),
        "--report",
        str(report),
        "--seed",
        str(seed),
        "--quiet",
    ]
    if quick:
        argv.append("--quick")
    for override in overrides:
        argv += ["--set", override]
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    entry: dict = {
        "command": " ".join(argv[1:]),
        "exit_code": result.returncode,
        "wall_seconds": round(seconds, 1),
        "report": str(report),
    }
    results_file = report / "results.json"
    if result.returncode != 0 or not results_file.exists():
        entry["stderr_tail"] = result.stderr.strip().splitlines()[-5:]
        return entry
    data = json.loads(results_file.read_text())
    entry.update(
        {
            "settings": data["settings"],
            "results": data["results"],
            "verdicts": [row["verdict"] for row in data["rows"]],
            "rows": data["rows"],
            "notes": data["notes"],
        }
    )
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        nargs="+",
        choices=[*NAMES, *VARIANTS],
        default=[*NAMES, *VARIANTS],
        help="the experiments (and variants at other settings) to run (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="the scaled-down versions")
    parser.add_argument("--seed", type=int, default=0, help="seed of every experiment")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE",
        help="an override for one experiment (repeatable)",
    )
    parser.add_argument(
        "--out", help="folder for the sessions and reports (default: a new temporary folder, kept)"
    )
    args = parser.parse_args(argv)
    overrides: dict[str, list[str]] = {name: [] for name in [*NAMES, *VARIANTS]}
    for item in args.set:
        name, sep, setting = item.partition(":")
        if not sep or name not in overrides or "=" not in setting:
            parser.error(
                f"--set wants NAME:key=value with NAME among {', '.join(overrides)}, got {item!r}"
            )
        overrides[name].append(setting)
    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="monge-reproduce-"))
    folder.mkdir(parents=True, exist_ok=True)
    out: dict = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "quick": args.quick,
        "seed": args.seed,
        "folder": str(folder),
        "experiments": {},
    }
    for name in args.only:
        out["experiments"][name] = run_one(name, folder, args.quick, args.seed, overrides[name])
        print(f"{name}: {out['experiments'][name]['wall_seconds']} s", file=sys.stderr)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long each command takes to start, against a bare ``python -c "import numpy, h5py"``.

Run: ``python -m benchmarks.startup [--repeats 7]``; prints one JSON object (not a test).

Every figure is the best of ``--repeats`` (7) fresh interpreters (wall clock, seconds), measured in
the same run as the reference, so the ratios are what to compare:

- ``help``: ``python main.py --help`` (target ≤ 3× the reference);
- ``inspect``: ``python main.py inspect S.h5`` on a small session (target ≤ 3×);
- ``simulate``: ``python main.py simulate`` of one 8×8 sample, numba's cache warm (target ≤ 6×);
- ``gui_import``: importing the main window (everything the window needs to show);
- ``modules``: which of PySide6, torch and ot each command loaded (``-X importtime`` would say
  how long each import took; this says whether it happened at all).

Before measuring, the project's bytecode is compiled (``compileall``), as ``pip install`` does for
an installed package and as Python does on first import unless ``PYTHONDONTWRITEBYTECODE`` is
set (it is on some machines, this one included: every module changed since the last compile
would then be compiled again in every process, which is not what a user's start costs).
Each figure also has its median (``median_seconds``), to show the spread on a shared machine.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = (
    "import sys, runpy; sys.argv = ['main.py', *sys.argv[1:]]\n"
    "try:\n    runpy.run_path('main.py', run_name='__main__')\n"
    "except SystemExit:\n    pass\n"
    "print('MODULES', sorted({m.split('.')[0] for m in sys.modules} & "
    "{'PySide6', 'torch', 'ot', 'numba', 'scipy'}), file=sys.stderr)"
)


MEDIANS: dict[str, float] = {}


def timed(argv: list[str], repeats: int, env: dict[str, str]) -> tuple[float, list[str]]:
    """Best wall time of ``argv`` over ``repeats`` runs, and the modules the last run loaded
    (the median goes to :data:`MEDIANS`, keyed by the argv's text)."""
    times, modules = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode not in (0,):
            raise RuntimeError(f"{argv} failed: {result.stderr[-500:]}")
        for line in result.stderr.splitlines():
            if line.startswith("MODULES"):
                modules = eval(line.split(" ", 1)[1])  # noqa: S307 — our own probe's list
    MEDIANS[" ".join(argv)] = statistics.median(times)
    return min(times), modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    for package in ("data", "engines", "lab", "widgets"):
        compileall.compile_dir(ROOT / package, quiet=1)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        session = str(Path(tmp) / "S.h5")
        simulate = [
            "simulate",
            "--out",
            session,
            "--size",
            "8",
            "--temperature",
            "2.5",
            "--samples",
            "1",
            "--thermalize",
            "1",
            "--quiet",
        ]
        subprocess.run(
            [python, "main.py", *simulate], cwd=ROOT, env=env, check=True, capture_output=True
        )  # fills numba's cache and the session
        reference_argv = [python, "-c", "import numpy, h5py"]
        reference, _ = timed(reference_argv, args.repeats, env)
        cases = {
            "help": ["--help"],
            "inspect": ["inspect", session],
            "simulate": simulate,
        }
        out: dict[str, object] = {
            "unit": "seconds, best of repeats",
            "repeats": args.repeats,
            "load_average": os.getloadavg(),
            "reference_import_numpy_h5py": reference,
            "reference_median": MEDIANS[" ".join(reference_argv)],
            "commands": {},
        }
        for name, argv in cases.items():
            seconds, modules = timed([python, "-c", PROBE, *argv], args.repeats, env)
            median = MEDIANS[" ".join([python, "-c", PROBE, *argv])]
            out["commands"][name] = {
                "seconds": seconds,
                "ratio": seconds / reference,
                "median_seconds": median,
                "median_ratio": median / out["reference_median"],
                "modules": modules,
            }
        seconds, modules = timed(
            [
                python,
                "-c",
                "import widgets.shell.main_window; import sys; print('MODULES', "
                "sorted({m.split('.')[0] for m in sys.modules} & {'PySide6', 'torch', 'ot'}), "
                "file=sys.stderr)",
            ],
            args.repeats,
            env,
        )
        out["commands"]["gui_import"] = {
            "seconds": seconds,
            "ratio": seconds / reference,
            "modules": modules,
        }
        out["targets"] = {"help": 3.0, "inspect": 3.0, "simulate": 6.0}
        out["met"] = {
            name: out["commands"][name]["ratio"] <= target
            for name, target in out["targets"].items()
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

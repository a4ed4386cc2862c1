"""How long each command takes to start, against a bare ``python -c "import numpy, h5py"``.

Run: ``python -m benchmarks.startup [--repeats 5]``; prints one JSON object (not a test).

Every figure is the best of ``--repeats`` fresh interpreters (wall clock, seconds), measured in
the same run as the reference, so the ratios are what to compare:

- ``help``: ``python main.py --help`` (target ≤ 3× the reference);
- ``inspect``: ``python main.py inspect S.h5`` on a small session (target ≤ 3×);
- ``simulate``: ``python main.py simulate`` of one 8×8 sample, numba's cache warm (target ≤ 6×);
- ``gui_import``: importing the main window (everything the window needs to show);
- ``modules``: which of PySide6, torch and ot each command loaded (``-X importtime`` would say
  how long each import took; this says whether it happened at all).
"""

from __future__ import annotations

import argparse
import json
import os
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


def timed(argv: list[str], repeats: int, env: dict[str, str]) -> tuple[float, list[str]]:
    """Best wall time of ``argv`` over ``repeats`` runs, and the modules the last run loaded."""
    best, modules = float("inf"), []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        if result.returncode not in (0,):
            raise RuntimeError(f"{argv} failed: {result.stderr[-500:]}")
        for line in result.stderr.splitlines():
            if line.startswith("MODULES"):
                modules = eval(line.split(" ", 1)[1])  # noqa: S307 — our own probe's list
    return best, modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
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
        reference, _ = timed([python, "-c", "import numpy, h5py"], args.repeats, env)
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
            "commands": {},
        }
        for name, argv in cases.items():
            seconds, modules = timed([python, "-c", PROBE, *argv], args.repeats, env)
            out["commands"][name] = {
                "seconds": seconds,
                "ratio": seconds / reference,
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

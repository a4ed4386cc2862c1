"""Kernels loaded by :class:`engines.kernel_cache.QuickLoadCache` are numba's own kernels.

Each check runs the kernels in fresh interpreters (the cache only matters in a new process):
one with numba's standard ``cache=True`` loading, one with the quick load, on the same seeds.
Their results must be bit-identical, and the quick process must not have loaded numba's compiler
registry (the CPU target context's ``_registries``, empty until its first ``refresh()``; a module
such as ``numba.np.arraymath`` is no marker: a cached kernel's environment may import it).
A cold cache (a fresh ``NUMBA_CACHE_DIR``) shows the other
path: kernels that must be compiled after quick loads compile and agree too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engines import kernel_cache

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import hashlib, json, sys
quick = sys.argv[1] == "quick"
import engines.kernel_cache as kc
kc.QUICK_LOAD = kc.QUICK_LOAD and quick  # read when each kernel is decorated (at import)
from engines import exact
from engines.ising import IsingParams, IsingSimulation
algorithms = sys.argv[2].split(",")
out = {}
for algorithm in algorithms:
    sim = IsingSimulation(IsingParams(size=8, temperature=2.4, algorithm=algorithm, seed=11))
    sim.thermalize(20)
    energies = []
    for _ in range(5):
        sim.sweep(2)
        energies.append(sim.energy_per_spin())
    digest = hashlib.sha256(sim.spins_copy().tobytes() + repr(energies).encode()).hexdigest()
    out[algorithm] = digest
if "parallel" in sys.argv[3:]:  # prange kernels: from 512² spins, on ≥ 2 threads (multispin)
    import numba
    for h in (0.0, 0.1):
        params = IsingParams(size=512, temperature=2.3, field=h, algorithm="metropolis-msc", seed=4)
        sim = IsingSimulation(params)
        sim.thermalize(10)
        sim.sweep(5)
        out[f"parallel h={h}"] = hashlib.sha256(sim.spins_copy().tobytes()).hexdigest()
    try:
        out["threading_layer"] = numba.threading_layer()  # started by a prange kernel only
    except ValueError:
        out["threading_layer"] = None  # one thread: the serial kernels ran instead
if "exact" in sys.argv[3:]:
    out["moments"] = repr(sorted(exact.magnetization_moments(6, 2.3).items()))
    out["enumerated"] = repr(exact.density_of_states(4).tolist())
from numba.core.registry import cpu_target
out["registry_loaded"] = bool(cpu_target.target_context._registries)  # filled by refresh() only
print(json.dumps(out))
"""


def run(mode: str, algorithms: str, *extra: str, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode, algorithms, *extra],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


pytestmark = pytest.mark.skipif(
    not kernel_cache.QUICK_LOAD, reason="this numba lacks the hooks; kernels use cache=True"
)

ALGORITHMS = "metropolis,heatbath,wolff,swendsen-wang,metropolis-msc"


def test_quick_loaded_kernels_give_the_standard_results_without_the_registry():
    standard = run("standard", ALGORITHMS, "exact", "parallel")  # a cold cache: compiles, stores
    quick = run("quick", ALGORITHMS, "exact", "parallel")
    assert standard["registry_loaded"]  # numba's own path loads it: the marker is meaningful
    assert not quick.pop("registry_loaded")
    standard.pop("registry_loaded")
    assert quick == standard


def test_a_kernel_compiled_after_quick_loads_compiles_and_agrees(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    first = run("quick", "metropolis", env=env)  # cold: compiles (registry loaded), stores
    assert first["registry_loaded"]
    # Warm for Metropolis, cold for heat bath: quick loads, then a compile in the same process.
    mixed = run("quick", "metropolis,heatbath", env=env)
    assert mixed["registry_loaded"]  # the compile refreshed the context itself
    assert mixed["metropolis"] == first["metropolis"]
    standard = run("standard", "heatbath")
    assert mixed["heatbath"] == standard["heatbath"]

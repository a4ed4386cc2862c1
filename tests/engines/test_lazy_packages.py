"""The engine packages' lazy names (engines.lazy): each resolves to what the submodule defines,
even when a submodule of the same name was imported first (``engines.rg.rbm_flow``)."""

import subprocess
import sys

import pytest

PROBE = """
import importlib, sys
import {package}
for name, module in {package}._WHERE.items():
    importlib.import_module(f"{package}.{{module}}")   # every submodule first, as other code may
pkg = sys.modules["{package}"]
for name, module in pkg._WHERE.items():
    expected = getattr(sys.modules[f"{package}.{{module}}"], name)
    assert getattr(pkg, name) is expected, name
print("ok")
"""


@pytest.mark.parametrize("package", ["engines.ising", "engines.rbm", "engines.rg"])
def test_every_lazy_name_is_the_submodules_object(package):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(package=package)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]

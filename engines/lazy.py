"""Package attributes loaded on first use (PEP 562), so that importing one light module of a
package (its parameters, its constraints) does not load the package's heavy ones (numba kernels,
torch, POT): the command line builds its parser and ``--help`` without them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``package.<where[name]>`` the first
    time ``name`` is asked for, and keeps the value in the package's namespace."""

    def __getattr__(name: str) -> Any:  # noqa: N807 (the module hook's name)
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{where[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

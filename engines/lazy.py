"""Package attributes loaded on first use (PEP 562), so that importing one light module of a
package (its parameters, its constraints) does not load the package's heavy ones (numba kernels,
torch, POT): the command line builds its parser and ``--help`` without them."""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from types import ModuleType
from typing import Any


class _LazyPackage(ModuleType):
    """A package whose lazy names win over its submodules of the same name.

    Importing a submodule sets it as an attribute of its package; when a function shares the
    submodule's name (``engines.rg.rbm_flow``, the function, in ``engines/rg/rbm_flow.py``), that
    attribute would hide the function from ``from engines.rg import rbm_flow``. Eager imports in
    ``__init__`` used to overwrite it with the function; this does the same, lazily."""

    _lazy_names: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if (
            name in type(self)._lazy_names
            and isinstance(value, ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
        ):
            return  # the submodule stays in sys.modules; the name stays the function's
        super().__setattr__(name, value)


def lazy_attributes(package: str, where: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``package.<where[name]>`` the first
    time ``name`` is asked for, and keeps the value in the package's namespace (a name that is
    also a submodule's is not replaced by the submodule, see :class:`_LazyPackage`)."""
    module = sys.modules[package]
    module.__class__ = type("LazyPackage", (_LazyPackage,), {"_lazy_names": frozenset(where)})

    def __getattr__(name: str) -> Any:  # noqa: N807 (the module hook's name)
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{where[name]}"), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

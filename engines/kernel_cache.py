"""numba kernels cached on disk, loaded without numba's compiler registry.

Why: a new process that runs one Ising sweep spends most of its start-up loading numba's
*lowering registry*, not our kernels. numba's ``FunctionCache.load_overload`` calls
``target_context.refresh()`` before loading any cached kernel, and the first refresh imports
every implementation module numba has (``numba.cpython.*``, ``numba.np.arraymath``,
``numba.np.linalg``, which imports ``scipy.linalg``, the typed containers, jitclass, …):
0.35–0.4 s here, about three times a bare ``import numpy, h5py``. That registry is what turns
Python into LLVM IR; machine code read back from the cache needs none of it, only numba's
runtime (NRT, for the arrays a kernel allocates), which :class:`QuickLoadCache` initializes
instead.

Nothing is lost when a kernel does have to be compiled (cold cache, a new signature, a source
change): ``numba.core.compiler.compile_extra`` refreshes the typing and target contexts itself
before it compiles, so the registry is loaded then, exactly as without this module. The cache
files, their index keys and their invalidation (source stamp, numba version, CPU) are numba's
own, shared with ``cache=True``.

Should a numba release move the private hooks used here (``_load_overload``,
``_guard_against_spurious_io_errors``), :data:`QUICK_LOAD` is False and every kernel falls
back to numba's own ``cache=True`` behaviour: slower to start, never wrong.
``tests/engines/test_kernel_cache.py`` runs the kernels in fresh processes both ways and checks
that the results are bit-identical and that the quick path did not load the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
from numba.core import caching

#: numba exposes the two private steps this cache is built from (checked once, at import).
QUICK_LOAD: bool = callable(getattr(caching.FunctionCache, "_load_overload", None)) and callable(
    getattr(caching.FunctionCache, "_guard_against_spurious_io_errors", None)
)


class QuickLoadCache(caching.FunctionCache):
    """numba's per-function disk cache, minus the registry refresh before a load (module doc)."""

    def load_overload(self, sig: Any, target_context: Any) -> Any:
        """The cached compile result for ``sig``, or None on a miss (numba then compiles)."""
        from numba.core.runtime import rtsys

        rtsys.initialize(target_context)  # the runtime cached code links against
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)
        return None  # an I/O error swallowed by the guard: a miss


def cached_kernel(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(cache=True, **options)``, loaded from disk by :class:`QuickLoadCache`.

    Use as ``@cached_kernel(nogil=True)`` above a function; the result is numba's ordinary
    ``Dispatcher`` (compiled on first call for each signature, machine code kept on disk).
    """
    compile_options = {key: value for key, value in options.items() if key != "cache"}

    def decorate(function: Callable[..., Any]) -> Any:
        dispatcher = numba.njit(cache=True, **compile_options)(function)
        if QUICK_LOAD:
            dispatcher._cache = QuickLoadCache(dispatcher.py_func)
        return dispatcher

    return decorate

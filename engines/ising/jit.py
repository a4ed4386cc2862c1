"""The numba decorators of the Ising kernels, defined once.

Every kernel is compiled in nopython mode (numba's only mode since 0.59) with the GIL released
(``nogil=True``), so sweeps run in a worker thread while the GUI stays responsive, and cached on
disk (next to the source in ``__pycache__``), so a new process loads the machine code instead of
compiling it again; :mod:`engines.kernel_cache` loads it without numba's compiler registry, which
is most of a short command's start-up.

Importing this module imports numba: only kernel modules import it (never ``engines.ising.params``).
"""

from __future__ import annotations

from engines.kernel_cache import cached_kernel

#: A serial kernel: ``@kernel`` above a function compiles it on first call (nogil, cached).
kernel = cached_kernel(nogil=True)

#: A kernel whose ``nb.prange`` loops run on numba's thread pool (nogil, cached, parallel).
parallel_kernel = cached_kernel(nogil=True, parallel=True)

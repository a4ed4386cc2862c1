"""The numba decorators of the Ising kernels, defined once.

Every kernel is compiled in nopython mode (numba's only mode since 0.59) with the GIL released
(``nogil=True``), so sweeps run in a worker thread while the GUI stays responsive, and cached on
disk (``cache=True``, next to the source in ``__pycache__``), so a new process loads the machine
code instead of compiling it again. The decorators are built here, not spread as ``**options``
dictionaries: numba's stubs type ``nb.njit(...)`` with keyword options as a decorator that turns a
function into a ``Dispatcher`` of that function, which a ``dict[str, bool]`` splat cannot match.

Importing this module imports numba: only kernel modules import it (never ``engines.ising.params``).
"""

from __future__ import annotations

import numba as nb

#: A serial kernel: ``@kernel`` above a function compiles it on first call (nogil, cached).
kernel = nb.njit(nogil=True, cache=True)

#: A kernel whose ``nb.prange`` loops run on numba's thread pool (nogil, cached, parallel).
parallel_kernel = nb.njit(nogil=True, cache=True, parallel=True)

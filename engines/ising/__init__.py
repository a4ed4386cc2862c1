"""2D Ising Monte Carlo: Metropolis and heat bath (checkerboard, scalar or multi-spin coded), Wolff
and Swendsen–Wang clusters, and a torch checkerboard Metropolis for the CPU or a CUDA device.

All kernels are numba functions compiled with ``nopython=True, nogil=True, cache=True`` (the
decorators of :mod:`engines.ising.jit`) so they run in a worker thread without holding the GIL;
the generator state (xoshiro256**) is explicit and travels in :meth:`IsingSimulation.state_dict`.
See :mod:`engines.ising.simulation` for what one sweep means for each algorithm and
:mod:`engines.ising.observables` for the conventions. torch is imported only when the torch
algorithm is used.

The names below are loaded on first use (PEP 562), so ``from engines.ising.params import …``
(the parameters and their constraints) never compiles or loads a kernel.
"""

from typing import TYPE_CHECKING

from engines.lazy import lazy_attributes

_WHERE = {
    "Estimate": "autocorrelation",
    "integrated_autocorrelation_time": "autocorrelation",
    "mean_with_error": "autocorrelation",
    "unpack_spins": "multispin",
    "correlation_function": "observables",
    "energies_per_spin": "observables",
    "magnetizations_per_spin": "observables",
    "summarize": "observables",
    "ALGORITHMS": "params",
    "ALL_ALGORITHMS": "params",
    "PACKED_ALGORITHMS": "params",
    "TORCH_ALGORITHMS": "params",
    "IsingParams": "params",
    "IsingSimulation": "simulation",
}
__all__ = [
    "ALGORITHMS",
    "ALL_ALGORITHMS",
    "Estimate",
    "IsingParams",
    "IsingSimulation",
    "PACKED_ALGORITHMS",
    "TORCH_ALGORITHMS",
    "correlation_function",
    "energies_per_spin",
    "integrated_autocorrelation_time",
    "magnetizations_per_spin",
    "mean_with_error",
    "summarize",
    "unpack_spins",
]
__getattr__ = lazy_attributes(__name__, _WHERE)


if TYPE_CHECKING:
    from engines.ising.autocorrelation import (
        Estimate,
        integrated_autocorrelation_time,
        mean_with_error,
    )
    from engines.ising.multispin import unpack_spins
    from engines.ising.observables import (
        correlation_function,
        energies_per_spin,
        magnetizations_per_spin,
        summarize,
    )
    from engines.ising.params import (
        ALGORITHMS,
        ALL_ALGORITHMS,
        PACKED_ALGORITHMS,
        TORCH_ALGORITHMS,
        IsingParams,
    )
    from engines.ising.simulation import IsingSimulation

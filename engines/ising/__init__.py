"""2D Ising Monte Carlo: Metropolis and heat bath (checkerboard, scalar or multi-spin coded), Wolff
and Swendsen–Wang clusters, and a torch checkerboard Metropolis for the CPU or a CUDA device.

All kernels are numba functions compiled with ``nopython=True, nogil=True, cache=True`` so they run
in a worker thread without holding the GIL; the generator state (xoshiro256**) is explicit and
travels in :meth:`IsingSimulation.state_dict`. See :mod:`engines.ising.simulation` for what one
sweep means for each algorithm and :mod:`engines.ising.observables` for the conventions. torch is
imported only when the torch algorithm is used.
"""

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
from engines.ising.simulation import (
    ALGORITHMS,
    ALL_ALGORITHMS,
    PACKED_ALGORITHMS,
    TORCH_ALGORITHMS,
    IsingParams,
    IsingSimulation,
)

__all__ = [
    "ALGORITHMS",
    "ALL_ALGORITHMS",
    "PACKED_ALGORITHMS",
    "TORCH_ALGORITHMS",
    "Estimate",
    "IsingParams",
    "IsingSimulation",
    "correlation_function",
    "energies_per_spin",
    "integrated_autocorrelation_time",
    "magnetizations_per_spin",
    "mean_with_error",
    "summarize",
    "unpack_spins",
]

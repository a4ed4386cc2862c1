"""Exact results for the 2D Ising model, used as test oracles and as plot overlays.

- ``kaufman``: exact ln Z, energy and specific heat of the finite L x L torus at h = 0.
- ``onsager``: the infinite lattice (T_c, spontaneous magnetization, e, c, ln Z / N).
- ``enumeration``: brute force over all 2^N states of small tori (L <= 5), any J and h.
- ``transfer_matrix``: exact P(M), magnetization moments, e, c, ln Z for L <= 10, any J and h.

Conventions everywhere: H = -J sum_<ij> s_i s_j - h sum_i s_i over the 2N bonds of the
periodic L x L lattice (N = L^2), k_B = 1; per-spin quantities; ``T`` a float or a 1-D array.

The names below are loaded on first use (:mod:`engines.lazy`), so that importing one light
module of the package loads nothing heavy.
"""

from typing import TYPE_CHECKING

from engines.lazy import lazy_attributes

_WHERE = {
    "boltzmann_probabilities": "enumeration",
    "density_of_states": "enumeration",
    "enumerate_log_z": "enumeration",
    "enumerate_observables": "enumeration",
    "enumerate_states": "enumeration",
    "state_energies": "enumeration",
    "energy_per_spin": "kaufman",
    "log_partition_function": "kaufman",
    "specific_heat_per_spin": "kaufman",
    "critical_temperature": "onsager",
    "energy_per_spin_infinite": "onsager",
    "log_partition_function_infinite": "onsager",
    "specific_heat_infinite": "onsager",
    "spontaneous_magnetization": "onsager",
    "magnetization_distribution": "transfer_matrix",
    "magnetization_moments": "transfer_matrix",
    "transfer_matrix_energy": "transfer_matrix",
}
__all__ = [
    "boltzmann_probabilities",
    "critical_temperature",
    "density_of_states",
    "energy_per_spin",
    "energy_per_spin_infinite",
    "enumerate_log_z",
    "enumerate_observables",
    "enumerate_states",
    "log_partition_function",
    "log_partition_function_infinite",
    "magnetization_distribution",
    "magnetization_moments",
    "specific_heat_infinite",
    "specific_heat_per_spin",
    "spontaneous_magnetization",
    "state_energies",
    "transfer_matrix_energy",
]
__getattr__ = lazy_attributes(__name__, _WHERE)

if TYPE_CHECKING:
    from engines.exact.enumeration import (
        boltzmann_probabilities,
        density_of_states,
        enumerate_log_z,
        enumerate_observables,
        enumerate_states,
        state_energies,
    )
    from engines.exact.kaufman import (
        energy_per_spin,
        log_partition_function,
        specific_heat_per_spin,
    )
    from engines.exact.onsager import (
        critical_temperature,
        energy_per_spin_infinite,
        log_partition_function_infinite,
        specific_heat_infinite,
        spontaneous_magnetization,
    )
    from engines.exact.transfer_matrix import (
        magnetization_distribution,
        magnetization_moments,
        transfer_matrix_energy,
    )

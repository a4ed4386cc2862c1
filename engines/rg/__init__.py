"""Real-space renormalization of Ising configurations: block spins and their RG flow.

- ``block_spin``: majority rule (seeded tie-break) and decimation with b x b blocks, iterated.
- ``effective_temperature``: T' of coarse configurations by matching the exact finite-size energy
  (Kaufman), and the observables of one RG level (e, |m|, U4, C(r), T').
"""

from engines.rg.block_spin import RULES, coarse_grain, decimation, majority
from engines.rg.effective_temperature import effective_temperature, level_observables

__all__ = [
    "RULES",
    "coarse_grain",
    "decimation",
    "effective_temperature",
    "level_observables",
    "majority",
]

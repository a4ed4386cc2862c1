"""Exact values to draw next to measurements: what is known exactly for a given L, T, J, h.

Kaufman's finite-L energy and specific heat exist for any L at h = 0; the magnetization moments
come from the row transfer matrix, whose cost grows like 4^L: single points are affordable up to
``POINT_MAX_L`` (≈ 0.06 s at L = 8), whole curves up to ``CURVE_MAX_L``. Onsager's
infinite-lattice curves are the thermodynamic limit. Single points are cached: panels ask often.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from engines import exact

POINT_MAX_L = 8
CURVE_MAX_L = 6
MOMENTS = ("abs_m", "m2", "chi", "binder")


def critical_temperature(coupling: float = 1.0) -> float:
    """Onsager's T_c = 2J / ln(1 + √2), to mark on plots."""
    return exact.critical_temperature(coupling)


def _values(size: int, temperature, coupling: float, field: float, moments: bool) -> dict:
    out = {}
    if field == 0.0 and coupling > 0:
        out["e"] = exact.energy_per_spin(size, temperature, coupling)
        out["c"] = exact.specific_heat_per_spin(size, temperature, coupling)
        out["e_inf"] = exact.energy_per_spin_infinite(temperature, coupling)
        out["c_inf"] = exact.specific_heat_infinite(temperature, coupling)
        out["m_inf"] = exact.spontaneous_magnetization(temperature, coupling)
    if moments:
        values = exact.magnetization_moments(size, temperature, coupling, field)
        out.update({key: values[key] for key in MOMENTS})
    return out


@lru_cache(maxsize=4096)
def exact_reference(
    size: int, temperature: float, coupling: float = 1.0, field: float = 0.0
) -> dict[str, float]:
    """Known exact values at one point: keys among e, c, abs_m, m2, chi, binder (finite L)
    and e_inf, c_inf, m_inf (Onsager, infinite lattice, h = 0)."""
    values = _values(size, temperature, coupling, field, size <= POINT_MAX_L)
    return {key: float(value) for key, value in values.items()}


def exact_curves(
    size: int, temperatures: np.ndarray, coupling: float = 1.0, field: float = 0.0
) -> dict[str, np.ndarray]:
    """The same along a temperature grid, as arrays (keys that are not known are absent)."""
    temperatures = np.asarray(temperatures, dtype=float)
    values = _values(size, temperatures, coupling, field, size <= CURVE_MAX_L)
    return {key: np.asarray(value, dtype=float) for key, value in values.items()}

"""Binder temperature of block-spin configurations: the T whose exact U4 matches the measured one.

The Binder cumulant ``U4 = 1 - <m⁴> / (3 <m²>²)`` of the L' x L' torus is known exactly from the
row transfer matrix (:func:`engines.exact.magnetization_moments`), and it decreases strictly with
T, from 2/3 in the ordered phase to 0 at high temperature. The Binder temperature T_U of a set of
(coarse) configurations of size L' is the T at which the exact U4(L', T) equals their measured U4.

Why U4 next to the energy-matched T' of :mod:`engines.rg.effective_temperature`: U4 is a
dimensionless ratio that is (nearly) invariant under blocking at the critical point: its value at
T_c is, up to finite-size corrections, the same universal number on every lattice size. Blocking
configurations sampled at T_c therefore gives a U4 close to U4(L', T_c), and the flow
T -> T_U has T_c as its (approximate) fixed point, with T_U moving away from T_c on either side,
as an RG flow should. The energy-matched T' has no such property: the nearest-neighbour energy
of block spins is not that of a nearest-neighbour model at the same temperature: from 1000
Wolff samples of L = 64 at T_c, one b = 2 majority step gave T' = 2.2817 ± 0.0024, about 5
standard errors above T_c (a one-off measurement, recorded in the project's notes).

Limits: the transfer matrix costs O(L 2^L) per row state and temperature, and a root search
evaluates it a few dozen times, so sizes above 8 are refused (L' = 8 takes about a second). For
sizes up to 10, and for reading many sets of configurations, :func:`engines.rg.thermometry`
inverts a tabulated exact U4 instead (35 transfer-matrix evaluations once per size).
Uncertainty: linear propagation through the slope, ``σ_T = σ_U / |dU4/dT|``, the slope from a
central finite difference of the exact U4.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

from engines.exact import magnetization_moments
from engines.ising import Estimate
from engines.rg.effective_temperature import checked_bracket

MAX_SIZE = 8
DEFAULT_BRACKET: tuple[float, float] = (1.0, 4.0)
_SLOPE_STEP = 1e-4  # relative step of the central difference; its error is ~1e-8 relative


def _exact_binder(size: int, T: float, J: float) -> float:
    return float(magnetization_moments(size, T, J)["binder"])


def binder_temperature(
    binder: Estimate, size: int, J: float = 1.0, bracket: tuple[float, float] = DEFAULT_BRACKET
) -> Estimate:
    """The T at which the exact U4(size, T) of the size x size torus equals ``binder.value``.

    ``size`` must be between 2 and 8 (transfer matrix; ValueError beyond). Returns an Estimate
    whose error is ``binder.error / |dU4/dT|`` and whose tau is the cumulant's. Raises ValueError
    if the cumulant lies outside ``[U4(size, T_hi), U4(size, T_lo)]`` over the bracket.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise ValueError(f"The lattice size must be an integer, got {size!r}.")
    size = int(size)
    if not 2 <= size <= MAX_SIZE:
        raise ValueError(
            f"The Binder temperature needs the exact U4 from the transfer matrix, affordable only "
            f"for lattice sizes 2 to {MAX_SIZE}; got size {size}."
        )
    lo, hi = checked_bracket(bracket)
    value = float(binder.value)
    if not np.isfinite(value):
        raise ValueError(f"The Binder cumulant must be finite, got {value!r}.")
    u_lo, u_hi = _exact_binder(size, lo, J), _exact_binder(size, hi, J)
    if not u_hi <= value <= u_lo:
        raise ValueError(
            f"The Binder cumulant {value:.6g} is outside the range [{u_hi:.6g}, {u_lo:.6g}] of "
            f"the exact U4({size}, T) over T in [{lo:g}, {hi:g}]; no Binder temperature there."
        )
    T = brentq(lambda t: _exact_binder(size, t, J) - value, lo, hi, xtol=1e-13)
    step = _SLOPE_STEP * T
    slope = (_exact_binder(size, T + step, J) - _exact_binder(size, T - step, J)) / (2.0 * step)
    return Estimate(float(T), float(binder.error) / abs(slope), binder.tau)

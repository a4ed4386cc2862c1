"""Effective temperature of block-spin configurations, and the observables of one RG level.

The effective temperature T' of a set of (coarse) configurations on the L' x L' torus is the T at
which Kaufman's exact finite-size energy per spin e(L', T) equals their measured nearest-neighbour
energy per spin. Following T -> T' level by level gives the RG flow of the block spins.

Why the energy:

* it is known exactly for every lattice size (Kaufman's ln Z of the finite torus), so the match is
  made against the curve of the *same* finite size L' as the coarse lattice, with no
  infinite-volume or finite-size-scaling assumption;
* e(L', T) increases strictly with T (de/dT = c > 0), so the matching temperature is unique and
  is found by bracketing root search (``scipy.optimize.brentq``);
* it is the nearest-neighbour correlation of the coarse lattice, the leading coupling of the
  renormalized Hamiltonian, and it is measured precisely (small τ_int, self-averaging).

Uncertainty: linear propagation through the slope, ``σ_T = σ_e / (de/dT) = σ_e / c(L', T')``.

Caveat: block spins are not Boltzmann-distributed for the nearest-neighbour Hamiltonian at any
temperature (the renormalized Hamiltonian has further-neighbour and multi-spin couplings), so T'
is an *effective* value: the nearest-neighbour model at T' has the same energy, not necessarily
the same magnetization, Binder cumulant or correlation function. Matching another observable
would give a somewhat different T'; the differences measure how far the coarse ensemble is from
a nearest-neighbour one.
"""

from __future__ import annotations

import contextlib

import numpy as np
from scipy.optimize import brentq

from engines.exact import energy_per_spin, specific_heat_per_spin
from engines.ising import (
    Estimate,
    correlation_function,
    energies_per_spin,
    magnetizations_per_spin,
    summarize,
)

DEFAULT_BRACKET: tuple[float, float] = (0.5, 10.0)


def checked_bracket(bracket: tuple[float, float]) -> tuple[float, float]:
    """(T_lo, T_hi) as floats, or ValueError unless 0 < T_lo < T_hi are finite."""
    lo, hi = (float(t) for t in bracket)
    if not (np.isfinite(lo) and np.isfinite(hi) and 0.0 < lo < hi):
        raise ValueError(
            f"The bracket must be two finite temperatures 0 < T_lo < T_hi, got {bracket!r}."
        )
    return lo, hi


def effective_temperature(
    energy: Estimate, size: int, J: float = 1.0, bracket: tuple[float, float] = DEFAULT_BRACKET
) -> Estimate:
    """The T at which the exact e(size, T) of the size x size torus equals ``energy.value``.

    Returns an Estimate whose error is ``energy.error / c(size, T)`` and whose tau is the
    energy's. Raises ValueError if the energy lies outside ``[e(size, T_lo), e(size, T_hi)]``
    over the bracket (T_lo, T_hi), e.g. perfectly ordered configurations with e = -2J.
    """
    lo, hi = checked_bracket(bracket)
    value = float(energy.value)
    if not np.isfinite(value):
        raise ValueError(f"The energy per spin must be finite, got {value!r}.")
    e_lo, e_hi = float(energy_per_spin(size, lo, J)), float(energy_per_spin(size, hi, J))
    if not e_lo <= value <= e_hi:
        raise ValueError(
            f"The energy per spin {value:.6g} is outside the range [{e_lo:.6g}, {e_hi:.6g}] of the "
            f"exact e({size}, T) over T in [{lo:g}, {hi:g}]; no effective temperature there."
        )
    T = brentq(lambda t: float(energy_per_spin(size, t, J)) - value, lo, hi, xtol=1e-13)
    slope = float(specific_heat_per_spin(size, T, J))
    return Estimate(float(T), float(energy.error) / slope, energy.tau)


def level_observables(
    samples: np.ndarray,
    temperature_hint: float | None = None,
    scale: int = 1,
    J: float = 1.0,
    bracket: tuple[float, float] = DEFAULT_BRACKET,
) -> dict:
    """Observables of one RG level from its (n, L', L') ±1 configurations, taken in time order.

    Returns a dict with

    * ``"size"`` L', ``"n_samples"`` n;
    * ``"e"``, ``"abs_m"``, ``"m2"``, ``"m4"``, ``"binder"``: Estimates from
      :func:`engines.ising.summarize` (energy of the nearest-neighbour coupling J on the coarse
      lattice);
    * ``"c"`` and ``"chi"`` only when ``temperature_hint`` is given: the fluctuation formulas
      evaluated at that temperature (for block spins the natural choice is T', the fluctuations
      then say how far the coarse ensemble is from a Boltzmann one at T');
    * ``"r"`` (in spacings of the original lattice: coarse distance times ``scale``, i.e. b**level),
      ``"r_coarse"``, ``"C"`` and ``"C_error"``: the connected correlation function;
    * ``"t_eff"``: the :func:`effective_temperature` of the energy, present only when the energy
      lies inside the bracket's range (absent, e.g., for perfectly ordered configurations).
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 1:
        raise ValueError(f"scale must be an integer >= 1, got {scale!r}.")
    e = energies_per_spin(samples, J)
    m = magnetizations_per_spin(samples)
    L = int(np.shape(samples)[1])
    T = 1.0 if temperature_hint is None else float(temperature_hint)
    summary = summarize(e, m, T, L * L)
    keys: tuple[str, ...] = ("e", "abs_m", "m2", "m4", "binder")
    if temperature_hint is not None:
        keys += ("c", "chi")
    out: dict = {"size": L, "n_samples": int(e.size)}
    out.update({k: summary[k] for k in keys})
    r, C, C_error = correlation_function(samples)
    out.update({"r": r * int(scale), "r_coarse": r, "C": C, "C_error": C_error})
    with contextlib.suppress(ValueError):  # energy outside the bracket's range: no T'
        out["t_eff"] = effective_temperature(summary["e"], L, J, bracket)
    return out

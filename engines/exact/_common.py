"""Input validation and small shared helpers for the exact-results package.

Every public function of ``engines.exact`` accepts the temperature ``T`` either as a float (and
then returns floats) or as a 1-D array (and then returns arrays of the same length); the helpers
here implement that convention once, and turn bad input into one clear ``ValueError``.
"""

from __future__ import annotations

import numpy as np


def temperatures(T) -> tuple[np.ndarray, bool]:
    """Return ``T`` as a 1-D float array and whether it was given as a scalar.

    Raises ``ValueError`` unless every temperature is finite and strictly positive.
    """
    arr = np.asarray(T, dtype=float)
    if arr.ndim > 1:
        raise ValueError(f"temperature T must be a float or a 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0.0):
        raise ValueError(f"temperature T must be finite and > 0, got {T!r}")
    return np.atleast_1d(arr), arr.ndim == 0


def lattice_size(L, low: int, high: int | None, method: str) -> int:
    """Validate the linear lattice size ``L`` for ``method`` (``low <= L <= high``)."""
    if isinstance(L, bool) or not isinstance(L, int | np.integer):
        raise ValueError(f"lattice size L must be an integer, got {L!r}")
    size = int(L)
    if size < low or (high is not None and size > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{method}: lattice size L must be {bound}, got {size}")
    return size


def coupling(J, ferromagnetic: bool) -> float:
    """Validate the coupling ``J``; formulas valid only for ``J > 0`` ask ``ferromagnetic``."""
    J = float(J)
    if not np.isfinite(J):
        raise ValueError(f"coupling J must be finite, got {J!r}")
    if ferromagnetic and J <= 0.0:
        raise ValueError(f"this exact result holds for a ferromagnet only: J must be > 0, got {J}")
    return J


def field(h) -> float:
    """Validate the external field ``h``."""
    h = float(h)
    if not np.isfinite(h):
        raise ValueError(f"field h must be finite, got {h!r}")
    return h


def shaped(values: np.ndarray, scalar: bool):
    """Return ``values`` (indexed by temperature first) as a float when ``T`` was a scalar."""
    if scalar:
        first = values[0]
        return float(first) if np.ndim(first) == 0 else first
    return values


def magnetization_moments_from(M: np.ndarray, P: np.ndarray, T: np.ndarray, N: int) -> dict:
    """Moments of the per-spin magnetization ``m = M/N`` from probabilities ``P[t, i]`` of ``M[i]``.

    Returns arrays over temperature: ``abs_m = <|m|>``, ``m2 = <m^2>``, ``m4 = <m^4>``, the Binder
    cumulant ``1 - <m^4>/(3<m^2>^2)`` and the finite-lattice susceptibility
    ``chi = N (<m^2> - <|m|>^2) / T``. Where ``<m^2>`` is 0 (an antiferromagnet frozen in its
    Néel states: P is 1 at M = 0) the Binder cumulant is 0/0, undefined: NaN, without a warning.
    """
    m = M / N
    abs_m = P @ np.abs(m)
    m2 = P @ m**2
    m4 = P @ m**4
    with np.errstate(divide="ignore", invalid="ignore"):
        binder = np.where(m2 > 0.0, 1.0 - m4 / (3.0 * m2**2), np.nan)
    return {
        "abs_m": abs_m,
        "m2": m2,
        "m4": m4,
        "binder": binder,
        "chi": N * (m2 - abs_m**2) / T,
    }

"""Thermometers for sets of Ising-like configurations, and how Ising-like those configurations are.

A set of configurations on the L x L torus (block spins, RBM reconstructions, ...) is given a
temperature by matching one of its statistics to the exact curve of the nearest-neighbour Ising
model on the same finite torus (J > 0, h = 0, k_B = 1). Three thermometers, each measuring a
different thing:

* **energy** ``T_E``: ``e(L, T_E)`` (Kaufman, any L) equals the measured nearest-neighbour energy
  per spin. This is also the **maximum-likelihood temperature**: ``p_T(v) ∝ exp(-H(v)/T)`` is an
  exponential family whose sufficient statistic is H, so ``Σ log p_T(v_i)`` is largest where
  ``⟨H⟩_T`` equals the sample mean of H, i.e. at T_E; a "likelihood fit" of T to the
  configurations is the energy thermometer, nothing more. It reads the *short-range* order
  (nearest-neighbour correlation).
* **magnetization** ``T_M``: ``⟨|m|⟩(L, T_M)`` (transfer matrix) equals the measured ``⟨|m|⟩``: the
  *long-range* order, the size of the ordered domains.
* **Binder** ``T_U``: ``U4(L, T_U) = 1 - ⟨m⁴⟩/(3⟨m²⟩²)`` (transfer matrix): the *shape* of the
  magnetization distribution (2/3 for two sharp peaks at ±m, 0 for a Gaussian), nearly
  scale-invariant at T_c.

For configurations drawn from the Ising model at some temperature T all three agree with T
(within errors), and so do every other observable: the fluctuations ``c = N var(e)/T²`` and
``χ = N (⟨m²⟩ - ⟨|m|⟩²)/T`` equal their exact values at T. When the thermometers disagree, the
configurations are *not* an Ising equilibrium ensemble at any single temperature, and "the
temperature" of the set is not defined; the gap ``T_U - T_E`` and the deviations of the other
observables from their exact values at T_E (as z-scores) say by how much.

Exact curves. The energy and specific heat come from :mod:`engines.exact.kaufman` at any size.
The magnetization moments come from the row transfer matrix (:func:`engines.exact.
magnetization_moments`, sizes <= 10), evaluated on a grid of 35 temperatures in [0.6, 7]
(step 0.1 on [1.6, 3.6], 0.2 below, 0.4 above) and interpolated by a cubic spline. Measured
interpolation error at the grid's midpoints (L = 6 and 8): at most 3·10⁻⁵ for ⟨|m|⟩ and ⟨m²⟩,
5·10⁻⁵ for U4, i.e. below 1 % of the statistical error of U4 from 2000 configurations (≈ 0.005).
Building the grid costs 35 transfer-matrix evaluations (L = 10: about 1.7 s each on an idle
core, so about a minute; L = 8: a few seconds), done once per (L, J) and process (cached).
Inversion is by linear interpolation in a dense table (4001 points, spacing 0.0016) of the
exact e(T) and of the spline, whose own error (≈ 10⁻⁶ in T) is far below any statistical one.
Temperatures outside [0.6, 7] are reported as NaN, as are magnetization thermometers for L > 10.

Errors: every output is a function of the five means ⟨e⟩, ⟨e²⟩, ⟨|m|⟩, ⟨m²⟩, ⟨m⁴⟩ of the set;
values are that function of the full means, errors a blocked jackknife over the configurations
in the order given (:func:`engines.ising.autocorrelation.block_jackknife`), so the correlations
between thermometers (all read from the same configurations) are in the errors of their
differences.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline

from engines.exact import energy_per_spin, magnetization_moments, specific_heat_per_spin
from engines.ising import energies_per_spin, magnetizations_per_spin, mean_with_error
from engines.ising.autocorrelation import block_jackknife, error_tau

T_MIN, T_MAX = 0.6, 7.0
MAGNETIZATION_MAX_SIZE = 10
GRID = np.round(
    np.concatenate(
        [np.arange(0.6, 1.5, 0.2), np.arange(1.6, 3.65, 0.1), np.arange(3.8, 7.05, 0.4)]
    ),
    10,
)
"""Temperatures at which the transfer matrix is evaluated (35 points in [0.6, 7])."""
DENSE_POINTS = 4001
OBSERVABLES = ("e", "abs_m", "m2", "binder", "c", "chi")
THERMOMETERS = ("t_energy", "t_abs_m", "t_binder")


def _checked_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 2:
        raise ValueError(f"The lattice size must be an integer >= 2, got {size!r}.")
    return int(size)


@lru_cache(maxsize=16)
def _tables(size: int, J: float) -> dict[str, np.ndarray]:
    """Dense exact curves of the size x size torus over [T_MIN, T_MAX] (module doc)."""
    T = np.linspace(T_MIN, T_MAX, DENSE_POINTS)
    out = {
        "T": T,
        "e": np.asarray(energy_per_spin(size, T, J)),
        "c": np.asarray(specific_heat_per_spin(size, T, J)),
    }
    if size <= MAGNETIZATION_MAX_SIZE:
        exact = magnetization_moments(size, GRID, J)
        for name in ("abs_m", "m2", "binder", "chi"):
            out[name] = CubicSpline(GRID, np.asarray(exact[name]))(T)
    for array in out.values():
        array.setflags(write=False)
    return out


def exact_tables(size: int, J: float = 1.0) -> dict[str, np.ndarray]:
    """The exact curves used by the thermometers: ``{"T", "e", "c"[, "abs_m", "m2", "binder",
    "chi"]}``, arrays over the dense grid of [0.6, 7] (read-only; module doc for accuracy).

    The magnetization curves are present only for sizes <= 10 (transfer matrix).
    """
    size = _checked_size(size)
    J = float(J)
    if not (np.isfinite(J) and J > 0):
        raise ValueError(f"The coupling must be a finite J > 0, got {J!r}.")
    return _tables(size, J)


def _invert(values: np.ndarray, curve: np.ndarray, T: np.ndarray) -> np.ndarray:
    """T at which a monotone tabulated ``curve`` equals ``values`` (NaN outside its range)."""
    if curve[-1] < curve[0]:
        curve, T = curve[::-1], T[::-1]
    return np.interp(values, curve, T, left=np.nan, right=np.nan)


def _at(T_values: np.ndarray, curve: np.ndarray, T: np.ndarray) -> np.ndarray:
    return np.interp(T_values, T, curve, left=np.nan, right=np.nan)


def thermometry(samples: np.ndarray, J: float = 1.0) -> dict:
    """Three temperatures of a set of (n, L, L) ±1 configurations and how Ising-like they are.

    Returns a dict of floats (module doc for the definitions), each with ``<key>_error``:

    * ``"t_energy"``, ``"t_abs_m"``, ``"t_binder"``: the three matched temperatures
      (magnetization ones NaN for L > 10; any of them NaN outside [0.6, 7]);
    * ``"gap"``: ``t_binder - t_energy``, the disagreement of the two thermometers;
    * ``"m"``: the signed mean magnetization (0 within errors for a Z2-symmetric ensemble; an
      ensemble stuck in one ordered sector has m ≈ ±|m|);
    * ``"e"``, ``"abs_m"``, ``"m2"``, ``"binder"``: the measured statistics; ``"c"`` and
      ``"chi"``: the fluctuation formulas evaluated at T_E;
    * ``"<obs>_exact"`` for obs in abs_m, m2, binder, c, chi: the exact value at T_E, and
      ``"<obs>_z"``: (measured - exact at T_E) / error, with the error of T_E included;
    * ``"max_abs_z"``: the largest of those |z| (about 2 or less for an Ising ensemble at one T;
      large when the set is not one), and ``"size"``, ``"n_samples"``.
    """
    samples = np.asarray(samples)
    e = energies_per_spin(samples, J)
    m = magnetizations_per_spin(samples)
    size = int(samples.shape[1])
    if e.size < 20:
        raise ValueError(f"Thermometry needs at least 20 configurations, got {e.size}.")
    N = size * size
    tables = exact_tables(size, J)
    T = tables["T"]
    has_m = "binder" in tables
    abs_m = np.abs(m)
    data = np.column_stack([e, e * e, abs_m, m * m, m**4])
    keys = [
        "t_energy",
        "t_abs_m",
        "t_binder",
        "gap",
        "e",
        "abs_m",
        "m2",
        "binder",
        "c",
        "chi",
        "abs_m_dev",
        "m2_dev",
        "binder_dev",
        "c_dev",
        "chi_dev",
        "abs_m_exact",
        "m2_exact",
        "binder_exact",
        "c_exact",
        "chi_exact",
    ]

    def func(mu: np.ndarray) -> np.ndarray:
        me, me2, mabs, mm2, mm4 = (mu[..., k] for k in range(5))
        t_e = _invert(me, tables["e"], T)
        binder = 1.0 - mm4 / (3.0 * mm2**2)
        c = N * (me2 - me**2) / t_e**2
        chi = N * (mm2 - mabs**2) / t_e
        c_exact = _at(t_e, tables["c"], T)
        if has_m:
            t_abs = _invert(mabs, tables["abs_m"], T)
            t_u = _invert(binder, tables["binder"], T)
            exact = {name: _at(t_e, tables[name], T) for name in ("abs_m", "m2", "binder", "chi")}
        else:
            t_abs = t_u = np.full_like(me, np.nan)
            exact = {name: np.full_like(me, np.nan) for name in ("abs_m", "m2", "binder", "chi")}
        return np.stack(
            [
                t_e,
                t_abs,
                t_u,
                t_u - t_e,
                me,
                mabs,
                mm2,
                binder,
                c,
                chi,
                mabs - exact["abs_m"],
                mm2 - exact["m2"],
                binder - exact["binder"],
                c - c_exact,
                chi - exact["chi"],
                exact["abs_m"],
                exact["m2"],
                exact["binder"],
                c_exact,
                exact["chi"],
            ],
            axis=-1,
        )

    tau = max(error_tau(column) for column in data.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        value, error = block_jackknife(data, func, tau)
    out: dict = {"size": size, "n_samples": int(e.size)}
    signed = mean_with_error(m)
    out["m"], out["m_error"] = float(signed.value), float(signed.error)
    for k, key in enumerate(keys):
        if key.endswith("_dev"):
            continue
        out[key] = float(value[k])
        out[f"{key}_error"] = float(error[k])
    zs = []
    for name in ("abs_m", "m2", "binder", "c", "chi"):
        k = keys.index(f"{name}_dev")
        with np.errstate(invalid="ignore", divide="ignore"):
            z = float(value[k] / error[k]) if error[k] > 0 else np.nan
        out[f"{name}_z"] = z
        zs.append(abs(z))
    finite = [z for z in zs if np.isfinite(z)]
    out["max_abs_z"] = float(max(finite)) if finite else float("nan")
    for key in ("abs_m_exact", "m2_exact", "binder_exact", "c_exact", "chi_exact"):
        out.pop(f"{key}_error", None)
    return out

"""The RBM flow of Iso, Shiba & Yokoo (Phys. Rev. E 97, 053304, 2018): iterated reconstruction.

An RBM trained on Ising configurations of many temperatures pooled defines a map on the *same*
lattice: v -> h -> v', with ``h ~ p(h|v)`` and ``v' ~ p(v|h)``. Iterating it from configurations
sampled at a temperature T and reading off the temperature of each step (the energy matched to
Kaufman's exact e(L, T'), the Binder cumulant and ⟨|m|⟩ matched to the transfer matrix for
L <= 10, :mod:`engines.rg.thermometry`) gives a flow T -> T'_1 -> T'_2 -> ... with no change of
lattice size.

What Iso et al. report (L = 10, temperatures judged by a separately trained classifier): the flow
goes *toward* T_c from both sides and stays near it: the critical point is an attractive fixed
point of the RBM flow, the opposite of block-spin RG, where T_c is the repulsive one. They read it
as the RBM having learned features of the critical configurations (the pooled data are dominated
by scale-invariant structure near T_c). Nothing here assumes that result: it is what the
``rbm-flow`` mode of the lab measures.

Exact properties (tested): each step is one Gibbs sweep of the RBM, so the RBM's own equilibrium
distribution p(v) is stationary; with W = 0, v' is independent of v with p(v_i = +1) = σ(2 a_i),
so ⟨v'_i⟩ = tanh(a_i); an RBM with one hidden unit per spin, W = w·I, a = -w/2, b = 0 copies v to
v' except with probability O(e^{-w/2}) per spin.

Thermometry of the flow (:func:`flow_thermometry`, definitions in :mod:`engines.rg.thermometry`):
the *energy* thermometer T_E reads the nearest-neighbour energy (short-range order; it is also the
maximum-likelihood temperature of the nearest-neighbour Ising family), the *Binder* thermometer
T_U the shape of the magnetization distribution, the *magnetization* one T_M its scale. Each
matches one statistic to the exact curve of the same finite torus, so they agree only for
configurations that are an Ising equilibrium ensemble at one temperature.

Why they disagree, and why T_c "moves" (measured: L = 10 and 8, the Veiga–Vicente data, 25
temperatures 1e-6, 0.25, ..., 6 with 2000 Wolff configurations each, CD-1; numbers from
:func:`engines.rg.reproductions.rbm_flow_experiment`):

1. *The flow is a Markov chain and ends at the RBM's equilibrium, not at T_c.* Each step is one
   Gibbs sweep, so iterating converges to the RBM's own p(v) whatever the start: after 100-200
   steps every start from T = 1 to 5 reads the same pair (L = 8, 16 hidden units, 30 epochs:
   T_E ≈ 2.20, T_U ≈ 2.02; L = 10, 25 hidden units, 30 epochs: T_E ≈ 2.04, T_U ≈ 1.80). "Both
   sides approach T_c" is the transient of that relaxation: low starts jump up in one step
   (the reconstruction noise), high starts drift down over tens of steps, so for a while all of
   them sit between 2 and 3. Where they end is a property of the trained RBM, not of the Ising
   model: the same data with 64 hidden units and 100 epochs give an RBM whose equilibrium reads
   T_E = 1.74, T_U = 1.62 (L = 10), and whose chain is slower (after 200 steps the starts from
   T >= 3 still read T_E ≈ 2.0 and are still falling); and the end is *not* the mixture the
   RBM was trained on (the 25 temperatures pooled read T_E = 2.56, T_U = 2.80, ⟨|m|⟩ = 0.51,
   while the end state is ordered, ⟨|m|⟩ ≈ 0.93).
2. *The end state is not an Ising ensemble, so the thermometers disagree.* The reconstruction
   v' is drawn independently site by site given h: an ordered state plus uncorrelated flips
   (6-11 % of the spins per step at the end). The flips raise the nearest-neighbour energy much
   more than they lower the magnetization, and leave the two-peak shape of P(m) intact, so
   T_E > T_M > T_U (L = 10, 25 units, RBM equilibrium: 1.97, 1.90, 1.74) and the observables
   miss their exact values at T_E by tens of standard errors (⟨|m|⟩, U4, χ).
3. *On the way, the ensembles are mixtures*, configurations relaxed to different degrees: the
   energy distribution is several times broader than that of any one Ising temperature (c
   measured / c exact at T_E up to 8-9 after 5-10 steps from T >= 3), which the two
   thermometers, reading different moments, translate into different temperatures.
4. *T_c is not mapped to itself by one step*: the step adds the local noise of point 2 to the
   critical configurations and pulls them part of the way to the end state, so T'(T_c) ≠ T_c
   (L = 8, 16 units: T_E 2.269 -> 2.38, T_U -> 2.26 after one step; with 64 units, which
   reconstruct better, 2.29 and 2.31).
5. *Sectors*: the trained RBM is not exactly Z2-symmetric, so its equilibrium puts unequal
   weight on the two ordered sectors (⟨m⟩ = 0.91 with the global flip move), but plain Gibbs
   sweeps, the flow's own moves, do not cross between them on these time scales (chains from
   random spins: ⟨m⟩ ≈ 0.2-0.3); the flow therefore ends at the equilibrium *within* each
   sector, with the sector weights it started with, which reads slightly differently (L = 10,
   25 units: T_E 2.03 from plain Gibbs chains, as the long flows, against 1.97 with flips).

:func:`flow_thermometry` measures the step-by-step readings and, given samples of the RBM's
equilibrium, where the flow must end.

Conventions: those of :mod:`engines.rbm` (v ∈ {-1,+1}, h ∈ {0,1}, ``p(h_j=1|v) = σ(b_j +
(Wᵀv)_j)``, ``p(v_i=+1|h) = σ(2(a_i + (Wh)_i))``), computed in float64 numpy. Step k draws its
uniforms from ``np.random.default_rng(SeedSequence([seed, k]))``: first an (N, m) array for h,
then an (N, n) array for v', row-major.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import expit

from engines.rg.thermometry import thermometry


def _checked(W, a, b, samples) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    W = np.asarray(W, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[1] != samples.shape[2]:
        raise ValueError(f"Samples must have shape (N, L, L), got {samples.shape}.")
    n = samples.shape[1] * samples.shape[2]
    if W.ndim != 2 or W.shape[0] != n or a.shape != (n,) or b.shape != (W.shape[1],):
        raise ValueError(
            f"W, a, b must have shapes ({n}, m), ({n},), (m,) for samples of shape "
            f"{samples.shape}; got {W.shape}, {a.shape}, {b.shape}."
        )
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("The RBM's parameters contain NaN or infinite values.")
    if not np.all(np.abs(samples) == 1):
        raise ValueError("Samples must contain only spins +1 and -1.")
    return W, a, b, samples


def reconstruction_step(W, a, b, samples: np.ndarray, seed=0) -> np.ndarray:
    """One step v -> h -> v' for each configuration: (N, L, L) ±1 -> (N, L, L) int8 ±1.

    ``seed`` is anything ``np.random.default_rng`` accepts (module doc for the order of draws).
    """
    W, a, b, samples = _checked(W, a, b, samples)
    N, L = samples.shape[0], samples.shape[1]
    rng = np.random.default_rng(seed)
    v = samples.reshape(N, L * L).astype(np.float64)
    h = (rng.random((N, W.shape[1])) < expit(v @ W + b)).astype(np.float64)
    up = rng.random((N, L * L)) < expit(2.0 * (a + h @ W.T))
    return np.where(up, 1, -1).astype(np.int8).reshape(N, L, L)


def rbm_flow(W, a, b, samples: np.ndarray, steps: int, seed: int = 0) -> list[np.ndarray]:
    """Iterate :func:`reconstruction_step`: ``[step 0 = input (int8), step 1, ..., step steps]``.

    Step k draws from ``SeedSequence([seed, k])``, so equal inputs and seeds give equal flows.
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"The seed must be a non-negative integer, got {seed!r}.")
    W, a, b, samples = _checked(W, a, b, samples)
    out = [samples.astype(np.int8)]
    for k in range(1, steps + 1):
        out.append(reconstruction_step(W, a, b, out[-1], np.random.SeedSequence([int(seed), k])))
    return out


FLOW_KEYS = (
    "t_energy",
    "t_abs_m",
    "t_binder",
    "gap",
    "e",
    "abs_m",
    "binder",
    "c",
    "chi",
    "abs_m_z",
    "binder_z",
    "c_z",
    "chi_z",
    "max_abs_z",
)
"""The per-step readings returned by :func:`flow_thermometry` (errors as ``<key>_error``)."""


def flow_thermometry(
    W,
    a,
    b,
    samples: Sequence[np.ndarray],
    temperatures: Sequence[float] | np.ndarray,
    steps: int,
    seed: int = 0,
    J: float = 1.0,
    equilibrium: np.ndarray | None = None,
    read_steps: Sequence[int] | None = None,
) -> dict:
    """The RBM flow from several starting ensembles, read by three thermometers at every step.

    ``samples[i]`` is an (N_i, L, L) ±1 array drawn at ``temperatures[i]`` (in the order of
    the chain, for the error bars); set i is flowed exactly as :func:`rbm_flow` flows it for
    ``steps`` steps with the seed ``SeedSequence([seed, i]).generate_state(1)[0]`` (the steps
    are computed one at a time, not kept), so equal inputs and seeds give equal results and the
    sets draw independent streams. Step 0 is the input itself, whose
    readings check the thermometers (they should agree with the temperature it was drawn at).
    ``read_steps`` (default: every step 0..steps) chooses the steps at which the thermometers
    are read, for long flows. Returns plain arrays, with s = the number of steps read:

    * ``"temperature"`` (n,), ``"steps"`` (s,): the steps read;
    * for each key of :data:`FLOW_KEYS` an (n, s) array and ``<key>_error``
      (:func:`engines.rg.thermometry.thermometry`: ``t_energy``, ``t_abs_m``, ``t_binder``, the gap
      ``t_binder - t_energy``, the statistics, and the z-scores of the other observables against
      the exact Ising values at T_E);
    * ``"c_ratio"`` (n, s): the measured c over the exact c at T_E, how much broader the energy
      distribution is than that of one Ising temperature (1 for an Ising ensemble);
    * ``"flip_fraction"`` (n, steps): the fraction of spins each step changes;
    * ``"equilibrium"``: when ``equilibrium`` (samples of the RBM's own p(v), e.g. from
      :func:`engines.rbm.sample_model`) is given, their thermometry dict: the readings every
      flow tends to as steps grow.
    """
    temperatures = np.asarray(temperatures, dtype=np.float64)
    if temperatures.ndim != 1 or len(samples) != temperatures.size or temperatures.size < 1:
        raise ValueError(
            f"One sample set per temperature is needed: {len(samples)} sets for "
            f"{temperatures.size} temperatures."
        )
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}.")
    read = np.arange(steps + 1) if read_steps is None else np.asarray(read_steps, dtype=np.int64)
    if (
        read.ndim != 1
        or read.size < 1
        or np.any(read < 0)
        or np.any(read > steps)
        or np.any(np.diff(read) <= 0)
    ):
        raise ValueError(f"read_steps must be increasing steps in 0..{steps}, got {read_steps!r}.")
    n, s = temperatures.size, read.size
    out: dict = {"temperature": temperatures, "steps": read}
    for key in (*FLOW_KEYS, "c_ratio"):
        out[key] = np.full((n, s), np.nan)
        out[f"{key}_error"] = np.full((n, s), np.nan)
    out["flip_fraction"] = np.full((n, steps), np.nan)
    W, a, b, _ = _checked(W, a, b, samples[0])
    for i, start in enumerate(samples):
        stream = int(np.random.SeedSequence([int(seed), i]).generate_state(1)[0])
        current = _checked(W, a, b, start)[3].astype(np.int8)
        column = 0
        for k in range(steps + 1):
            if k:
                previous = current
                current = reconstruction_step(
                    W, a, b, previous, np.random.SeedSequence([stream, k])
                )
                out["flip_fraction"][i, k - 1] = float(np.mean(current != previous))
            if column < s and read[column] == k:
                reading = thermometry(current, J)
                for key in FLOW_KEYS:
                    out[key][i, column] = reading[key]
                    out[f"{key}_error"][i, column] = reading.get(f"{key}_error", np.nan)
                out["c_ratio"][i, column] = reading["c"] / reading["c_exact"]
                out["c_ratio_error"][i, column] = reading["c_error"] / reading["c_exact"]
                column += 1
    if equilibrium is not None:
        out["equilibrium"] = thermometry(equilibrium, J)
    return out

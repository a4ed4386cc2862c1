"""The RBM flow of Iso, Shiba & Yokoo (Phys. Rev. E 97, 053304, 2018): iterated reconstruction.

An RBM trained on Ising configurations of many temperatures pooled defines a map on the *same*
lattice: v -> h -> v', with ``h ~ p(h|v)`` and ``v' ~ p(v|h)``. Iterating it from configurations
sampled at a temperature T and reading off the temperature of each step (here: the energy
matched to Kaufman's exact e(L, T'), and the Binder cumulant matched for L <= 8, see
:func:`engines.rg.level_observables` and :func:`engines.rg.binder_temperature`) gives a flow
T -> T'_1 -> T'_2 -> ... with no change of lattice size.

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

Conventions: those of :mod:`engines.rbm` (v ∈ {-1,+1}, h ∈ {0,1}, ``p(h_j=1|v) = σ(b_j +
(Wᵀv)_j)``, ``p(v_i=+1|h) = σ(2(a_i + (Wh)_i))``), computed in float64 numpy. Step k draws its
uniforms from ``np.random.default_rng(SeedSequence([seed, k]))``: first an (N, m) array for h,
then an (N, n) array for v', row-major.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit


def _checked(W, a, b, samples) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    W = np.asarray(W, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    samples = np.asarray(samples)
    if samples.ndim != 3 or samples.shape[1] != samples.shape[2]:
        raise ValueError(f"Samples must have shape (N, L, L), got {samples.shape}.")
    n = samples.shape[1] * samples.shape[2]
    if W.ndim != 2 or W.shape[0] != n or a.shape != (n,) or b.shape != (W.shape[1],):
        raise ValueError(f"W, a, b must have shapes ({n}, m), ({n},), (m,) for samples of shape "
                         f"{samples.shape}; got {W.shape}, {a.shape}, {b.shape}.")
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

"""An RBM whose visible marginal is exactly the 2D Ising model on the L×L torus.

One hidden unit per bond ``(i, j)`` of the torus (each site owns the bonds to its right and lower
neighbour, so there are 2N hidden units, N = L²; on the 2×2 torus the two bonds joining a pair are
two units, as in :mod:`engines.exact`). Visible unit ``i = r·L + c`` is site (r, c) (row-major).

Derivation for ``J > 0`` (K = J/T). Give hidden unit (i, j) the weights ``w`` to both v_i and v_j
and bias 0. Summing it out gives ``1 + e^{w(v_i+v_j)} = e^{w(v_i+v_j)/2} · 2 cosh(w(v_i+v_j)/2)``.
Every site lies on 4 bonds, so the product of the first factors is ``e^{2w Σ_i v_i}``, cancelled by
visible biases ``a_i = -2w``. The second factor is ``2 cosh w`` for an aligned pair and 2 for an
anti-aligned one; choosing ``cosh w = e^{2K}`` makes it ``2 e^{K} e^{K v_i v_j}`` in both cases, so

    Σ_h e^{-E(v,h)} = 2^{2N} e^{2NK} e^{K Σ_<ij> v_i v_j},
    log Z_RBM = log Z_Ising(K) + 2N (ln 2 + K),          w = arccosh(e^{2K}),  a_i = -2w,  b = 0.

This confirms the stated convention for v ∈ {±1}, h ∈ {0, 1}.

For ``J < 0`` the weights are ``(+w, -w)`` on the bond's two ends: the factors
``e^{w(v_i - v_j)/2}`` cancel over the lattice (each site is twice a first and twice a second end),
so ``a = 0``; the second factor is 2 for aligned and ``2 cosh w`` for anti-aligned pairs, and with
``cosh w = e^{2|K|}`` it is ``2 e^{|K|} e^{K v_i v_j}``, so
``log Z_RBM = log Z_Ising + 2N (ln 2 + |K|)``. ``J = 0`` gives w = 0 and the constant 2N ln 2.
In float64, ``w = 2|K| + log(1 + sqrt(1 - e^{-4|K|}))``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engines.rbm.model import RBM


def bonds(L: int) -> np.ndarray:
    """The 2N bonds of the L×L torus as (2N, 2) visible indices: right bonds, then lower bonds."""
    sites = np.arange(L * L).reshape(L, L)
    right = np.stack([sites, np.roll(sites, -1, axis=1)], axis=-1).reshape(-1, 2)
    down = np.stack([sites, np.roll(sites, -1, axis=0)], axis=-1).reshape(-1, 2)
    return np.concatenate([right, down])


def ising_weight(coupling_over_t: float) -> float:
    """``w = arccosh(e^{2|K|})`` computed without cancellation."""
    k = abs(coupling_over_t)
    return 2.0 * k + math.log1p(math.sqrt(-math.expm1(-4.0 * k)))


def ising_log_z_offset(L: int, temperature: float, J: float = 1.0) -> float:
    """``log Z_RBM - log Z_Ising`` for :func:`ising_rbm`: ``2N (ln 2 + |J|/T)``."""
    return 2 * L * L * (math.log(2.0) + abs(J) / temperature)


def ising_rbm(
    L: int, temperature: float, J: float = 1.0, device: str | torch.device = "cpu"
) -> RBM:
    """The exact Ising RBM (float64) of the L×L torus at temperature T, coupling J (module doc)."""
    if isinstance(L, bool) or not isinstance(L, int | np.integer) or L < 2:
        raise ValueError(f"The lattice size L must be an integer >= 2, got {L!r}.")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"The temperature must be a finite number > 0, got {temperature!r}.")
    if not math.isfinite(J):
        raise ValueError(f"The coupling J must be finite, got {J!r}.")
    K = J / temperature
    if abs(K) > 300.0:
        raise ValueError(f"|J|/T must be <= 300 (the weights would overflow), got {abs(K)}.")
    w = ising_weight(K)
    pairs = bonds(int(L))
    n, m = L * L, pairs.shape[0]
    W = np.zeros((n, m))
    columns = np.arange(m)
    W[pairs[:, 0], columns] += w
    W[pairs[:, 1], columns] += w if J >= 0 else -w
    a = np.full(n, -2.0 * w if J >= 0 else 0.0)
    return RBM(W, a, np.zeros(m), device=device, dtype=torch.float64)

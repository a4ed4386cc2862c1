"""Wolff and Swendsen–Wang cluster updates for the 2D Ising model (numba, GIL released).

Both use Fortuin–Kasteleyn bonds: a bond between neighbours i, j is *satisfied* when
``J s_i s_j > 0`` and is activated with probability ``p_add = 1 - exp(-2β|J|)``; unsatisfied bonds
are never active. For J < 0 the clusters are antiferromagnetic (alternating signs), which the same
rules handle. Flipping a whole cluster C leaves every bond energy unchanged except the field term,
which changes by ``ΔE = 2h S_C`` with ``S_C = Σ_{i∈C} s_i``:

* Wolff: grow one cluster from a uniformly chosen site (breadth-first, explicit int32 queues
  that are also the cluster's member list), then flip it with probability ``min(1, exp(-2βh S_C))``
  (always at h = 0, where no random number is drawn for the decision).
* Swendsen–Wang: build every cluster with union–find (path halving), then give each cluster its
  new orientation by heat bath with the field: flip with probability ``1 / (1 + exp(2βh S_C))``
  (1/2 at h = 0). One call of the SW update resamples every spin's cluster once.
"""

from __future__ import annotations

import numpy as np

from engines.ising.jit import kernel
from engines.ising.rng import uniform


def bond_probability(beta: float, coupling: float) -> float:
    """``p_add = 1 - exp(-2β|J|)``, the probability of activating a satisfied bond."""
    return float(-np.expm1(-2.0 * beta * abs(coupling)))


@kernel
def _wolff(spins, max_updates, target, p_add, sign_j, two_beta_h, state):
    """Wolff updates until ``max_updates`` are done or, if ``target > 0``, until the summed cluster
    size reaches ``target``. Returns ``(n_updates, total_size, n_late, late_size)``, where the
    "late" updates are those started once half of ``target`` had been reached.

    Random numbers: one for the seed site, one per neighbour of each member (drawn whether or not
    the neighbour can join, which keeps the inner loop free of unpredictable branches), and one
    for the field acceptance when ``h S_C > 0``. The cluster is held as row and column queues.
    """
    size = spins.shape[0]
    n_sites = size * size
    rows = np.empty(n_sites + 1, dtype=np.int32)  # +1: a rejected candidate is written past tail
    cols = np.empty(n_sites + 1, dtype=np.int32)
    mark = np.zeros((size, size), dtype=np.uint8)
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    n_updates = 0
    total = 0
    n_late = 0
    late_size = 0
    while n_updates < max_updates and (target <= 0 or total < target):
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        seed = min(int(u * n_sites), n_sites - 1)
        rows[0] = seed // size
        cols[0] = seed - rows[0] * size
        mark[rows[0], cols[0]] = 1
        head = 0
        tail = 1
        spin_sum = 0
        while head < tail:
            r = rows[head]
            c = cols[head]
            head += 1
            s = spins[r, c]
            spin_sum += s
            ru = r - 1 if r > 0 else size - 1
            rd = r + 1 if r + 1 < size else 0
            cl = c - 1 if c > 0 else size - 1
            cr = c + 1 if c + 1 < size else 0
            for d in range(4):
                nr = ru if d == 0 else (rd if d == 1 else r)
                nc = cl if d == 2 else (cr if d == 3 else c)
                u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                join = (mark[nr, nc] == 0) & (sign_j * s * spins[nr, nc] > 0) & (u < p_add)
                mark[nr, nc] |= join
                rows[tail] = nr
                cols[tail] = nc
                tail += join
        log_accept = -two_beta_h * spin_sum
        accept = True
        if log_accept < 0.0:
            u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
            accept = u < np.exp(log_accept)
        for k in range(tail):
            mark[rows[k], cols[k]] = 0
            if accept:
                spins[rows[k], cols[k]] = -spins[rows[k], cols[k]]
        if 2 * total >= target > 0:
            n_late += 1
            late_size += tail
        total += tail
        n_updates += 1
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return n_updates, total, n_late, late_size


@kernel
def wolff_updates(spins, n_updates, p_add, sign_j, two_beta_h, state):
    """Run exactly ``n_updates`` Wolff updates in place; returns the summed cluster size (int64)."""
    return _wolff(spins, n_updates, 0, p_add, sign_j, two_beta_h, state)[1]


@kernel
def wolff_until(spins, target, p_add, sign_j, two_beta_h, state):
    """Run Wolff updates until the summed cluster size reaches ``target`` (thermalization only).

    Returns ``(n_updates, total_size, n_late, late_size)``: the number of updates and their summed
    size, and the number and summed size of the "late" updates (those started once half of
    ``target`` had been reached), whose mean estimates the equilibrium mean cluster size. The
    stopping rule depends on the trajectory, so this is used only before measurements start (see
    ``IsingSimulation.thermalize``).
    """
    return _wolff(spins, np.iinfo(np.int64).max, target, p_add, sign_j, two_beta_h, state)


@kernel
def swendsen_wang_sweeps(spins, n_sweeps, p_add, sign_j, two_beta_h, state):
    """Run ``n_sweeps`` Swendsen–Wang updates in place; returns the total number of clusters built.

    Union–find over a flat ``parent`` array with path halving; a union links the larger root under
    the smaller, so each root is its cluster's smallest site. Random numbers, in a fixed order: two
    per site in row-major order (its right bond, then its down bond, drawn whether or not the bond
    is satisfied so the loop has no data-dependent draws), then one per cluster, clusters ordered
    by their smallest site.
    """
    size = spins.shape[0]
    n_sites = size * size
    parent = np.empty(n_sites, dtype=np.int32)
    spin_sum = np.zeros(n_sites, dtype=np.int64)
    flip = np.zeros(n_sites, dtype=np.bool_)
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    n_clusters = 0
    for _ in range(n_sweeps):
        for i in range(n_sites):
            parent[i] = i
        for r in range(size):
            rd = r + 1 if r + 1 < size else 0
            for c in range(size):
                cr = c + 1 if c + 1 < size else 0
                s = spins[r, c]
                for d in range(2):
                    if d == 0:
                        j = r * size + cr
                        active = sign_j * s * spins[r, cr] > 0
                    else:
                        j = rd * size + c
                        active = sign_j * s * spins[rd, c] > 0
                    u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                    if active and u < p_add:
                        a = r * size + c
                        while parent[a] != a:
                            parent[a] = parent[parent[a]]
                            a = parent[a]
                        while parent[j] != j:
                            parent[j] = parent[parent[j]]
                            j = parent[j]
                        if a < j:
                            parent[j] = a
                        elif j < a:
                            parent[a] = j
        for r in range(size):
            for c in range(size):
                i = r * size + c
                root = parent[i]
                while parent[root] != root:
                    root = parent[root]
                parent[i] = root
                spin_sum[root] += spins[r, c]
        for i in range(n_sites):
            if parent[i] == i:
                n_clusters += 1
                u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                flip[i] = u * (1.0 + np.exp(two_beta_h * spin_sum[i])) < 1.0
                spin_sum[i] = 0
        for r in range(size):
            for c in range(size):
                if flip[parent[r * size + c]]:
                    spins[r, c] = -spins[r, c]
    state[0], state[1], state[2], state[3] = s0, s1, s2, s3
    return n_clusters

"""Ising thermodynamics of an RBM trained on L×L configurations: model against data and exact.

An RBM trained on Ising configurations at temperature T defines a distribution p(v) over the
lattice; its thermodynamics are the Ising observables *averaged over p(v)*, measured here on long
equilibrium chains of the model (:func:`engines.rbm.sampling.sample_model`: block Gibbs with the
exact global flip v → -v, or parallel tempering), never on k-step reconstructions of data.

Conventions are those of :mod:`engines.ising.observables` (per spin, N = L², visible unit
``i = r·L + c`` is site (r, c), row-major as in :mod:`engines.rbm.ising_construction`):
``e = H/N`` with ``H = -J Σ_<ij> v_i v_j`` over the 2N bonds of the torus (zero field),
``m = Σ v_i / N``, ``c = N var(e) / T²``, ``χ = N (⟨m²⟩ - ⟨|m|⟩²) / T``,
``U4 = 1 - ⟨m⁴⟩ / (3 ⟨m²⟩²)``. Means carry ``sqrt(2 τ_int σ² / n)`` errors and c, χ, U4
blocked-jackknife errors, both from :func:`engines.ising.summarize` applied to the chain-major
series (each chain's stretch is a time series; τ_int is estimated on the concatenation, where the
chain boundaries only cut correlations). Keys of every estimate dict: ``e, m, abs_m, m2, m4, c,
chi, binder``.

Three sources, compared by :func:`compare`:

* :func:`model_thermodynamics` — the model, from equilibrium chains, with mixing diagnostics
  (τ_int per observable in sweeps, and the spread of the chain means against what τ_int predicts:
  a ratio well above 1 means chains that do not mix, e.g. stuck in one ordered phase);
* :func:`data_thermodynamics` — a time-ordered series of configurations (the training data);
* :func:`exact_thermodynamics` — the exact Ising values (Kaufman for e and c at any L, the row
  transfer matrix for the magnetization moments at L ≤ 10).

:func:`exact_model_thermodynamics` evaluates the model's observables *exactly* (no sampling) for
n_h ≤ 20 by enumerating the hidden layer: given h the spins are independent with
``⟨v_i | h⟩ = t_i = tanh(a_i + (W h)_i)``, so the bond sum ``B = Σ_<ij> v_i v_j`` has
``E[B|h] = Σ_<ij> t_i t_j`` and ``Var[B|h] = Σ_<ij> (1 - t_i² t_j²) + Σ_i (1 - t_i²)
[(Σ_j A_ij t_j)² - Σ_j A_ij² t_j²]`` (A the bond-count matrix; bonds sharing a site are the only
correlated pairs), and the number of up spins is Poisson-binomial, convolved site by site. It is
the oracle that validates the sampler and the training recipe on small models.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engines.exact import energy_per_spin, magnetization_moments, specific_heat_per_spin
from engines.ising import (
    Estimate,
    energies_per_spin,
    magnetizations_per_spin,
    summarize,
)
from engines.rbm.ising_construction import bonds
from engines.rbm.model import RBM
from engines.rbm.partition import layer_states, log2cosh
from engines.rbm.sampling import DEFAULT_PT_TEMPERATURES, sample_model

OBSERVABLES = ("e", "m", "abs_m", "m2", "m4", "c", "chi", "binder")
EXACT_MAGNETIZATION_MAX_L = 10
EXACT_MODEL_MAX_HIDDEN = 20
_HIDDEN_CHUNK = 1 << 14


def lattice_size(n_visible: int) -> int:
    """L for n_visible = L² spins; ``ValueError`` when n_visible is not a square ≥ 4."""
    L = math.isqrt(int(n_visible))
    if n_visible != L * L or L < 2:
        raise ValueError(
            f"The model has {n_visible} visible units, not the L² (L >= 2) spins of a lattice."
        )
    return L


def _check_temperature(T: float) -> float:
    if not (isinstance(T, int | float) and math.isfinite(T) and T > 0):
        raise ValueError(f"The temperature must be a finite number > 0, got {T!r}.")
    return float(T)


def data_thermodynamics(samples: np.ndarray, temperature: float, J: float = 1.0) -> dict:
    """Estimates of a time-ordered series of ±1 configurations (n, L·L) or (n, L, L).

    Returns ``{key: Estimate}`` for the keys of :data:`OBSERVABLES` (``J`` scales e and c; the
    series must be in time order for the τ_int-based errors to mean anything).
    """
    T = _check_temperature(temperature)
    samples = np.asarray(samples)
    if samples.ndim == 2:
        L = lattice_size(samples.shape[1])
        samples = samples.reshape(-1, L, L)
    if samples.ndim != 3 or samples.shape[0] < 20:
        raise ValueError(
            f"Samples must be (n >= 20, L·L) or (n, L, L) spins, got shape {samples.shape}."
        )
    e = J * energies_per_spin(samples)
    m = magnetizations_per_spin(samples)
    return summarize(e, m, T, samples.shape[1] * samples.shape[2])


def exact_thermodynamics(L: int, temperature: float, J: float = 1.0) -> dict[str, float]:
    """Exact per-spin values of the L×L torus at h = 0: ``e`` and ``c`` (Kaufman, any L ≥ 2);
    for L ≤ 10 also ``m`` (0 by symmetry), ``abs_m``, ``m2``, ``m4``, ``chi`` and ``binder``
    (row transfer matrix)."""
    T = _check_temperature(temperature)
    out = {"e": float(energy_per_spin(L, T, J)), "c": float(specific_heat_per_spin(L, T, J))}
    if L <= EXACT_MAGNETIZATION_MAX_L:
        moments = magnetization_moments(L, T, J)
        out["m"] = 0.0
        out.update({k: float(moments[k]) for k in ("abs_m", "m2", "m4", "chi", "binder")})
    return out


def _chain_diagnostics(
    series: dict[str, np.ndarray],
    n_chains: int,
    per_chain: int,
    estimates: dict[str, Estimate],
    thin: int,
) -> dict:
    """τ_int in sweeps, and for the means the spread of the chain means against the error."""
    tau = {k: (None if est.tau is None else float(est.tau) * thin) for k, est in estimates.items()}
    spread = {}
    if n_chains >= 2 and per_chain >= 2:
        for key, x in series.items():
            means = x[: n_chains * per_chain].reshape(n_chains, per_chain).mean(1)
            between = float(means.std(ddof=1)) / math.sqrt(n_chains)
            error = estimates[key].error
            spread[key] = between / error if error > 0 else math.nan
    return {"tau_int_sweeps": tau, "chain_spread_ratio": spread}


def model_thermodynamics(
    model: RBM,
    temperature: float,
    n_samples: int = 20_000,
    n_chains: int = 32,
    burn_in: int = 1000,
    thin: int = 10,
    method: str = "gibbs",
    flip_moves: bool = True,
    n_temperatures: int = DEFAULT_PT_TEMPERATURES,
    generator: torch.Generator | None = None,
    J: float = 1.0,
) -> dict:
    """Equilibrium thermodynamics of ``model`` read as an L×L Ising lattice at temperature T.

    Draws ``n_samples`` configurations from ``n_chains`` chains (``burn_in`` sweeps, then one
    sample every ``thin`` sweeps; ``method`` "gibbs" or "pt", ``flip_moves`` the exact global
    flip proposed with probability 1/2 per sweep; see :func:`engines.rbm.sampling.sample_model`).
    ``temperature`` only enters c and χ (the model has no temperature of its own).

    Returns ``{"estimates": {key: Estimate}, "n_samples", "L", "temperature", "sampler": the
    sampler's diagnostics, "tau_int_sweeps": {key: τ_int in sweeps}, "chain_spread_ratio":
    {key: (std of chain means / sqrt(chains)) / error}}`` for the mean observables; spread
    ratios well above 1 mean that the chains disagree more than their τ_int allows (not mixed).
    """
    T = _check_temperature(temperature)
    L = lattice_size(model.n_visible)
    samples, info = sample_model(
        model,
        n_samples,
        burn_in=burn_in,
        thin=thin,
        method=method,
        n_chains=n_chains,
        generator=generator,
        n_temperatures=n_temperatures,
        flip_moves=flip_moves,
    )
    lattices = samples.reshape(-1, L, L)
    e = J * energies_per_spin(lattices)
    m = magnetizations_per_spin(lattices)
    estimates = summarize(e, m, T, L * L)
    per_chain = math.ceil(n_samples / n_chains)
    full_chains = n_samples // per_chain
    series = {"e": e, "m": m, "abs_m": np.abs(m), "m2": m * m}
    out = {
        "estimates": estimates,
        "n_samples": int(n_samples),
        "L": L,
        "temperature": T,
        "sampler": info,
    }
    out.update(_chain_diagnostics(series, full_chains, per_chain, estimates, thin))
    return out


def compare(
    model: dict[str, Estimate],
    data: dict[str, Estimate] | None = None,
    exact: dict[str, float] | None = None,
    keys: tuple[str, ...] = OBSERVABLES,
) -> dict[str, dict]:
    """Model against data and exact values, key by key.

    For each key present: ``model``, ``model_error``, and with data ``data``, ``data_error``,
    ``z_data = (model - data) / sqrt(σ_model² + σ_data²)``; with exact values ``exact`` and
    ``z_exact = (model - exact) / σ`` where σ² = σ_model² + σ_data² when data are given (the
    model inherits the training data's noise) and σ_model² otherwise; with both, also
    ``z_data_exact = (data - exact) / σ_data``. Also ``relative = model / exact - 1``.
    """
    out: dict[str, dict] = {}
    for key in keys:
        if key not in model:
            continue
        mod = model[key]
        row = {"model": float(mod.value), "model_error": float(mod.error)}
        variance = mod.error**2
        if data is not None and key in data:
            ref = data[key]
            row["data"], row["data_error"] = float(ref.value), float(ref.error)
            variance += ref.error**2
            row["z_data"] = _ratio(mod.value - ref.value, math.sqrt(variance))
        if exact is not None and key in exact:
            row["exact"] = float(exact[key])
            row["z_exact"] = _ratio(mod.value - exact[key], math.sqrt(variance))
            if exact[key] != 0:
                row["relative"] = float(mod.value / exact[key] - 1.0)
            if "data" in row:
                row["z_data_exact"] = _ratio(row["data"] - exact[key], row["data_error"])
        out[key] = row
    return out


def _ratio(x: float, sigma: float) -> float:
    return float(x / sigma) if sigma > 0 else (0.0 if x == 0 else math.copysign(math.inf, x))


def _bond_matrix(L: int) -> np.ndarray:
    """A[i, j] = number of bonds joining sites i and j on the L×L torus (2N bonds in all)."""
    A = np.zeros((L * L, L * L))
    for i, j in bonds(L):
        A[i, j] += 1.0
        A[j, i] += 1.0
    return A


def exact_model_thermodynamics(model: RBM, temperature: float, J: float = 1.0) -> dict:
    """The model's exact ⟨e⟩, c, ⟨m⟩, ⟨|m|⟩, ⟨m²⟩, ⟨m⁴⟩, χ, U4 (floats, keys of
    :data:`OBSERVABLES`) by enumerating its ≤ 20 hidden units (module doc), float64.

    Cost: 2^m · N · (m + N) operations (L = 8, m = 16: about a second).
    """
    T = _check_temperature(temperature)
    L = lattice_size(model.n_visible)
    m = model.n_hidden
    if m > EXACT_MODEL_MAX_HIDDEN:
        raise ValueError(
            f"Exact model thermodynamics enumerate <= {EXACT_MODEL_MAX_HIDDEN} hidden units, "
            f"this model has {m}."
        )
    m64 = model.to(torch.float64, torch.device("cpu"))
    N = L * L
    A = torch.as_tensor(_bond_matrix(L))
    A2 = A * A
    total_a2 = float(A2.sum())
    log_w, moments_b, dist = [], [], []
    with torch.no_grad():
        for start in range(0, 1 << m, _HIDDEN_CHUNK):
            h = layer_states(m, start, min(1 << m, start + _HIDDEN_CHUNK), m64.device)
            x = m64.visible_inputs(h)
            log_w.append(h @ m64.b + log2cosh(x).sum(-1))
            t = torch.tanh(x)
            t2 = t * t
            field = t @ A  # Σ_j A_ij t_j
            mean_b = 0.5 * (field * t).sum(-1)
            shared = t2 @ A2  # Σ_j A_ij² t_j²
            var_b = 0.5 * (total_a2 - (t2 * shared).sum(-1))  # one bond with itself
            var_b += ((1.0 - t2) * (field * field - shared)).sum(-1)  # two bonds at site i
            moments_b.append(torch.stack([mean_b, var_b + mean_b**2], 1))
            dist.append(_poisson_binomial((1.0 + t) / 2.0))
        p = torch.softmax(torch.cat(log_w), 0)
        mb, mb2 = (p @ torch.cat(moments_b)).tolist()
        P = (p @ torch.cat(dist)).numpy()
    mags = (2.0 * np.arange(N + 1) - N) / N
    mean_m, abs_m, m2, m4 = (float(P @ f) for f in (mags, np.abs(mags), mags**2, mags**4))
    return {
        "e": -J * mb / N,
        "m": mean_m,
        "abs_m": abs_m,
        "m2": m2,
        "m4": m4,
        "c": J**2 * (mb2 - mb**2) / (N * T**2),
        "chi": N * (m2 - abs_m**2) / T,
        "binder": 1.0 - m4 / (3.0 * m2**2),
    }


def _poisson_binomial(q: torch.Tensor) -> torch.Tensor:
    """P(k of the N independent spins are up), k = 0..N, for each row of up-probabilities q."""
    rows, N = q.shape
    dist = torch.zeros(rows, N + 1, dtype=q.dtype)
    dist[:, 0] = 1.0
    for i in range(N):
        qi = q[:, i : i + 1]
        dist[:, 1 : i + 2] = dist[:, 1 : i + 2] * (1.0 - qi) + dist[:, : i + 1] * qi
        dist[:, 0] *= 1.0 - q[:, i]
    return dist

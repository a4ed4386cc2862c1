"""Equilibrium samples of an RBM's visible layer from long Markov chains (not reconstructions).

``n_chains`` chains start from independent uniform spins, run ``burn_in`` block-Gibbs sweeps
(v → h → v) and then record their visible state every ``thin`` sweeps. With ``method="pt"`` each
chain is the β = 1 replica of a parallel-tempering ladder (:mod:`engines.rbm.tempering`, default
10 temperatures), one Gibbs sweep of every replica plus one round of swaps per sweep.

The returned array is *chain-major*: rows ``c·s .. (c+1)·s - 1`` are the successive samples of
chain c (s = ceil(n_samples / n_chains); the last chain is cut short to give exactly n_samples), so
that each chain's stretch is a time series for autocorrelation analysis.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engines.ising import integrated_autocorrelation_time
from engines.rbm.model import RBM, spins
from engines.rbm.moves import global_flip
from engines.rbm.tempering import TemperedChains

SAMPLING_METHODS = ("gibbs", "pt")
DEFAULT_PT_TEMPERATURES = 10
_MIN_SERIES_FOR_TAU = 16


def _check(
    n_samples: int, burn_in: int, thin: int, method: str, n_chains: int, flip_probability: float
) -> None:
    if n_samples < 1 or n_chains < 1 or thin < 1 or burn_in < 0:
        raise ValueError(
            "sample_model needs n_samples >= 1, n_chains >= 1, thin >= 1 and burn_in >= 0, got "
            f"{n_samples}, {n_chains}, {thin}, {burn_in}."
        )
    if method not in SAMPLING_METHODS:
        raise ValueError(f"Unknown sampling method {method!r}; use one of {SAMPLING_METHODS}.")
    if not 0.0 < flip_probability <= 1.0:
        raise ValueError(f"flip_probability must be in (0, 1], got {flip_probability!r}.")


def _tau_energy(model: RBM, series: torch.Tensor) -> float:
    """Mean over chains of τ_int of F(v) along each chain (thinned samples); NaN if too short."""
    per_chain = series.shape[1]
    if per_chain < _MIN_SERIES_FOR_TAU:
        return math.nan
    m64 = model.to(torch.float64)
    with torch.no_grad():
        f = m64.free_energy(series.to(torch.float64)).cpu().numpy()  # (chains, per_chain)
    taus = [integrated_autocorrelation_time(row)[0] for row in f]
    return float(np.mean(taus))


def sample_model(
    model: RBM,
    n_samples: int,
    burn_in: int = 1000,
    thin: int = 10,
    method: str = "gibbs",
    n_chains: int = 32,
    generator: torch.Generator | None = None,
    n_temperatures: int = DEFAULT_PT_TEMPERATURES,
    flip_moves: bool = False,
    flip_probability: float = 0.5,
) -> tuple[np.ndarray, dict]:
    """Draw ``n_samples`` visible configurations (int8 ±1, (n_samples, n)) from p(v).

    Diagnostics: ``burn_in``, ``thin``, ``n_chains``, ``method``, ``tau_int_energy`` (τ_int of the
    free energy F(v) per chain in units of thinned samples, averaged over chains; NaN when a chain
    holds fewer than 16 samples) and, for PT, ``acceptance`` (swap rate of each neighbouring pair of
    the ladder) and ``betas``. ``generator`` defaults to one seeded with 0 on the model's device.
    With ``flip_moves``, every sweep is followed by the global v → -v Metropolis move
    (:mod:`engines.rbm.moves`, for every replica with PT), which lets chains of a Z2-symmetric
    model (trained on Ising data) cross between the ordered phases. The move is proposed with
    probability ``flip_probability`` (default 1/2): for an exactly symmetric model it is always
    accepted, and proposed every sweep it would flip the lattice deterministically, invisibly in
    samples taken an even number of sweeps apart.
    """
    _check(n_samples, burn_in, thin, method, n_chains, flip_probability)
    if generator is None:
        generator = torch.Generator(device=model.device).manual_seed(0)
    per_chain = math.ceil(n_samples / n_chains)
    recorded = torch.empty(
        (n_chains, per_chain, model.n_visible), dtype=torch.int8, device=model.device
    )
    with torch.no_grad():
        if method == "pt":
            chains = TemperedChains.independent(model, n_temperatures, n_chains, generator)
            chains.advance(
                model,
                burn_in,
                generator,
                flip_moves=flip_moves,
                flip_probability=flip_probability,
            )
            for t in range(per_chain):
                v = chains.advance(
                    model,
                    thin,
                    generator,
                    flip_moves=flip_moves,
                    flip_probability=flip_probability,
                )[0]
                recorded[:, t] = v.to(torch.int8)
        else:
            shape = (n_chains, model.n_visible)
            v = spins(torch.full(shape, 0.5, dtype=model.dtype, device=model.device), generator)

            def sweeps(v: torch.Tensor, count: int) -> torch.Tensor:
                if not flip_moves:
                    return model.gibbs(v, count, generator)
                for _ in range(count):
                    v = model.gibbs(v, 1, generator)
                    x = model.hidden_inputs(v)
                    v = global_flip(model, v, x, generator, probability=flip_probability)[0]
                return v

            v = sweeps(v, burn_in)
            for t in range(per_chain):
                v = sweeps(v, thin)
                recorded[:, t] = v.to(torch.int8)
    diagnostics = {
        "burn_in": int(burn_in),
        "thin": int(thin),
        "n_chains": int(n_chains),
        "method": method,
        "flip_moves": bool(flip_moves),
        "flip_probability": float(flip_probability),
        "tau_int_energy": _tau_energy(model, recorded),
    }
    if method == "pt":
        diagnostics["acceptance"] = chains.acceptance
        diagnostics["betas"] = chains.betas.tolist()
    samples = recorded.reshape(n_chains * per_chain, model.n_visible)[:n_samples]
    return samples.cpu().numpy(), diagnostics

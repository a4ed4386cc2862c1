"""Measuring a trained RBM: log Z (exact or AIS), equilibrium samples of the model, their
observables, and the effective Hamiltonian of the paper's eqs. 18–19.
"""

from __future__ import annotations

import numpy as np
import torch

from engines.ising import (
    correlation_function,
    energies_per_spin,
    magnetizations_per_spin,
    summarize,
)
from engines.rbm import (
    ais_log_partition,
    base_biases_from_data,
    log_partition_exact,
    sample_model,
)
from engines.rbm.partition import enumeration_cost
from engines.rg import effective_couplings, free_energy_vs_ising
from lab.cli.common import (
    CliError,
)

EXACT_UNITS = 24


EFFECTIVE_HAMILTONIAN_MAX = 20_000  # configurations used by the coupling regression


EXACT_BUDGET = 2.0**35


OBSERVABLES = ("e", "abs_m", "c", "chi", "binder")


def _generator(seed: int, device: torch.device) -> torch.Generator:
    return torch.Generator(device=device).manual_seed(seed)


# ---------------------------------------------------------------------------- sample
def _model_samples(model, size: int, n: int, burn_in: int, thin: int, method: str,
                   chains: int, seed: int) -> tuple[np.ndarray, dict]:
    try:
        samples, diagnostics = sample_model(model, n, burn_in=burn_in, thin=thin, method=method,
                                            n_chains=chains,
                                            generator=_generator(seed, model.device),
                                            flip_moves=True)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return samples[:n].reshape(-1, size, size), diagnostics


# ---------------------------------------------------------------------------- evaluate
def log_z_of(model, n_chains: int, n_betas: int, seed: int, data: np.ndarray):
    """(log Z, error, method): exact enumeration when affordable, AIS otherwise."""
    model64 = model.to(torch.float64)
    if (min(model.n_visible, model.n_hidden) <= EXACT_UNITS
            and enumeration_cost(model64) <= EXACT_BUDGET):
        return log_partition_exact(model64), 0.0, "exact"
    log_z, error = ais_log_partition(model64, n_chains, n_betas,
                                     _generator(seed, model.device),
                                     base=base_biases_from_data(data))
    return log_z, error, "ais"


def _observables(samples: np.ndarray, temperature: float) -> dict[str, float]:
    size = samples.shape[1]
    e, m = energies_per_spin(samples), magnetizations_per_spin(samples)
    out: dict[str, object] = {}
    for name, est in summarize(e, m, temperature, size * size).items():
        if name in OBSERVABLES:
            out[name], out[f"{name}_error"] = float(est.value), float(est.error)
    r, c, err = correlation_function(samples)
    out["correlation"], out["correlation_error"] = [float(x) for x in c], [float(x) for x in err]
    return out


def _effective_hamiltonian(model, configs: np.ndarray, temperature: float) -> dict:
    """Eqs. 18–19: F(v) against βH(v) on the data, and the couplings of -F by regression."""
    params = {k: v.astype(np.float64) for k, v in model.to_numpy().items()}
    fit = free_energy_vs_ising(params["W"], params["a"], params["b"], configs, temperature)
    couplings = effective_couplings(params["W"], params["a"], params["b"],
                                    configs[:EFFECTIVE_HAMILTONIAN_MAX])
    out = {"free_energy_slope": float(fit["slope"]),
           "free_energy_slope_error": float(fit["slope_error"]),
           "free_energy_r2": float(fit["r2"]), "beta_J": 1.0 / temperature}
    for name in ("K1", "K2", "K4", "field"):
        value, error = couplings[name]
        out[name], out[f"{name}_error"] = float(value), float(error)
    return out

"""Restricted Boltzmann machines of the paper: ±1 visible spins, {0,1} hidden units, torch.

``E(v, h) = -a·v - b·h - vᵀWh``, ``F(v) = -a·v - Σ_j log(1 + exp(b_j + (Wᵀv)_j))``.

- ``model``: the :class:`RBM` (parameters, conditionals, free energy, Gibbs sampling);
  ``moves``: the exact global spin-flip move v → -v.
- ``training``: :class:`RBMTrainer` (CD-k, PCD, parallel tempering, the exact negative phase;
  steppable, resumable) and its settings :class:`RBMConfig` (``config``); ``optimizers``,
  ``tempering``, ``symmetry`` (Z2-symmetric parametrizations), ``exact_phase`` support it.
- ``recipes``: named presets (:func:`engines.rbm.recipes.ising_config`, the recipe that learns
  Ising thermodynamics); ``thermodynamics``: the model's e, ⟨|m|⟩, c, χ against data and exact.
- ``partition``: exact log Z by enumeration; ``ais``: annealed importance sampling.
- ``likelihood_fit``: the exact maximum-likelihood RBM of a small hidden layer (L-BFGS),
  what no likelihood trainer can beat.
- ``metrics``: NLL, pseudo-likelihood, reconstruction mismatch; ``sampling``: equilibrium samples.
- ``interchange``: .npz files in the ±1 or {0,1} convention.
- ``ising_construction``: the exact Ising RBM (one hidden unit per bond).

The names below are loaded on first use (PEP 562), so ``from engines.rbm.config import …`` (the
settings and their constraints, which the command line's parser needs) never imports torch.
"""

from typing import TYPE_CHECKING

from engines.lazy import lazy_attributes

_WHERE = {
    "ais_log_partition": "ais",
    "base_biases_from_data": "ais",
    "beta_schedule": "ais",
    "RBMConfig": "config",
    "RBMDivergence": "config",
    "from_zero_one": "interchange",
    "load_npz": "interchange",
    "save_npz": "interchange",
    "to_zero_one": "interchange",
    "ising_log_z_offset": "ising_construction",
    "ising_rbm": "ising_construction",
    "mean_free_energy": "metrics",
    "nll": "metrics",
    "pseudo_likelihood": "metrics",
    "reconstruction_mismatch": "metrics",
    "RBM": "model",
    "global_flip": "moves",
    "all_visible_states": "partition",
    "log_partition_exact": "partition",
    "log_probabilities_exact": "partition",
    "sample_model": "sampling",
    "TemperedChains": "tempering",
    "beta_ladder": "tempering",
    "RBMTrainer": "training",
}
__all__ = [
    "RBM",
    "RBMConfig",
    "RBMDivergence",
    "RBMTrainer",
    "TemperedChains",
    "ais_log_partition",
    "all_visible_states",
    "base_biases_from_data",
    "beta_ladder",
    "beta_schedule",
    "from_zero_one",
    "global_flip",
    "ising_log_z_offset",
    "ising_rbm",
    "load_npz",
    "log_partition_exact",
    "log_probabilities_exact",
    "mean_free_energy",
    "nll",
    "pseudo_likelihood",
    "reconstruction_mismatch",
    "sample_model",
    "save_npz",
    "to_zero_one",
]
__getattr__ = lazy_attributes(__name__, _WHERE)


if TYPE_CHECKING:
    from engines.rbm.ais import ais_log_partition, base_biases_from_data, beta_schedule
    from engines.rbm.config import RBMConfig, RBMDivergence
    from engines.rbm.interchange import from_zero_one, load_npz, save_npz, to_zero_one
    from engines.rbm.ising_construction import ising_log_z_offset, ising_rbm
    from engines.rbm.metrics import (
        mean_free_energy,
        nll,
        pseudo_likelihood,
        reconstruction_mismatch,
    )
    from engines.rbm.model import RBM
    from engines.rbm.moves import global_flip
    from engines.rbm.partition import (
        all_visible_states,
        log_partition_exact,
        log_probabilities_exact,
    )
    from engines.rbm.sampling import sample_model
    from engines.rbm.tempering import TemperedChains, beta_ladder
    from engines.rbm.training import RBMTrainer

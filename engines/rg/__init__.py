"""Real-space renormalization of Ising configurations: block spins and their RG flow.

- ``block_spin``: majority rule (seeded tie-break) and decimation with b x b blocks, iterated.
- ``effective_temperature``: T' of coarse configurations by matching the exact finite-size energy
  (Kaufman), and the observables of one RG level (e, |m|, U4, C(r), T').
- ``binder_temperature``: T_U of coarse configurations by matching the exact Binder cumulant
  (transfer matrix, sizes <= 8), whose flow has T_c as its fixed point.
- ``thermometry``: three thermometers (energy = maximum likelihood, ⟨|m|⟩, Binder; exact curves
  for L <= 10) of any set of configurations, and z-scores saying how far it is from an Ising
  equilibrium ensemble at one temperature.
- ``rbm_coarse``: the RBM as coarse-graining: hidden activations and samples, receptive-field
  centres, spread and locality, units matched one to one to blocks (``matched_locality``, the
  locality figure to report), the hidden layer drawn as the coarse lattice.
- ``stack``: stacked RBMs: each level's hidden layer drawn as the coarse lattice that the next
  level is trained on (greedy trainer, one trainer configuration per level), and coarse-graining
  through the stack, refused for levels whose units are not local.
- ``rbm_flow``: the RBM flow of Iso, Shiba & Yokoo: v -> h -> v' iterated on the same lattice,
  and its thermometry step by step (``flow_thermometry``).
- ``reproductions``: Mehta–Schwab, Combe §4.1 and the RBM flow as engine functions with full and
  quick presets (``run_reproduction``).
- ``effective_hamiltonian``: the RBM's free energy F(v) against the Ising βH(v) (slope 1 when the
  Boltzmann weights are learned) and its effective couplings (field, K1, K2, K4) by regression.

The names load on first use (PEP 562, :mod:`engines.lazy`): the command line reads
``MIN_BLOCK_SHARE`` without torch."""

from typing import TYPE_CHECKING

from engines.lazy import lazy_attributes

_WHERE = {
    "binder_temperature": "binder_temperature",
    "RULES": "block_spin",
    "coarse_grain": "block_spin",
    "decimation": "block_spin",
    "majority": "block_spin",
    "coupling_features": "effective_hamiltonian",
    "effective_couplings": "effective_hamiltonian",
    "free_energies": "effective_hamiltonian",
    "free_energy_vs_ising": "effective_hamiltonian",
    "effective_temperature": "effective_temperature",
    "level_observables": "effective_temperature",
    "block_shares": "rbm_coarse",
    "hidden_activations": "rbm_coarse",
    "hidden_lattice": "rbm_coarse",
    "hidden_samples": "rbm_coarse",
    "locality": "rbm_coarse",
    "match_units_to_blocks": "rbm_coarse",
    "matched_locality": "rbm_coarse",
    "receptive_field_centres": "rbm_coarse",
    "unit_orientations": "rbm_coarse",
    "flow_thermometry": "rbm_flow",
    "rbm_flow": "rbm_flow",
    "reconstruction_step": "rbm_flow",
    "REPRODUCTIONS": "reproductions",
    "combe_example": "reproductions",
    "composite_fields": "reproductions",
    "mehta_schwab": "reproductions",
    "rbm_flow_experiment": "reproductions",
    "run_reproduction": "reproductions",
    "wolff_samples": "reproductions",
    "MIN_BLOCK_SHARE": "locality_rule",
    "block_local_rbm": "stack",
    "coarse_grain_stack": "stack",
    "level_trainer": "stack",
    "matched_shares": "stack",
    "per_level_configs": "stack",
    "rbm_level": "stack",
    "train_level": "stack",
    "train_stack": "stack",
    "train_with_l1_warmup": "stack",
    "exact_tables": "thermometry",
    "thermometry": "thermometry",
}
__all__ = [
    "MIN_BLOCK_SHARE",
    "REPRODUCTIONS",
    "RULES",
    "binder_temperature",
    "block_local_rbm",
    "block_shares",
    "coarse_grain",
    "combe_example",
    "composite_fields",
    "coarse_grain_stack",
    "coupling_features",
    "decimation",
    "effective_couplings",
    "effective_temperature",
    "exact_tables",
    "flow_thermometry",
    "free_energies",
    "free_energy_vs_ising",
    "hidden_activations",
    "hidden_lattice",
    "hidden_samples",
    "level_observables",
    "level_trainer",
    "locality",
    "majority",
    "match_units_to_blocks",
    "matched_locality",
    "matched_shares",
    "mehta_schwab",
    "per_level_configs",
    "rbm_flow",
    "rbm_flow_experiment",
    "rbm_level",
    "receptive_field_centres",
    "reconstruction_step",
    "run_reproduction",
    "train_level",
    "thermometry",
    "train_stack",
    "train_with_l1_warmup",
    "unit_orientations",
    "wolff_samples",
]
__getattr__ = lazy_attributes(__name__, _WHERE)


if TYPE_CHECKING:
    from engines.rg.binder_temperature import binder_temperature
    from engines.rg.block_spin import RULES, coarse_grain, decimation, majority
    from engines.rg.effective_hamiltonian import (
        coupling_features,
        effective_couplings,
        free_energies,
        free_energy_vs_ising,
    )
    from engines.rg.effective_temperature import effective_temperature, level_observables
    from engines.rg.locality_rule import MIN_BLOCK_SHARE
    from engines.rg.rbm_coarse import (
        block_shares,
        hidden_activations,
        hidden_lattice,
        hidden_samples,
        locality,
        match_units_to_blocks,
        matched_locality,
        receptive_field_centres,
        unit_orientations,
    )
    from engines.rg.rbm_flow import flow_thermometry, rbm_flow, reconstruction_step
    from engines.rg.reproductions import (
        REPRODUCTIONS,
        combe_example,
        composite_fields,
        mehta_schwab,
        rbm_flow_experiment,
        run_reproduction,
        wolff_samples,
    )
    from engines.rg.stack import (
        block_local_rbm,
        coarse_grain_stack,
        level_trainer,
        matched_shares,
        per_level_configs,
        rbm_level,
        train_level,
        train_stack,
        train_with_l1_warmup,
    )
    from engines.rg.thermometry import exact_tables, thermometry

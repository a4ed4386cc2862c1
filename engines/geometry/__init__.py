"""The geometry of learning: RBM weights and covariances as points of cones of matrices.

- ``spectrum``: the Wishart cone, the spectrum of W Wᵀ from the SVD of W (rank, condition), the
  Marchenko–Pastur law of the initialization against it (KS distance), outliers above the bulk and
  their eigenvectors as L×L images; the covariance of spin configurations.
- ``psd_metrics``: affine-invariant, log-Euclidean, Bures–Wasserstein and Thompson distances and
  geodesics on PSD matrices, with explicit ``Σ + εI`` regularization; factored points
  ``W Wᵀ + εI`` whose distances cost O(n m² + m³), not O(n³).
- ``trajectory``: a training run as a path: distance from the start, speed, length, line shape.
- ``cah``: covariances as density matrices: von Neumann and relative entropy, the modular
  Hamiltonian and flow (invariance, KMS), self-duality and the natural cone, the Bloch disk.
- ``gaussian_ot``: Theorem 1: the Brenier map between centred Gaussians N(0, W Wᵀ + εI) and the
  data's, W₂, and the Monge–Ampère residual of the map on seeded points.
- ``monge_ampere``: the canonical potential of the SPD cone and ``log det D²F = 2F`` by autograd
  on k×k compressions of W Wᵀ + εI.
- ``empirical_ot``: model samples against data: W₁ between configuration sets (normalized
  Hamming cost, exact plan), and between their energy and magnetization distributions.
- ``wasserstein_scores``: Gai & Zhang's line-shape score (tracks of samples through levels) and
  optimal-transport score (a map against the OT map between its input and output samples), the
  distribution-level line shape ΣW/W, per-site squared-Euclidean or Hamming costs on real
  embeddings; emd up to 5000 samples, then the exact assignment (N = M) or Sinkhorn with a
  certified bracket; scoring of the RBM flow, block-spin and RBM levels, stacks, training runs.
- ``lattice_embedding``: coarse levels back on the L × L lattice: block spins repeated, RBM
  hidden layers by their reconstruction tanh(a + W h), stacks by the mean-field down-pass.

One Brenier map: ``psd_metrics.brenier_from_eigh`` is the implementation behind both
``bures_wasserstein_map`` (dense matrices) and ``brenier_map`` (stored Gaussians).
"""

from engines.geometry.cah import (
    ModularChecks,
    ReferenceState,
    bloch_basis,
    bloch_disk,
    cone_witness,
    density_matrix,
    modular_checks,
    modular_flow,
    modular_hamiltonian,
    modular_spectrum,
    natural_cone_embedding,
    relative_entropy,
    state_spectrum,
    von_neumann_entropy,
)
from engines.geometry.empirical_ot import (
    DistanceToData,
    TransportResult,
    configuration_wasserstein,
    distance_to_data,
    hamming_cost,
    wasserstein_1d,
)
from engines.geometry.gaussian_ot import (
    CenteredGaussian,
    GaussianTransportCheck,
    brenier_map,
    gaussian_transport_check,
    latent_covariance,
    latent_transport_check,
    regularized,
    wasserstein2_squared,
)
from engines.geometry.lattice_embedding import (
    hidden_units_from_lattice,
    rbm_reconstruction,
    repeat_blocks,
    stack_embedding,
    stack_orientation,
)
from engines.geometry.monge_ampere import (
    MongeAmpereCheck,
    canonical_potential,
    compression,
    leading_directions,
    monge_ampere_check,
    potential_hessian,
    trajectory_residuals,
)
from engines.geometry.psd_metrics import (
    DISTANCES,
    GEODESICS,
    METRICS,
    FactoredPSD,
    affine_invariant,
    affine_invariant_geodesic,
    brenier_from_eigh,
    bures_wasserstein,
    bures_wasserstein_geodesic,
    bures_wasserstein_geodesic_factor,
    bures_wasserstein_map,
    dense_distance,
    factored_distance,
    factored_distances,
    log_euclidean,
    log_euclidean_geodesic,
    psd_eigh,
    thompson,
)
from engines.geometry.spectrum import (
    MP_FIT_COLUMNS,
    OUTLIER_C,
    MarchenkoPastur,
    MPFit,
    WishartSpectrum,
    eigenvector_images,
    fit_marchenko_pastur,
    ks_distance,
    spin_covariance,
    wishart_spectrum,
)
from engines.geometry.trajectory import Trajectory, factored_trajectories, trajectory
from engines.geometry.wasserstein_scores import (
    COSTS,
    TRACK_METRICS,
    distribution_line_shape,
    line_shape_score,
    optimal_transport,
    optimal_transport_score,
    paired_costs,
    pairwise_costs,
    score_block_spin,
    score_levels,
    score_rbm_coarse,
    score_rbm_flow,
    score_stack,
    score_training,
    track_distances,
    transport_from_costs,
    wasserstein,
)

__all__ = [
    "COSTS",
    "DISTANCES",
    "GEODESICS",
    "METRICS",
    "MP_FIT_COLUMNS",
    "OUTLIER_C",
    "TRACK_METRICS",
    "CenteredGaussian",
    "DistanceToData",
    "FactoredPSD",
    "GaussianTransportCheck",
    "MPFit",
    "MarchenkoPastur",
    "ModularChecks",
    "MongeAmpereCheck",
    "ReferenceState",
    "Trajectory",
    "TransportResult",
    "WishartSpectrum",
    "affine_invariant",
    "affine_invariant_geodesic",
    "bloch_basis",
    "bloch_disk",
    "brenier_from_eigh",
    "brenier_map",
    "bures_wasserstein",
    "bures_wasserstein_geodesic",
    "bures_wasserstein_geodesic_factor",
    "bures_wasserstein_map",
    "canonical_potential",
    "compression",
    "cone_witness",
    "configuration_wasserstein",
    "dense_distance",
    "density_matrix",
    "distance_to_data",
    "distribution_line_shape",
    "eigenvector_images",
    "factored_distance",
    "factored_distances",
    "factored_trajectories",
    "fit_marchenko_pastur",
    "gaussian_transport_check",
    "hamming_cost",
    "hidden_units_from_lattice",
    "ks_distance",
    "latent_covariance",
    "latent_transport_check",
    "leading_directions",
    "line_shape_score",
    "log_euclidean",
    "log_euclidean_geodesic",
    "modular_checks",
    "modular_flow",
    "modular_hamiltonian",
    "modular_spectrum",
    "monge_ampere_check",
    "natural_cone_embedding",
    "optimal_transport",
    "optimal_transport_score",
    "paired_costs",
    "pairwise_costs",
    "potential_hessian",
    "psd_eigh",
    "rbm_reconstruction",
    "regularized",
    "relative_entropy",
    "repeat_blocks",
    "score_block_spin",
    "score_levels",
    "score_rbm_coarse",
    "score_rbm_flow",
    "score_stack",
    "score_training",
    "spin_covariance",
    "stack_embedding",
    "stack_orientation",
    "state_spectrum",
    "thompson",
    "track_distances",
    "trajectory",
    "trajectory_residuals",
    "transport_from_costs",
    "von_neumann_entropy",
    "wasserstein",
    "wasserstein2_squared",
    "wasserstein_1d",
    "wishart_spectrum",
]

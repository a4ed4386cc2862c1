"""The settings of a geometry computation: one row each, shared by the ``geometry`` command's
options and the geometry dock's form (:mod:`lab.core.settings`), recorded as the run's attributes.

``epsilon`` (spin², 1e-9 … 1e6): the explicit regularization Σ + εI of every metric, entropy and
Gaussian; ``samples``: model samples per checkpoint and the size of the data subsample for the
empirical OT; ``burn_in``, ``thin`` (Gibbs sweeps) and ``chains`` of the model's chains;
``n_points``: draws of N(0, WWᵀ + εI) for the Gaussian Monge–Ampère residual; ``k``: the size of
the compression for the cone potential, at most ``MAX_K`` and at most the hidden units m —
0 (the default) means min(MAX_K, m), so the default fits every model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from engines.constraints import SEED, Interval, check_all
from engines.geometry.params import MAX_K
from lab.core.settings import Setting

CONSTRAINTS = {
    # below 1e-9 the regularization vanishes next to the covariance's rounding; above 1e6 it
    # swamps every covariance of ±1 spins (eigenvalues at most n) and overflows the entropies
    "epsilon": Interval(low=1e-9, high=1e6),
    "samples": Interval(integer=True, low=2, high=1_000_000),
    "seed": SEED,
    "n_points": Interval(integer=True, low=2, high=10_000_000),
    "k": Interval(integer=True, low=0, high=MAX_K),
    "burn_in": Interval(integer=True, low=0, high=10**9),
    "thin": Interval(integer=True, low=1, high=10**6),
    "chains": Interval(integer=True, low=1, high=100_000),
}


class DefaultCount(int):
    """A count option's default, told apart from the same number typed (``isinstance``)."""


def check_chains(chains: int, samples: int) -> None:
    """``--chains`` typed above ``--samples``: ValueError, the rule and words of ``sample`` and
    ``evaluate`` (every chain gives at least one sample). The default (:class:`DefaultCount`,
    32 chains) stays allowed with fewer samples, as before: the chains beyond the samples then
    give none, and ``--samples 20`` alone still runs, as do the docks, which do not show the
    chains."""
    if not isinstance(chains, DefaultCount) and chains > samples:
        raise ValueError(f"--chains must be between 1 and --samples ({samples}), got {chains}")


@dataclass(frozen=True)
class GeometryOptions:
    """The parameters of a geometry computation (module docstring); checked on creation."""

    epsilon: float = 1e-3
    samples: int = 500
    seed: int = 0
    n_points: int = 1000
    k: int = 0
    burn_in: int = 500
    thin: int = 5
    chains: int = 32

    def __post_init__(self) -> None:
        check_all(CONSTRAINTS, asdict(self))

    def compression(self, n_hidden: int) -> int:
        """The k used for a model with ``n_hidden`` units (ValueError if it does not fit)."""
        if self.k == 0:
            return min(MAX_K, n_hidden)
        if self.k > n_hidden:
            raise ValueError(
                f"k = {self.k} must be at most the {n_hidden} hidden units (0 fits any model)"
            )
        return self.k

    def params(self) -> dict[str, float | int]:
        return asdict(self)


DEFAULTS = GeometryOptions()
SETTINGS = (
    Setting(
        "epsilon",
        "ε",
        CONSTRAINTS["epsilon"],
        DEFAULTS.epsilon,
        help="regularization Σ + εI (spin²)",
        widget="geometryEpsilonEdit",
    ),
    Setting(
        "samples",
        "samples",
        CONSTRAINTS["samples"],
        DEFAULTS.samples,
        help="model samples per checkpoint for the transport distances",
        widget="geometrySamplesBox",
    ),
    Setting("seed", "seed", CONSTRAINTS["seed"], DEFAULTS.seed, widget="geometrySeedBox"),
    Setting(
        "n_points",
        "Gaussian draws",
        CONSTRAINTS["n_points"],
        DEFAULTS.n_points,
        option="--points",
        help="draws of N(0, WWᵀ + εI) for the Gaussian OT residual",
        widget="geometryPointsBox",
    ),
    Setting(
        "k",
        "k",
        CONSTRAINTS["k"],
        DEFAULTS.k,
        help=f"size of the compression for the Monge–Ampère residual (0: min({MAX_K}, m))",
        widget="geometryKBox",
    ),
    Setting(
        "burn_in",
        "burn-in",
        CONSTRAINTS["burn_in"],
        DEFAULTS.burn_in,
        help="Gibbs sweeps before the model samples",
    ),
    Setting(
        "thin",
        "thinning",
        CONSTRAINTS["thin"],
        DEFAULTS.thin,
        help="Gibbs sweeps between model samples",
    ),
    Setting(
        "chains", "chains", CONSTRAINTS["chains"], DEFAULTS.chains, help="Gibbs chains of the model"
    ),
)
"""The rows of the command's options and the dock's form (the dock shows the first five)."""

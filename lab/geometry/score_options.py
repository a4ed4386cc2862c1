"""The settings of a Wasserstein scoring (Gai & Zhang's LSS and OTS): one row each, shared by the
``score`` command's options and the geometry dock's "Wasserstein scores" form
(:mod:`lab.core.settings`), recorded as the ``scores`` run's attributes.

``samples`` (N): samples scored per level, step or checkpoint — every map of a run is scored at
this one N (OTS depends on N, :mod:`engines.geometry.wasserstein_scores`), or at all the
samples there are when fewer; ``solver``, ``cost``, ``metric``, ``unit_steps``: those of
:func:`engines.geometry.score_levels` (the OT solver, the per-site transport cost, the track
metric of the LSS and its unit-step variant); ``bootstrap``: replicates for the OTS error bars
(each one more OT solve per map; 0 = none); ``seed``: the subsample, the bootstrap and the model
chains; ``embedding``: how a stack's levels are put back on the lattice (``reconstruction``: the
stack's own mean-field down-pass; ``repeat``: block spins repeated, the RG reading);
``tracks``: how many samples keep their embedded track and OT partners for the plots;
``burn_in``, ``thin``, ``chains``: the equilibrium chains (Gibbs with the global flip) that draw
an RBM's samples at each checkpoint — the defaults and seeds of the geometry computation
(:mod:`lab.geometry.options`), so that with ``cost = hamming`` the W to the data per checkpoint
is the geometry run's ``wasserstein_to_data``.

The words of ``solver``, ``cost`` and ``metric`` are the engine's (``SOLVERS``, ``COSTS``,
``TRACK_METRICS`` of :mod:`engines.geometry.wasserstein_scores`), repeated here so that building
the command line does not load POT (``tests/lab/geometry/test_scores.py`` checks they agree).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from engines.constraints import SEED, Flag, Interval, Options, check_all
from lab.core.settings import Setting
from lab.geometry.options import DEFAULTS as GEOMETRY_DEFAULTS

SOLVERS = ("auto", "emd", "assignment", "sinkhorn")
COSTS = ("sqeuclidean", "hamming")
TRACK_METRICS = ("euclidean", "hamming")
EMBEDDINGS = ("reconstruction", "repeat")
MAX_SAMPLES = 20_000
"""Most samples per level: the (N, N) cost matrix of one map is 8 N² bytes (3.2 GB here)."""

CONSTRAINTS = {
    "samples": Interval(integer=True, low=2, high=MAX_SAMPLES),
    "solver": Options(SOLVERS),
    "cost": Options(COSTS),
    "metric": Options(TRACK_METRICS),
    "bootstrap": Interval(integer=True, low=0, high=10_000),
    "seed": SEED,
    "embedding": Options(EMBEDDINGS),
    "unit_steps": Flag(),
    "tracks": Interval(integer=True, low=1, high=64),
    "burn_in": Interval(integer=True, low=0, high=10**9),
    "thin": Interval(integer=True, low=1, high=10**6),
    "chains": Interval(integer=True, low=1, high=100_000),
}


@dataclass(frozen=True)
class ScoreOptions:
    """The parameters of a scoring (module docstring); checked on creation."""

    samples: int = 500
    solver: str = "auto"
    cost: str = "sqeuclidean"
    metric: str = "euclidean"
    bootstrap: int = 20
    seed: int = 0
    embedding: str = "reconstruction"
    unit_steps: bool = False
    tracks: int = 8
    burn_in: int = GEOMETRY_DEFAULTS.burn_in
    thin: int = GEOMETRY_DEFAULTS.thin
    chains: int = GEOMETRY_DEFAULTS.chains

    def __post_init__(self) -> None:
        check_all(CONSTRAINTS, asdict(self))

    def params(self) -> dict[str, object]:
        return asdict(self)


DEFAULTS = ScoreOptions()
SETTINGS = (
    Setting(
        "samples",
        "samples",
        CONSTRAINTS["samples"],
        DEFAULTS.samples,
        help="samples scored per level, step or checkpoint (all of them when fewer)",
        widget="scoresSamplesBox",
    ),
    Setting(
        "solver",
        "solver",
        CONSTRAINTS["solver"],
        DEFAULTS.solver,
        help="optimal-transport solver (auto: emd up to 5000 samples, then the exact assignment)",
        widget="scoresSolverBox",
    ),
    Setting(
        "cost",
        "cost",
        CONSTRAINTS["cost"],
        DEFAULTS.cost,
        help="transport cost per site (sqeuclidean: W₂; hamming: W₁)",
        widget="scoresCostBox",
    ),
    Setting(
        "bootstrap",
        "bootstrap",
        CONSTRAINTS["bootstrap"],
        DEFAULTS.bootstrap,
        help="bootstrap replicates of each OTS (its error bar; 0: none)",
        widget="scoresBootstrapBox",
    ),
    Setting("seed", "seed", CONSTRAINTS["seed"], DEFAULTS.seed, widget="scoresSeedBox"),
    Setting(
        "metric",
        "track metric",
        CONSTRAINTS["metric"],
        DEFAULTS.metric,
        help="metric of the line-shape score's tracks",
        widget="scoresMetricBox",
    ),
    Setting(
        "embedding",
        "stack embedding",
        CONSTRAINTS["embedding"],
        DEFAULTS.embedding,
        help="a stack's levels on the lattice: the stack's reconstruction or repeated block spins",
        widget="scoresEmbeddingBox",
    ),
    Setting(
        "unit_steps",
        "unit steps",
        CONSTRAINTS["unit_steps"],
        DEFAULTS.unit_steps,
        help="LSS with every step rescaled to length 1",
        widget="scoresUnitStepsBox",
    ),
    Setting(
        "tracks",
        "tracks kept",
        CONSTRAINTS["tracks"],
        DEFAULTS.tracks,
        help="samples whose tracks and OT partners are kept for the plots",
        widget="scoresTracksBox",
    ),
    Setting(
        "burn_in",
        "burn-in",
        CONSTRAINTS["burn_in"],
        DEFAULTS.burn_in,
        help="rbm runs: sweeps of the model's chains before its samples",
    ),
    Setting(
        "thin",
        "thinning",
        CONSTRAINTS["thin"],
        DEFAULTS.thin,
        help="rbm runs: sweeps between two model samples",
    ),
    Setting(
        "chains",
        "chains",
        CONSTRAINTS["chains"],
        DEFAULTS.chains,
        help="rbm runs: equilibrium chains of the model (Gibbs with the global flip)",
    ),
)
"""The rows of the ``score`` command's options and of the dock's form."""

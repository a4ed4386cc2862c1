"""Steppable, resumable RBM training by CD-k, PCD-k, parallel tempering or the exact negative phase.

One *update* (:meth:`RBMTrainer.step_batch`) takes the next minibatch of the epoch's permutation
of the training set and ascends the log-likelihood gradient estimate

    ∂W = ⟨v p(h|v)ᵀ⟩_data - ⟨v p(h|v)ᵀ⟩_chains,  ∂a = ⟨v⟩_data - ⟨v⟩_chains,
    ∂b = ⟨p(h|v)⟩_data - ⟨p(h|v)⟩_chains,

minus ``l2 W + l1 sign(W)``, where the negative-phase chains are: for ``"cd"``, k Gibbs sweeps
started at the minibatch; for ``"pcd"``, ``n_chains`` persistent chains advanced by k sweeps; for
``"pt"``, the β = 1 replica of a parallel-tempering ladder (:mod:`engines.rbm.tempering`) after k
sweeps of every replica and one round of swaps. Persistent chains start from independent spins
with the initial model's visible fields, ``p(v_i = +1) = σ(2 a_i)``.

A PCD chain persists as a *joint* state (v, h): an update draws v ~ p(v|h), then k-1 further sweeps
h ~ p(h|v), v ~ p(v|h), then h ~ p(h|v), all with the current parameters. Every step is a Gibbs
step of the current model on the joint space, so this is PCD exactly as much as the textbook order
(h first) is; but the p(h|v) of its last step serves both the negative statistics and the next
update's hidden sample, which saves one n×m matrix product per chain and update (the same
saving as scikit-learn's ``BernoulliRBM``).

Exact negative phase (``"exact"``, n_hidden ≤ 20): the chain averages are replaced by the model's
exact ``⟨v⟩, ⟨h⟩, ⟨v hᵀ⟩`` from enumerating the hidden layer (:mod:`engines.rbm.exact_phase`), so
the update is the exact gradient of the minibatch log-likelihood: no chains, no mixing problem, no
uniforms (cost 2·2^m·n·m multiply-adds per update, tens of milliseconds at n = 64, m = 16; half for
``symmetry="hidden-spins"``). It is the reference that tells a sampling problem from an optimization
or capacity problem.

Symmetry (``symmetry``, :mod:`engines.rbm.symmetry`): ``"pairs"`` or ``"hidden-spins"`` restrict
the model to an exactly Z2-symmetric family (F(v) = F(-v)) for data at zero field; the initial model
is made a member of the family and every update is projected onto it (after L1/L2 and centering).

Global flips (``flip_moves=True``, the default): after its Gibbs sweeps every persistent chain
(every replica, for PT) also makes the exact Metropolis move v → -v (:mod:`engines.rbm.moves`,
no extra matrix product). Ising data at and below T_c are Z2-symmetric and bimodal; plain PCD
chains then sit in one ordered phase and change phase only collectively, driven by the field the
learning itself imposes, so the learned magnetization oscillates between ±|m| and the NLL stays
poor (4×4 at T_c, 9000 samples, 20 epochs: KL(p_Ising ‖ p_RBM) = 0.66 without flips, 0.08 with
them, 0.09 for CD-1).

Centering (``centering=True``, Montavon & Müller 2012, in the "centered gradient" form of
Melchior, Fischer & Wiskott 2016): with offsets μ (the training data's mean spin, fixed) and λ (a
running mean of the data's hidden probabilities, λ ← 0.99 λ + 0.01 ⟨p(h|v)⟩_batch, starting at 1/2),
``∂W = ⟨(v-μ)(p(h|v)-λ)ᵀ⟩_data - ⟨·⟩_chains``, ``∂a = ⟨v⟩_data - ⟨v⟩_chains - ∂W λ``,
``∂b = ⟨p(h)⟩_data - ⟨p(h)⟩_chains - ∂Wᵀ μ``, applied to the ordinary parameters.

Learning rate: ``"constant"``; ``"linear"``, ``lr · (1 - u/U)`` for update u = 0..U-1 of the
U = epochs · batches_per_epoch updates (so it reaches 0 just after the last one); ``"exponential"``,
``lr · lr_decay^epoch``.

Randomness: a CPU ``torch.Generator`` for the validation split and the epoch permutations, one on
the training device for initialization and PT draws, and for the uniforms of the CD and PCD
updates a xoshiro256** state on the CPU (the device's generator elsewhere), all seeded from
``config.seed``; per-epoch metrics use a third generator re-seeded from (seed, epoch, batch), so
evaluating metrics never
changes the training trajectory. :meth:`RBMTrainer.state_dict` holds everything else, so a
trainer rebuilt by :meth:`RBMTrainer.from_state` continues bit-for-bit (same device and torch
build).

Per-epoch metrics (:meth:`RBMTrainer.metrics`): log Z is exact (enumeration of the smaller layer)
when that layer has ≤ 24 units and the enumeration costs ≤ 2^35 multiply-adds (a few seconds),
otherwise an AIS estimate with 64 chains and 500 β's from the base-rate model of the training data
(:func:`engines.rbm.ais.base_biases_from_data`): cheap enough per epoch (≈ 64·500·4·n·m flops in
float64, a few seconds at n = 1024, m = 64) at the price of a statistical error, reported as
``log_z_error`` and ``nll_*_error``. NLLs use at most 10 000 training and all validation
configurations; the pseudo-likelihood and the reconstruction mismatch use at most 1000 validation
configurations (training ones when there is no validation set).

Threads: a trainer is not thread-safe. Its worker thread should hand out copies taken between
steps (``model.to_numpy()``, ``persistent_chains.clone()``), never the live tensors: the optimizer
updates the parameters in place, and the chains live in buffers that the next update overwrites.

Speed (PCD-1 at n = 1024, m = 256, B = C = 100 is ``benchmarks/rbm.py``'s case): the five n×m
matrix products are about two thirds of an update on a CPU, so the rest is kept lean. The data
and chain rows share one buffer, so that ``b + Wᵀv`` of both is one product and
``∂W = vᵀ(s ∘ p(h|v))``, with row weights s = 1/B and -1/C, another; all uniforms of an update
come from one fill of a reused buffer (:class:`engines.rbm.model.UniformPool`), by xoshiro256** on
the CPU (a quarter of the cost of ``torch.rand``'s serial Mersenne twister); sampling, sigmoids and
the flip move work in place in buffers reused from update to update. The parameters are checked
for divergence after every update (:data:`MAX_ABS_PARAMETER`, one device synchronization), so a
diverged model never reaches a checkpoint or a saved state.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import torch

from engines.ising.rng import check_state, seed_state
from engines.rbm.ais import ais_log_partition, base_biases_from_data
from engines.rbm.config import RBMConfig, RBMDivergence, check_device
from engines.rbm.exact_phase import model_moments
from engines.rbm.metrics import mean_free_energy, pseudo_likelihood, reconstruction_mismatch
from engines.rbm.model import RBM, UniformPool, bernoulli_, spins, spins_
from engines.rbm.moves import global_flip_
from engines.rbm.optimizers import Optimizer
from engines.rbm.partition import MAX_ENUMERATED_UNITS, enumeration_cost, log_partition_exact
from engines.rbm.symmetry import check_symmetric, project_gradient_, spin_fields_, symmetrize_
from engines.rbm.tempering import TemperedChains

STATE_FORMAT = "monge-lab/rbm-trainer"
STATE_VERSION = 3
"""2: adds ``uniform_state``; a version-1 state (torch-drawn uniforms) still resumes, its stream of
uniforms restarting from a seed derived from (seed, updates). 3: the config may hold ``symmetry``
and ``method="exact"`` (no new entries in the state itself); states of versions 1 and 2 resume
unchanged, their configs lacking ``symmetry`` meaning ``"none"``, which is what they trained."""
SUPPORTED_STATE_VERSIONS = (1, 2, 3)
MAX_ABS_PARAMETER = 1e3
"""Parameters beyond this magnitude count as divergence: |W| = 1000 means probability ratios of
e^2000 between neighbouring configurations, far beyond anything learned from data."""
HIDDEN_OFFSET_RATE = 0.01
METRIC_MAX_TRAIN = 10_000
METRIC_MAX_SMALL = 1000
METRIC_AIS_CHAINS = 64
METRIC_AIS_BETAS = 500
EXACT_LOG_Z_BUDGET = 2.0**35


_STATE_KEYS = frozenset(
    [
        "config",
        "n_visible",
        "train_size",
        "train_checksum",
        "validation_indices",
        "epoch",
        "batch_in_epoch",
        "updates",
        "permutation",
        "split_generator",
        "generator",
        "hidden_offset",
        "chains",
        "chain_hidden",
        "replicas",
        "swap_attempts",
        "swap_accepts",
        "W",
        "a",
        "b",
        "optimizer_kind",
        "optimizer_steps",
    ]
)


def derived_seed(*keys: int) -> int:
    """A 63-bit seed from integers, decorrelated by numpy's SeedSequence."""
    return int(np.random.SeedSequence(list(keys)).generate_state(1, np.uint64)[0]) >> 1


def _check_spins(data, n_visible: int | None, what: str) -> np.ndarray:
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[0] < 1 or data.shape[1] < 1:
        raise ValueError(f"The {what} must be a non-empty (N, n) array, got shape {data.shape}.")
    if n_visible is not None and data.shape[1] != n_visible:
        raise ValueError(
            f"The {what} has {data.shape[1]} spins per configuration, the model {n_visible}."
        )
    if not np.all(np.abs(data) == 1):
        raise ValueError(f"The {what} must contain only spins +1 and -1.")
    return np.ascontiguousarray(data, dtype=np.int8)


def _checksum(data: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(data, dtype=np.int8).tobytes())


def _restored_spins(values, shape: torch.Size) -> torch.Tensor:
    """Chains or replicas from a state, checked against the shape the config implies."""
    values = np.asarray(values)
    if values.shape != tuple(shape) or not np.all(np.abs(values) == 1):
        raise ValueError(f"Stored chains must be ±1 of shape {tuple(shape)}, got {values.shape}.")
    return torch.as_tensor(values.astype(np.int8))


def _generator_state(g: torch.Generator) -> np.ndarray:
    return g.get_state().numpy().copy()


class _Workspace:
    """Buffers of one update, reused from update to update: ``rows`` data rows then ``chains``
    negative-phase rows, stacked so that the data and chain terms of the gradient are one matrix
    product each (``∂W = vᵀ (s ∘ p)`` with row weights ``s = +1/rows`` for data, ``-1/chains``
    for chains)."""

    def __init__(self, rows: int, chains: int, n: int, m: int, device: torch.device) -> None:
        self.rows, self.chains = rows, chains
        self.v = torch.empty(rows + chains, n, device=device)
        # p(h|v) of every row, then scratch for the flip move: flip_pair = (x of chains, 2b - x)
        hidden = torch.empty(rows + 2 * chains, m, device=device)
        self.p = hidden[: rows + chains]
        self.flip_pair = hidden[rows:].view(2, chains, m)
        self.scaled = torch.empty(rows + chains, m, device=device)
        self.d_w = torch.empty(n, m, device=device)
        self.weights = torch.cat(
            [torch.full((rows,), 1.0 / rows), torch.full((chains,), -1.0 / chains)]
        ).to(device)


class RBMTrainer:
    """Minibatch training of an :class:`RBM` with a pausable, resumable stepping interface."""

    def __init__(
        self,
        config: RBMConfig,
        train: np.ndarray,
        validation: np.ndarray | None = None,
        model: RBM | None = None,
    ) -> None:
        self._build(config, train, validation, model, validation_indices=None)

    # ------------------------------------------------------------------------------ set-up
    def _build(self, config, train, validation, model, validation_indices) -> None:
        if not isinstance(config, RBMConfig):
            raise ValueError(f"config must be an RBMConfig, got {type(config).__name__}.")
        train = _check_spins(train, None, "training data")
        config.validate(n_visible=train.shape[1])
        self.config = config
        self.device = check_device(config.device)
        n = train.shape[1]
        self._train_checksum = _checksum(train)
        self._split_gen = torch.Generator().manual_seed(derived_seed(config.seed, 0))
        self._gen = torch.Generator(device=self.device).manual_seed(derived_seed(config.seed, 1))
        if validation is not None:
            validation = _check_spins(validation, n, "validation data")
            self.validation_indices = np.zeros(0, dtype=np.int64)
        else:
            if validation_indices is None:
                n_valid = round(config.validation_fraction * train.shape[0])
                order = torch.randperm(train.shape[0], generator=self._split_gen).numpy()
                validation_indices = np.sort(order[:n_valid])
            self.validation_indices = np.asarray(validation_indices, dtype=np.int64)
            if self.validation_indices.size and (
                self.validation_indices.min() < 0
                or self.validation_indices.max() >= train.shape[0]
                or np.unique(self.validation_indices).size != self.validation_indices.size
            ):
                raise ValueError("The recorded validation split does not fit the training data.")
            keep = np.ones(train.shape[0], dtype=bool)
            keep[self.validation_indices] = False
            validation = train[self.validation_indices] if self.validation_indices.size else None
            train = train[keep]
            if train.shape[0] < 1:
                raise ValueError("The validation split leaves no training configurations.")
        self._train_np = train
        self._valid_np = validation
        self._train = torch.as_tensor(train, device=self.device).to(torch.float32)
        self._ais_base = base_biases_from_data(train)
        if model is None:
            model = RBM.random(n, config.n_hidden, self._gen, data=train, device=self.device)
            symmetrize_(model, config.symmetry)
        elif model.n_visible != n or model.n_hidden != config.n_hidden:
            raise ValueError(
                f"The model has shape ({model.n_visible}, {model.n_hidden}) but the data and "
                f"config ask for ({n}, {config.n_hidden})."
            )
        self.model = model.to(torch.float32, self.device)
        check_symmetric(self.model, config.symmetry)
        if config.symmetry == "hidden-spins":
            spin_fields_(self.model)
        self._optimizer = Optimizer(
            config.optimizer, [self.model.W, self.model.a, self.model.b], config.momentum
        )
        self.epoch = 0
        self.batch_in_epoch = 0
        self._updates = 0
        self._permutation: torch.Tensor | None = None
        self._visible_offset = self._train.mean(0)
        self._hidden_offset = torch.full((config.n_hidden,), 0.5, device=self.device)
        self._chains: torch.Tensor | None = None
        self._chain_hidden: torch.Tensor | None = None
        self._tempered: TemperedChains | None = None
        self._uniforms = UniformPool(self.device)
        # Every uniform of the training updates: xoshiro256** on the CPU (4× cheaper than torch's
        # generator), torch's generator on other devices.
        self._uniform_source = (
            seed_state(derived_seed(config.seed, 2)) if self.device.type == "cpu" else self._gen
        )
        self._workspaces: dict[int, _Workspace] = {}
        fields = self.model.a
        if config.method == "pcd":
            self._chains = spins(torch.sigmoid(2.0 * fields).expand(config.chains, n), self._gen)
            self._chain_hidden = self.model.sample_hidden(self._chains, self._gen)
        elif config.method == "pt":
            self._tempered = TemperedChains.independent(
                self.model, config.n_temperatures, config.chains, self._gen, fields
            )

    # -------------------------------------------------------------------------- properties
    @property
    def n_batches(self) -> int:
        """Minibatches per epoch (the last one may be smaller)."""
        return math.ceil(self._train.shape[0] / self.config.batch_size)

    @property
    def finished(self) -> bool:
        return self.epoch >= self.config.epochs

    @property
    def train_data(self) -> np.ndarray:
        """The training configurations actually used (after the validation split), int8."""
        return self._train_np

    @property
    def validation_data(self) -> np.ndarray | None:
        return self._valid_np

    @property
    def persistent_chains(self) -> torch.Tensor | None:
        """The (n_chains, n) persistent chains (β = 1 replica for PT); None for CD."""
        if self._tempered is not None:
            return self._tempered.replicas[0]
        return self._chains

    @property
    def swap_acceptance(self) -> list[float] | None:
        """PT swap acceptance of each neighbouring pair of the ladder since the start (or None)."""
        return None if self._tempered is None else self._tempered.acceptance

    def learning_rate(self) -> float:
        """The learning rate of the next update (module doc for the schedules)."""
        cfg = self.config
        if cfg.lr_schedule == "linear":
            total = cfg.epochs * self.n_batches
            return cfg.learning_rate * max(0.0, 1.0 - self._updates / total)
        if cfg.lr_schedule == "exponential":
            return cfg.learning_rate * cfg.lr_decay**self.epoch
        return cfg.learning_rate

    # ---------------------------------------------------------------------------- training
    def step_batch(self) -> dict:
        """One minibatch update; returns ``{"epoch", "batch", "n_batches", "lr"}`` (the epoch and
        batch counters *after* the update), plus ``"swap_acceptance"`` (mean) for PT."""
        if self.finished:
            raise RuntimeError(f"Training is finished ({self.config.epochs} epochs).")
        cfg = self.config
        if self._permutation is None:
            self._permutation = torch.randperm(self._train.shape[0], generator=self._split_gen)
        start = self.batch_in_epoch * cfg.batch_size
        index = self._permutation[start : start + cfg.batch_size].to(self.device)
        lr = self.learning_rate()
        with torch.no_grad():
            grads = self._gradient(index)
            model = self.model
            self._optimizer.step([model.W, model.a, model.b], grads, lr)
            if cfg.symmetry == "hidden-spins":
                spin_fields_(model)
        self._check_parameters()
        self._updates += 1
        self.batch_in_epoch += 1
        if self.batch_in_epoch == self.n_batches:
            self.epoch += 1
            self.batch_in_epoch = 0
            self._permutation = None
        out = {
            "epoch": self.epoch,
            "batch": self.batch_in_epoch,
            "n_batches": self.n_batches,
            "lr": lr,
        }
        if self._tempered is not None:
            out["swap_acceptance"] = float(np.nanmean(self._tempered.acceptance))
        return out

    def _workspace(self, rows: int) -> _Workspace:
        """The buffers of an update with ``rows`` data rows (two sizes at most: full batches and
        the last one of an epoch)."""
        work = self._workspaces.get(rows)
        if work is None:
            chains = rows if self.config.method == "cd" else self.config.chains
            work = _Workspace(rows, chains, self.model.n_visible, self.model.n_hidden, self.device)
            self._workspaces[rows] = work
        return work

    def _gradient(self, index: torch.Tensor) -> list[torch.Tensor]:
        """The ascent direction ``[∂W, ∂a, ∂b]`` (module doc) from the training rows ``index``,
        advancing the chains; ``∂W`` is a reused buffer."""
        cfg = self.config
        if cfg.method == "exact":
            return self._exact_gradient(index)
        work = self._workspace(index.numel())
        rows, v, p = work.rows, work.v, work.p
        torch.index_select(self._train, 0, index, out=v[:rows])
        self._negative_phase(work)
        s = work.weights
        d_v, d_h = torch.mv(v.T, s), torch.mv(p.T, s)  # ⟨·⟩_data - ⟨·⟩_chains
        if cfg.centering:
            mu, lam = self._visible_offset, self._hidden_offset
            scaled = torch.sub(p, lam, out=work.scaled).mul_(s[:, None])
            d_w = torch.mm((v - mu).T, scaled, out=work.d_w)
            d_a, d_b = d_v.sub_(d_w @ lam), d_h.sub_(d_w.T @ mu)
            lam.mul_(1.0 - HIDDEN_OFFSET_RATE).add_(p[:rows].mean(0), alpha=HIDDEN_OFFSET_RATE)
        else:
            d_w = torch.mm(v.T, torch.mul(p, s[:, None], out=work.scaled), out=work.d_w)
            d_a, d_b = d_v, d_h
        W = self.model.W
        if cfg.l2:
            d_w.add_(W, alpha=-cfg.l2)
        if cfg.l1:
            d_w.add_(torch.sign(W), alpha=-cfg.l1)
        project_gradient_(cfg.symmetry, d_w, d_a, d_b)
        return [d_w, d_a, d_b]

    def _exact_gradient(self, index: torch.Tensor) -> list[torch.Tensor]:
        """``[∂W, ∂a, ∂b]`` with the model's expectations computed exactly by enumerating the
        hidden layer (:func:`engines.rbm.exact_phase.model_moments`); no chains, no uniforms."""
        cfg, model = self.config, self.model
        v = torch.index_select(self._train, 0, index)
        p = model.hidden_inputs_into(
            v, torch.empty(v.shape[0], model.n_hidden, device=self.device)
        ).sigmoid_()
        mean_v, mean_h, mean_vh = (
            t.to(torch.float32) for t in model_moments(model, cfg.symmetry == "hidden-spins")
        )
        rows = v.shape[0]
        d_v = v.mean(0).sub_(mean_v)
        d_h = p.mean(0).sub_(mean_h)
        d_w = torch.mm(v.T, p).div_(rows).sub_(mean_vh)
        if cfg.centering:
            mu, lam = self._visible_offset, self._hidden_offset
            d_w.sub_(torch.outer(mu, d_h)).sub_(torch.outer(d_v, lam))
            d_a, d_b = d_v.sub_(d_w @ lam), d_h.sub_(d_w.T @ mu)
            lam.mul_(1.0 - HIDDEN_OFFSET_RATE).add_(p.mean(0), alpha=HIDDEN_OFFSET_RATE)
        else:
            d_a, d_b = d_v, d_h
        if cfg.l2:
            d_w.add_(model.W, alpha=-cfg.l2)
        if cfg.l1:
            d_w.add_(torch.sign(model.W), alpha=-cfg.l1)
        project_gradient_(cfg.symmetry, d_w, d_a, d_b)
        return [d_w, d_a, d_b]

    def _negative_phase(self, work: _Workspace) -> None:
        """Fill ``work.v[rows:]`` with the negative-phase chains and ``work.p`` with p(h|v) of
        every row (data rows first), advancing the chains.

        Every uniform of a CD or PCD update comes from one draw (:class:`UniformPool`), used in
        this order: CD, h of the data (B·m); PCD, nothing; then for both v (C·n), k - 1 times
        h (C·m) and v (C·n); then PCD only, the flip moves (C, if on) and the new hidden sample
        (C·m).
        """
        model, cfg, gen = self.model, self.config, self._gen
        rows, chains = work.rows, work.chains
        n, m = model.n_visible, model.n_hidden
        v, p = work.v, work.p
        v_data, v_neg, p_data, p_neg = v[:rows], v[rows:], p[:rows], p[rows:]
        if cfg.method == "pt":
            tempered = self._replicas()
            v_tempered, x_tempered = tempered.advance(model, 1, gen, cfg.k, cfg.flip_moves)
            v_neg.copy_(v_tempered)
            model.hidden_inputs_into(v_data, p_data)
            p_neg.copy_(x_tempered)
            p.sigmoid_()
            return
        sweeps = chains * (cfg.k * n + (cfg.k - 1) * m)
        if cfg.method == "cd":
            self._uniforms.refill(rows * m + sweeps, self._uniform_source)
            model.hidden_inputs_into(v_data, p_data).sigmoid_()
            # p_neg holds h until the chains' own p(h|v) overwrites it.
            hidden = torch.lt(self._uniforms.take(rows, m), p_data, out=p_neg)
            self._sweep(hidden, v_neg, p_neg)
            model.hidden_inputs_into(v_neg, p_neg).sigmoid_()
            return
        chain_hidden = self._persistent_hidden()
        self._uniforms.refill(
            sweeps + (chains if cfg.flip_moves else 0) + chains * m, self._uniform_source
        )
        self._sweep(chain_hidden, v_neg, p_neg)
        model.hidden_inputs_into(v, p)  # data and chains in one product
        if cfg.flip_moves:  # the old h is discarded, so a move on the v-marginal is exact
            global_flip_(model, v_neg, work.flip_pair, self._uniforms.take(chains))
        p.sigmoid_()
        torch.lt(self._uniforms.take(chains, m), p_neg, out=chain_hidden)
        self._chains = v_neg

    def _replicas(self) -> TemperedChains:
        """The parallel-tempering replicas (``method="pt"`` only)."""
        if self._tempered is None:
            raise RuntimeError("Only parallel tempering (method='pt') has tempered replicas.")
        return self._tempered

    def _persistent_hidden(self) -> torch.Tensor:
        """The hidden states of the persistent chains (``method="pcd"`` only)."""
        if self._chain_hidden is None:
            raise RuntimeError("Only PCD (method='pcd') keeps hidden states of its chains.")
        return self._chain_hidden

    def _sweep(self, hidden: torch.Tensor, v: torch.Tensor, scratch: torch.Tensor) -> None:
        """v ~ p(v | hidden) into ``v``, then k - 1 sweeps h ~ p(h|v), v ~ p(v|h), with uniforms
        from the pool; ``scratch`` (like ``hidden``) holds the intermediate hidden samples."""
        model, take = self.model, self._uniforms.take
        spins_(model.visible_probabilities_into(hidden, v), take(*v.shape))
        for _ in range(self.config.k - 1):
            h = bernoulli_(model.hidden_inputs_into(v, scratch).sigmoid_(), take(*scratch.shape))
            spins_(model.visible_probabilities_into(h, v), take(*v.shape))

    def _check_parameters(self) -> None:
        """Raise :class:`RBMDivergence` when a parameter is not finite or exceeds
        ``MAX_ABS_PARAMETER`` in magnitude (one device synchronization per update)."""
        model = self.model
        extremes = torch.stack([e for t in (model.W, model.a, model.b) for e in torch.aminmax(t)])
        largest = float(extremes.abs().max())
        if not math.isfinite(largest) or largest > MAX_ABS_PARAMETER:
            raise RBMDivergence(
                f"Training diverged at epoch {self.epoch}, batch {self.batch_in_epoch}: the "
                f"largest parameter is {largest:.3g} (limit {MAX_ABS_PARAMETER:g}); lower the "
                f"learning rate (now {self.config.learning_rate:g})."
            )

    def step_epoch(self) -> dict:
        """Finish the current epoch and return :meth:`metrics` plus ``"epoch"`` and
        ``"checkpoint"`` (True every ``checkpoint_every`` epochs and at the end)."""
        if self.finished:
            raise RuntimeError(f"Training is finished ({self.config.epochs} epochs).")
        epoch = self.epoch
        while self.epoch == epoch:
            self.step_batch()
        out = self.metrics()
        out["checkpoint"] = self.epoch % self.config.checkpoint_every == 0 or self.finished
        return out

    # ----------------------------------------------------------------------------- metrics
    def _log_z(self, model64: RBM, generator: torch.Generator) -> tuple[float, float, str]:
        small = min(model64.n_visible, model64.n_hidden) <= MAX_ENUMERATED_UNITS
        if small and enumeration_cost(model64) <= EXACT_LOG_Z_BUDGET:
            return log_partition_exact(model64), 0.0, "exact"
        log_z, error = ais_log_partition(
            model64, METRIC_AIS_CHAINS, METRIC_AIS_BETAS, generator, base=self._ais_base
        )
        return log_z, error, "ais"

    def metrics(self) -> dict:
        """Metrics of the current model (nats per configuration; module doc for the sizes).

        Keys: ``epoch``, ``log_z``, ``log_z_error``, ``log_z_method`` ("exact" or "ais"),
        ``nll_train``, ``nll_valid``, ``nll_train_error``, ``nll_valid_error`` (= log_z_error),
        ``pseudo_likelihood`` (mean log PL per configuration), ``reconstruction_mismatch``
        (fraction of spins flipped by v → h → v), ``free_energy_gap`` (mean F(valid) - mean
        F(train)), ``weight_norm`` (Frobenius), ``weight_max`` (max |W_ij|),
        ``visible_bias_norm``, ``hidden_bias_norm``. Validation entries are NaN without a
        validation set. Raises :class:`RBMDivergence` if a metric is not finite.
        """
        gen = torch.Generator(device=self.device).manual_seed(
            derived_seed(self.config.seed, 2, self.epoch, self.batch_in_epoch)
        )
        model = self.model.to(torch.float64)
        log_z, error, method = self._log_z(model, gen)
        train = self._train_np[:METRIC_MAX_TRAIN]
        valid = self._valid_np
        small = (valid if valid is not None else train)[:METRIC_MAX_SMALL]
        f_train = mean_free_energy(model, train)
        f_valid = mean_free_energy(model, valid) if valid is not None else math.nan
        W = model.W
        out = {
            "epoch": self.epoch,
            "log_z": log_z,
            "log_z_error": error,
            "log_z_method": method,
            "nll_train": f_train + log_z,
            "nll_valid": f_valid + log_z,
            "nll_train_error": error,
            "nll_valid_error": error if valid is not None else math.nan,
            "pseudo_likelihood": pseudo_likelihood(model, small, gen),
            "reconstruction_mismatch": reconstruction_mismatch(model, small, gen),
            "free_energy_gap": f_valid - f_train,
            "weight_norm": float(torch.linalg.norm(W)),
            "weight_max": float(W.abs().max()),
            "visible_bias_norm": float(torch.linalg.norm(model.a)),
            "hidden_bias_norm": float(torch.linalg.norm(model.b)),
        }
        optional = {"nll_valid", "nll_valid_error", "free_energy_gap"} if valid is None else set()
        bad = [
            k
            for k, v in out.items()
            if isinstance(v, float) and k not in optional and not math.isfinite(v)
        ]
        if bad:
            raise RBMDivergence(
                f"Training diverged at epoch {self.epoch}: the metrics {bad} are not finite."
            )
        return out

    # ------------------------------------------------------------------------- persistence
    def state_dict(self) -> dict:
        """Everything to resume bit-for-bit: numpy arrays, plain scalars, and ``config`` (dict).

        Generator states are uint8 arrays; chains and replicas int8 ±1 arrays (empty when the
        method has none); ``permutation`` is the current epoch's order (empty between epochs).
        """
        cfg = self.config
        state = {
            "format": STATE_FORMAT,
            "version": STATE_VERSION,
            "config": cfg.to_dict(),
            "n_visible": self.model.n_visible,
            "train_size": int(self._train_np.shape[0] + self.validation_indices.size),
            "train_checksum": int(self._train_checksum),
            "validation_indices": self.validation_indices.copy(),
            "epoch": int(self.epoch),
            "batch_in_epoch": int(self.batch_in_epoch),
            "updates": int(self._updates),
            "permutation": (
                np.zeros(0, dtype=np.int64)
                if self._permutation is None
                else self._permutation.numpy().copy()
            ),
            "split_generator": _generator_state(self._split_gen),
            "generator": _generator_state(self._gen),
            "uniform_state": (
                self._uniform_source.copy()
                if isinstance(self._uniform_source, np.ndarray)
                else np.zeros(0, dtype=np.uint64)
            ),
            "hidden_offset": self._hidden_offset.cpu().numpy().copy(),
            "chains": np.zeros((0, self.model.n_visible), dtype=np.int8),
            "chain_hidden": np.zeros((0, self.model.n_hidden), dtype=np.int8),
            "replicas": np.zeros((0, 0, self.model.n_visible), dtype=np.int8),
            "swap_attempts": np.zeros(0),
            "swap_accepts": np.zeros(0),
        }
        state.update({k: v for k, v in self.model.to_numpy().items()})
        state.update({f"optimizer_{k}": v for k, v in self._optimizer.state_dict().items()})
        if self._chains is not None:
            state["chains"] = self._chains.cpu().numpy().astype(np.int8)
            state["chain_hidden"] = self._persistent_hidden().cpu().numpy().astype(np.int8)
        if self._tempered is not None:
            state["replicas"] = self._tempered.replicas.cpu().numpy().astype(np.int8)
            state["swap_attempts"] = self._tempered.swap_attempts.numpy().copy()
            state["swap_accepts"] = self._tempered.swap_accepts.numpy().copy()
        return state

    @classmethod
    def from_state(
        cls, state: dict, train: np.ndarray, validation: np.ndarray | None = None
    ) -> RBMTrainer:
        """Rebuild a trainer from :meth:`state_dict` and the same ``train``/``validation`` data.

        Raises ``ValueError`` for a foreign state or different training data (checksum).
        """
        version = int(state.get("version", -1))
        if state.get("format") != STATE_FORMAT or version not in SUPPORTED_STATE_VERSIONS:
            raise ValueError(
                f"Not an RBM trainer state of format {STATE_FORMAT!r} version "
                f"{', '.join(map(str, SUPPORTED_STATE_VERSIONS))}."
            )
        missing = sorted(_STATE_KEYS - set(state))
        if missing:
            raise ValueError(f"The RBM trainer state lacks the entries {missing}.")
        config = RBMConfig.from_dict(dict(state["config"]))
        train = _check_spins(train, int(state["n_visible"]), "training data")
        if _checksum(train) != int(state["train_checksum"]):
            raise ValueError("The training data differ from the data this state was trained on.")
        indices = np.asarray(state["validation_indices"], dtype=np.int64)
        split = None if validation is not None else indices
        model = RBM(state["W"], state["a"], state["b"], device=config.device, dtype=torch.float32)
        self = cls.__new__(cls)
        self._build(config, train, validation, model, validation_indices=split)
        self.epoch = int(state["epoch"])
        self.batch_in_epoch = int(state["batch_in_epoch"])
        self._updates = int(state["updates"])
        permutation = np.asarray(state["permutation"], dtype=np.int64)
        self._permutation = torch.from_numpy(permutation.copy()) if permutation.size else None
        self._split_gen.set_state(torch.from_numpy(np.asarray(state["split_generator"], np.uint8)))
        self._gen.set_state(torch.from_numpy(np.asarray(state["generator"], np.uint8)))
        if isinstance(self._uniform_source, np.ndarray):
            uniform_state = np.asarray(state.get("uniform_state", ()), dtype=np.uint64)
            self._uniform_source = (
                check_state(uniform_state)
                if uniform_state.size
                else seed_state(derived_seed(config.seed, 2, self._updates))
            )
        self._hidden_offset = torch.as_tensor(
            np.asarray(state["hidden_offset"], np.float32), device=self.device
        ).clone()
        optimizer = {
            k.removeprefix("optimizer_"): v for k, v in state.items() if k.startswith("optimizer_")
        }
        self._optimizer.load_state_dict(optimizer)
        f32, dev = torch.float32, self.device
        if self._chains is not None:
            self._chains = _restored_spins(state["chains"], self._chains.shape).to(dev, f32)
            shape = tuple(self._persistent_hidden().shape)
            hidden = np.asarray(state["chain_hidden"])
            if hidden.shape != shape or not np.all((hidden == 0) | (hidden == 1)):
                raise ValueError(
                    f"Stored hidden chain states must be 0/1 of shape {shape}, got {hidden.shape}."
                )
            self._chain_hidden = torch.as_tensor(hidden.astype(np.int8)).to(dev, f32)
        if self._tempered is not None:
            replicas = _restored_spins(state["replicas"], self._tempered.replicas.shape)
            self._tempered.replicas = replicas.to(dev, f32)
            self._tempered.swap_attempts = torch.as_tensor(np.asarray(state["swap_attempts"]))
            self._tempered.swap_accepts = torch.as_tensor(np.asarray(state["swap_accepts"]))
        return self

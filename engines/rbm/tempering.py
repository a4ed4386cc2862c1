"""Parallel tempering of RBM chains (Desjardins et al. 2010): replicas at a ladder of β's.

Replica k samples the tempered model ``p_β(v, h) ∝ e^{-β_k E(v, h)}`` (every parameter times β).
The ladder is linear, ``β_k = 1 - k/(K-1)`` for k = 0..K-1, from 1 down to exactly 0: the β = 0
replica draws fresh independent uniform spins every sweep, which is what lets the β = 1 replica
leave a free-energy valley. A linear ladder keeps the neighbouring overlaps roughly even for RBMs
whose hard region (ordering) sits anywhere in (0, 1); with few replicas the swap acceptance drops.

Swaps act on the visible configurations only (the hidden units are resampled by the next Gibbs
step), with the tempered visible marginal ``-F_β(v) = β a·v + Σ_j softplus(β (b_j + (Wᵀv)_j))``:
the pair (k, k+1) swaps with probability
``min(1, exp(F_βk(v_k) + F_βk+1(v_k+1) - F_βk(v_k+1) - F_βk+1(v_k)))``, independently for every
chain, first for the pairs (0,1), (2,3), … then (1,2), (3,4), …
"""

from __future__ import annotations

import torch

from engines.rbm.model import RBM, spins
from engines.rbm.moves import global_flip


def beta_ladder(n_temperatures: int, dtype=torch.float64, device="cpu") -> torch.Tensor:
    """``β_k = 1 - k/(K-1)``, k = 0..K-1 (K ≥ 2)."""
    if n_temperatures < 2:
        raise ValueError(f"Parallel tempering needs >= 2 temperatures, got {n_temperatures}.")
    return torch.linspace(1.0, 0.0, n_temperatures, dtype=dtype, device=device)


class TemperedChains:
    """``replicas`` (K, C, n): C chains at each of K inverse temperatures; swap statistics."""

    def __init__(self, replicas: torch.Tensor, betas: torch.Tensor) -> None:
        if replicas.ndim != 3 or replicas.shape[0] != betas.shape[0]:
            raise ValueError(
                f"Replicas must have shape (K, C, n) with K = {betas.shape[0]}, "
                f"got {tuple(replicas.shape)}."
            )
        self.replicas = replicas
        self.betas = betas.to(device=replicas.device, dtype=replicas.dtype)
        self.swap_attempts = torch.zeros(betas.shape[0] - 1, dtype=torch.float64)
        self.swap_accepts = torch.zeros(betas.shape[0] - 1, dtype=torch.float64)

    @classmethod
    def independent(
        cls,
        model: RBM,
        n_temperatures: int,
        n_chains: int,
        generator: torch.Generator,
        fields: torch.Tensor | None = None,
    ) -> TemperedChains:
        """K×C chains of independent spins with ``p(v_i = +1) = σ(2 fields_i)`` (default 1/2)."""
        shape = (n_temperatures, n_chains, model.n_visible)
        if fields is None:
            p_up = torch.full(shape, 0.5, dtype=model.dtype, device=model.device)
        else:
            p_up = torch.sigmoid(2.0 * fields.to(model.dtype)).expand(shape)
        replicas = spins(p_up, generator)
        return cls(replicas, beta_ladder(n_temperatures, model.dtype, model.device))

    @property
    def acceptance(self) -> list[float]:
        """Swap acceptance rate of each neighbouring pair (NaN before any attempt)."""
        return (self.swap_accepts / self.swap_attempts).tolist()

    def gibbs(self, model: RBM, steps: int, generator: torch.Generator) -> None:
        """``steps`` block-Gibbs sweeps of every replica at its own β."""
        K, C, n = self.replicas.shape
        beta_rows = self.betas.repeat_interleave(C)
        flat = model.gibbs(self.replicas.reshape(K * C, n), steps, generator, beta_rows)
        self.replicas = flat.reshape(K, C, n)

    def advance(
        self,
        model: RBM,
        rounds: int,
        generator: torch.Generator,
        gibbs_steps: int = 1,
        flip_moves: bool = False,
        flip_probability: float = 1.0,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``rounds`` times: ``gibbs_steps`` sweeps of every replica, optionally a global-flip
        move of every replica at its β (:mod:`engines.rbm.moves`, proposed with probability
        ``flip_probability``), then one round of swaps.

        Returns the β = 1 replica (C, n) and its hidden inputs ``b + Wᵀv`` (C, m).
        """
        x = None
        for _ in range(rounds):
            self.gibbs(model, gibbs_steps, generator)
            x = model.hidden_inputs(self.replicas)
            if flip_moves:
                K, C, n = self.replicas.shape
                v, x = global_flip(
                    model,
                    self.replicas.reshape(K * C, n),
                    x.reshape(K * C, -1),
                    generator,
                    self.betas.repeat_interleave(C),
                    flip_probability,
                )
                self.replicas, x = v.reshape(K, C, n), x.reshape(K, C, -1)
            x = self.swap(model, generator, x)
        if x is None:
            x = model.hidden_inputs(self.replicas)
        return self.replicas[0], x[0]

    def swap(
        self, model: RBM, generator: torch.Generator, x: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One round of replica-exchange proposals: even pairs, then odd pairs.

        ``x`` (K, C, m), the hidden inputs of the replicas, is computed when not given; the
        swapped ``x`` is returned.
        """
        softplus = torch.nn.functional.softplus
        x = model.hidden_inputs(self.replicas) if x is None else x.clone()  # (K, C, m)
        av = self.replicas @ model.a  # (K, C)
        beta = self.betas

        def neg_f(k: torch.Tensor, at: torch.Tensor) -> torch.Tensor:
            """-F at β[at] of the configurations held by replicas k, shape (len(k), C)."""
            b = beta[at][:, None]
            return b * av[k] + softplus(b[..., None] * x[k]).sum(-1)

        K = self.replicas.shape[0]
        for first in (0, 1):
            lo = torch.arange(first, K - 1, 2, device=self.replicas.device)
            if lo.numel() == 0:
                continue
            hi = lo + 1
            log_r = neg_f(hi, lo) + neg_f(lo, hi) - neg_f(lo, lo) - neg_f(hi, hi)
            u = torch.rand(log_r.shape, generator=generator, dtype=log_r.dtype, device=log_r.device)
            accept = torch.log(u) < log_r  # (pairs, C)
            for arr in (self.replicas, x):
                a_lo, a_hi = arr[lo], arr[hi]
                mask = accept[..., None]
                arr[lo] = torch.where(mask, a_hi, a_lo)
                arr[hi] = torch.where(mask, a_lo, a_hi)
            av_lo, av_hi = av[lo], av[hi]
            av[lo] = torch.where(accept, av_hi, av_lo)
            av[hi] = torch.where(accept, av_lo, av_hi)
            self.swap_attempts[lo.cpu()] += accept.shape[1]
            self.swap_accepts[lo.cpu()] += accept.sum(-1).to(torch.float64).cpu()
        return x

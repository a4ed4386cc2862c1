"""The global spin-flip move v → -v, an exact Metropolis step for any RBM.

The proposal ``v → -v`` is its own inverse (a symmetric, deterministic involution), so accepting
it with probability ``min(1, p_β(-v) / p_β(v)) = min(1, exp(F_β(v) - F_β(-v)))`` leaves every
tempered marginal ``p_β(v) ∝ exp(-F_β(v))`` invariant, whatever the parameters. Composed with
block-Gibbs sweeps it is a valid MCMC kernel for any RBM; it matters for models that are (nearly)
symmetric under v → -v, such as RBMs trained on Ising configurations: there the two ordered
phases are separated by a free-energy barrier that Gibbs chains cross only after a time growing
exponentially with the system size, while this move crosses it in one step. For a strongly
polarized model it is simply rejected.

Proposed with probability q only (``probability``; accept with ``q·min(1, p(-v)/p(v))``), the move
is still exact: the kernel is the mixture ``(1 - q)·identity + q·Metropolis``. q = 1/2 matters for
an exactly symmetric model (:mod:`engines.rbm.symmetry`): there the flip is always accepted, so
with q = 1 every sweep flips the lattice deterministically and a series recorded every even number
of sweeps never sees a flip at all; with q = 1/2 each sweep draws a fresh random sign.

It costs no matrix product: with ``x = b + Wᵀv`` (already known), ``b + Wᵀ(-v) = 2b - x`` and

    -F_β(v) = β a·v + Σ_j softplus(β x_j),   -F_β(-v) = -β a·v + Σ_j softplus(β (2 b_j - x_j)).
"""

from __future__ import annotations

import torch

from engines.rbm.model import RBM


def global_flip(
    model: RBM,
    v: torch.Tensor,
    x: torch.Tensor,
    generator: torch.Generator,
    beta: float | torch.Tensor = 1.0,
    probability: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Propose ``v → -v`` for every row of ``v`` (batch, n); returns the new ``(v, x)``.

    ``x`` must be ``b + Wᵀv`` for the given ``v``; ``beta`` a float or one value per row;
    ``probability`` (in (0, 1]) the chance q that the flip is proposed at all (module doc).
    """
    if not 0.0 < probability <= 1.0:
        raise ValueError(f"The flip probability must be in (0, 1], got {probability!r}.")
    softplus = torch.nn.functional.softplus
    x_flip = 2.0 * model.b - x
    if isinstance(beta, torch.Tensor):
        beta = beta.to(device=v.device, dtype=v.dtype).reshape(-1)
        gain = softplus(beta[:, None] * x_flip) - softplus(beta[:, None] * x)
    elif beta == 1.0:
        gain = softplus(x_flip) - softplus(x)
    else:
        gain = softplus(beta * x_flip) - softplus(beta * x)
    log_ratio = gain.sum(-1) - 2.0 * beta * (v @ model.a)
    u = torch.rand(log_ratio.shape, generator=generator, dtype=v.dtype, device=v.device)
    if probability < 1.0:
        accept = (u < probability * torch.exp(log_ratio).clamp_(max=1.0))[:, None]
    else:
        accept = _accepted(u, log_ratio)[:, None]
    sign = 1.0 - 2.0 * accept.to(v.dtype)  # -1 where the flip is accepted
    return v * sign, torch.where(accept, x_flip, x)


def global_flip_(model: RBM, v: torch.Tensor, pair: torch.Tensor, u: torch.Tensor) -> None:
    """:func:`global_flip` at β = 1, in place, with given uniforms ``u`` (batch,): the training
    loop's form.

    ``pair`` (2, batch, m) holds ``x = b + Wᵀv`` in ``pair[0]`` (updated with ``v``) and serves
    as scratch in ``pair[1]``, so that both softplus sums of
    ``log p(-v)/p(v) = Σ_j [softplus(2b_j - x_j) - softplus(x_j)] - 2 a·v`` are one call each
    over both halves.
    """
    x, x_flip = pair[0], pair[1]
    torch.lerp(x, model.b, 2.0, out=x_flip)  # x + 2(b - x) = 2b - x
    sums = torch.nn.functional.softplus(pair).sum(-1)
    accept = _accepted(u, torch.addmv(sums[1].sub_(sums[0]), v, model.a, alpha=-2.0))
    torch.where(accept[:, None], x_flip, x, out=x)
    v.mul_(torch.where(accept, -1.0, 1.0)[:, None])


def _accepted(u: torch.Tensor, log_ratio: torch.Tensor) -> torch.Tensor:
    """Metropolis acceptance ``u < min(1, e^log_ratio)`` as ``u < exp(log_ratio)``: u < 1 always,
    and an exponential that overflows to inf is still a correct bound (no logarithm of u)."""
    return u < torch.exp(log_ratio)

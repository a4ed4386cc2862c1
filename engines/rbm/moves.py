"""The global spin-flip move v → -v, an exact Metropolis step for any RBM.

The proposal ``v → -v`` is its own inverse (a symmetric, deterministic involution), so accepting
it with probability ``min(1, p_β(-v) / p_β(v)) = min(1, exp(F_β(v) - F_β(-v)))`` leaves every
tempered marginal ``p_β(v) ∝ exp(-F_β(v))`` invariant, whatever the parameters. Composed with
block-Gibbs sweeps it is a valid MCMC kernel for any RBM; it matters for models that are (nearly)
symmetric under v → -v, such as RBMs trained on Ising configurations: there the two ordered
phases are separated by a free-energy barrier that Gibbs chains cross only after a time growing
exponentially with the system size, while this move crosses it in one step. For a strongly
polarized model it is simply rejected.

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
) -> tuple[torch.Tensor, torch.Tensor]:
    """Propose ``v → -v`` for every row of ``v`` (batch, n); returns the new ``(v, x)``.

    ``x`` must be ``b + Wᵀv`` for the given ``v``; ``beta`` a float or one value per row.
    """
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
    accept = (torch.log(u) < log_ratio)[:, None]
    sign = 1.0 - 2.0 * accept.to(v.dtype)  # -1 where the flip is accepted
    return v * sign, torch.where(accept, x_flip, x)

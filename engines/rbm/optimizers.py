"""Gradient-ascent optimizers for the RBM's log-likelihood, with serializable buffers.

Both act in place on a list of parameter tensors, given the list of ascent directions (estimated
log-likelihood gradients, regularization included):

* ``"sgd"``: heavy-ball momentum μ, ``u ← μ u + g``, ``θ ← θ + lr · u``.
* ``"adam"``: Kingma & Ba with β1 = 0.9, β2 = 0.999, ε = 1e-8 and bias correction,
  ``θ ← θ + lr · m̂ / (sqrt(v̂) + ε)``.

Buffers (and Adam's step count) travel through :meth:`state_dict` as numpy arrays and ints.
"""

from __future__ import annotations

import numpy as np
import torch

ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


class Optimizer:
    """Momentum SGD or Adam over a fixed list of parameter tensors."""

    def __init__(self, kind: str, params: list[torch.Tensor], momentum: float = 0.9) -> None:
        if kind not in ("sgd", "adam"):
            raise ValueError(f"Unknown optimizer {kind!r}; use 'sgd' or 'adam'.")
        self.kind = kind
        self.momentum = float(momentum)
        self.steps = 0
        n_buffers = 1 if kind == "sgd" else 2
        self.buffers = [[torch.zeros_like(p) for p in params] for _ in range(n_buffers)]

    def step(self, params: list[torch.Tensor], grads: list[torch.Tensor], lr: float) -> None:
        """One ascent step of size ``lr`` along ``grads`` (modifies ``params`` in place).

        Momentum is two passes over each parameter (``u ← g + μ u`` in one ``add``, then
        ``θ ← θ + lr u``); Adam's formulas are one ``torch._foreach_*`` call each over all
        parameters (fewer dispatches than a loop, the same arithmetic).
        """
        self.steps += 1
        if self.kind == "sgd":
            for g, u in zip(grads, self.buffers[0], strict=True):
                torch.add(g, u, alpha=self.momentum, out=u)
            torch._foreach_add_(params, self.buffers[0], alpha=lr)
            return
        first, second = self.buffers
        c1 = 1.0 - ADAM_BETA1**self.steps
        c2 = 1.0 - ADAM_BETA2**self.steps
        torch._foreach_mul_(first, ADAM_BETA1)
        torch._foreach_add_(first, grads, alpha=1.0 - ADAM_BETA1)
        torch._foreach_mul_(second, ADAM_BETA2)
        torch._foreach_addcmul_(second, grads, grads, value=1.0 - ADAM_BETA2)
        denominator = torch._foreach_div(second, c2)
        torch._foreach_sqrt_(denominator)
        torch._foreach_add_(denominator, ADAM_EPS)
        torch._foreach_addcdiv_(params, first, denominator, value=lr / c1)

    def state_dict(self) -> dict:
        """``{"kind", "steps", "buffer_<i>_<j>"}``: buffer i of parameter j as numpy arrays."""
        out: dict = {"kind": self.kind, "steps": int(self.steps)}
        for i, group in enumerate(self.buffers):
            for j, t in enumerate(group):
                out[f"buffer_{i}_{j}"] = t.detach().cpu().numpy().copy()
        return out

    def load_state_dict(self, state: dict) -> None:
        """Restore buffers saved by :meth:`state_dict` (shapes must match the parameters)."""
        if state["kind"] != self.kind:
            raise ValueError(f"Optimizer state is for {state['kind']!r}, not {self.kind!r}.")
        self.steps = int(state["steps"])
        for i, group in enumerate(self.buffers):
            for j, t in enumerate(group):
                value = np.asarray(state[f"buffer_{i}_{j}"])
                if value.shape != tuple(t.shape):
                    raise ValueError(f"Optimizer buffer {i},{j} has shape {value.shape}.")
                t.copy_(torch.as_tensor(value))

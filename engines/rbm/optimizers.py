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
        """One ascent step of size ``lr`` along ``grads`` (modifies ``params`` in place)."""
        self.steps += 1
        if self.kind == "sgd":
            for p, g, u in zip(params, grads, self.buffers[0], strict=True):
                u.mul_(self.momentum).add_(g)
                p.add_(u, alpha=lr)
            return
        c1 = 1.0 - ADAM_BETA1**self.steps
        c2 = 1.0 - ADAM_BETA2**self.steps
        for p, g, m, v in zip(params, grads, self.buffers[0], self.buffers[1], strict=True):
            m.mul_(ADAM_BETA1).add_(g, alpha=1.0 - ADAM_BETA1)
            v.mul_(ADAM_BETA2).addcmul_(g, g, value=1.0 - ADAM_BETA2)
            denominator = (v / c2).sqrt_().add_(ADAM_EPS)
            p.addcdiv_(m, denominator, value=lr / c1)

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

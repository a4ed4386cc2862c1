"""The restricted Boltzmann machine of the paper (eqs. 15–17): ±1 visible spins, {0,1} hidden units.

Energy and marginals, for visible ``v ∈ {-1,+1}^n`` and hidden ``h ∈ {0,1}^m``::

    E(v, h) = -a·v - b·h - vᵀ W h
    F(v)    = -a·v - Σ_j log(1 + exp(b_j + (Wᵀv)_j))        (so p(v) = e^{-F(v)} / Z)
    p(h_j = 1 | v)  = σ(b_j + (Wᵀv)_j)
    p(v_i = +1 | h) = σ(2 (a_i + (W h)_i))                  (the 2: v_i jumps by 2 when it flips)

A *tempered* model at inverse temperature β has ``p_β(v, h) ∝ e^{-β E(v, h)}``: every parameter is
multiplied by β. :meth:`RBM.gibbs` accepts β as a scalar or one value per chain (used by parallel
tempering).

Parameters live as torch tensors on one device, in float32 (training) or float64 (exact
evaluations); ``dtype=None`` keeps the dtype of ``W`` when it is float32 or float64. Every random
draw takes an explicit ``torch.Generator`` living on the model's device.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from engines.ising.rng import fill_uniform_float32

_FLOAT_DTYPES = (torch.float32, torch.float64)


def _as_tensor(x, dtype: torch.dtype | None, device: torch.device) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if dtype is None:
        dtype = t.dtype if t.dtype in _FLOAT_DTYPES else torch.float32
    return t.detach().to(device=device, dtype=dtype).clone().contiguous()


def _beta_column(beta: float | torch.Tensor, like: torch.Tensor) -> float | torch.Tensor:
    """β as a float, or as a (batch, 1) column matching ``like`` (one β per chain)."""
    if isinstance(beta, torch.Tensor):
        return beta.to(device=like.device, dtype=like.dtype).reshape(-1, 1)
    return float(beta)


def bernoulli(p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """0/1 draws with probabilities ``p`` (same dtype), as ``u < p`` with u uniform on [0, 1).

    On the CPU this is about three times faster than ``torch.bernoulli`` with a generator.
    """
    u = torch.rand(p.shape, generator=generator, dtype=p.dtype, device=p.device)
    return (u < p).to(p.dtype)


def spins(p_up: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """±1 draws, +1 with probability ``p_up`` (same dtype)."""
    return 2.0 * bernoulli(p_up, generator) - 1.0


def bernoulli_(p: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """:func:`bernoulli` in place with given uniforms: ``p`` becomes 1.0 where ``u < p``, else 0.0.

    The training loop's form: no temporaries, and ``u`` comes from a :class:`UniformPool`.
    """
    return p.gt_(u)


def spins_(p_up: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """:func:`spins` in place with given uniforms: ``p_up`` becomes +1.0 where ``u < p_up``, else
    -1.0."""
    return p_up.gt_(u).mul_(2.0).sub_(1.0)


UniformSource = torch.Generator | np.ndarray
"""Where a :class:`UniformPool` draws from: a torch generator (any device), or on the CPU the
``uint64[4]`` state of a xoshiro256** generator (:mod:`engines.ising.rng`), advanced in place."""


class UniformPool:
    """Uniform numbers on [0, 1) drawn by one call per :meth:`refill` into a reused buffer, then
    handed out in order by :meth:`take`.

    One call per training update instead of one per sampled layer: fewer kernel launches and no
    new allocation. From a torch generator the numbers are ``torch.rand``'s; from a xoshiro256**
    state (CPU, float32) they are :func:`engines.ising.rng.fill_uniform_float32`'s, on the same
    2⁻²⁴ grid at about a quarter of the cost (torch's CPU generator is a serial Mersenne twister,
    16% of a PCD-1 update at n = 1024, m = 256 before this).
    """

    def __init__(self, device: torch.device, dtype: torch.dtype = torch.float32) -> None:
        self._buffer = torch.empty(0, device=device, dtype=dtype)
        self._count = 0
        self._used = 0

    def refill(self, count: int, source: UniformSource) -> None:
        """Draw ``count`` fresh uniforms from ``source`` (the previous ones are discarded)."""
        if self._buffer.numel() < count:
            self._buffer = torch.empty(count, device=self._buffer.device, dtype=self._buffer.dtype)
        target = self._buffer[:count]
        if isinstance(source, torch.Generator):
            torch.rand(count, generator=source, out=target)
        else:
            if target.device.type != "cpu" or target.dtype != torch.float32:
                raise ValueError("A xoshiro256** state fills float32 buffers on the CPU only.")
            fill_uniform_float32(source, target.numpy())
        self._count, self._used = count, 0

    def take(self, *shape: int) -> torch.Tensor:
        """The next ``prod(shape)`` uniforms of the last refill, as a tensor of that shape (a view
        of the buffer, overwritten by the next refill)."""
        size = math.prod(shape)
        if self._used + size > self._count:
            raise RuntimeError(
                f"The pool holds {self._count - self._used} unused uniforms, {size} were asked for."
            )
        view = self._buffer[self._used : self._used + size].view(shape)
        self._used += size
        return view


class RBM:
    """Parameters ``W`` (n, m), ``a`` (n,), ``b`` (m,) and the conditionals of the model."""

    def __init__(self, W, a, b, device: str | torch.device = "cpu", dtype=None) -> None:
        device = torch.device(device)
        self.W = _as_tensor(W, dtype, device)
        self.a = _as_tensor(a, self.W.dtype, device)
        self.b = _as_tensor(b, self.W.dtype, device)
        if self.W.ndim != 2 or self.W.shape[0] < 1 or self.W.shape[1] < 1:
            raise ValueError(
                f"W must be a non-empty (n_visible, n_hidden) matrix, got {self.W.shape}."
            )
        n, m = self.W.shape
        if self.a.shape != (n,) or self.b.shape != (m,):
            raise ValueError(
                f"Bias shapes {tuple(self.a.shape)} and {tuple(self.b.shape)} do not match W of "
                f"shape {(n, m)}: a must be ({n},) and b ({m},)."
            )

    @classmethod
    def random(
        cls,
        n_visible: int,
        n_hidden: int,
        generator: torch.Generator,
        data: np.ndarray | None = None,
        std: float = 0.01,
        device: str | torch.device | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> RBM:
        """Small Gaussian weights (std ``std``), ``b = 0``, and ``a_i = atanh(⟨v_i⟩_data)``.

        The visible biases reproduce the data's mean spins exactly when W = 0; means are clipped to
        ±(1 - 1e-3) (|a| ≤ 3.8) so that a frozen spin does not give an infinite bias. Without data,
        ``a = 0``. The weights are drawn on the generator's device (default: that device).
        """
        if n_visible < 1 or n_hidden < 1:
            raise ValueError(
                f"An RBM needs >= 1 visible and hidden unit, got {n_visible}, {n_hidden}."
            )
        device = torch.device(device) if device is not None else generator.device
        W = torch.randn(n_visible, n_hidden, generator=generator, device=generator.device) * std
        a = np.zeros(n_visible)
        if data is not None:
            data = np.asarray(data)
            if data.ndim != 2 or data.shape[1] != n_visible:
                raise ValueError(f"data must have shape (N, {n_visible}), got {data.shape}.")
            mean = np.clip(data.mean(axis=0, dtype=np.float64), -1 + 1e-3, 1 - 1e-3)
            a = np.arctanh(mean)
        return cls(W, torch.as_tensor(a), torch.zeros(n_hidden), device=device, dtype=dtype)

    # ------------------------------------------------------------------------------- properties
    @property
    def n_visible(self) -> int:
        return int(self.W.shape[0])

    @property
    def n_hidden(self) -> int:
        return int(self.W.shape[1])

    @property
    def device(self) -> torch.device:
        return self.W.device

    @property
    def dtype(self) -> torch.dtype:
        return self.W.dtype

    def to(self, dtype: torch.dtype | None = None, device: str | torch.device | None = None) -> RBM:
        """A copy with another dtype and/or device."""
        return RBM(self.W, self.a, self.b, device=device or self.device, dtype=dtype or self.dtype)

    def visible_tensor(self, v) -> torch.Tensor:
        """``v`` (numpy or torch, any numeric dtype, ±1) as a tensor of the model's dtype/device."""
        t = v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
        if t.ndim == 0 or t.shape[-1] != self.n_visible:
            raise ValueError(
                f"Visible configurations must have last dimension {self.n_visible}, "
                f"got shape {tuple(t.shape)}."
            )
        return t.to(device=self.device, dtype=self.dtype)

    # ----------------------------------------------------------------------- energies and probs
    def hidden_inputs(self, v: torch.Tensor) -> torch.Tensor:
        """``b + Wᵀv`` for a batch (..., n) of visible configurations."""
        return torch.addmm(self.b, v.reshape(-1, self.n_visible), self.W).reshape(
            *v.shape[:-1], self.n_hidden
        )

    def visible_inputs(self, h: torch.Tensor) -> torch.Tensor:
        """``a + W h`` for a batch (..., m) of hidden configurations."""
        return torch.addmm(self.a, h.reshape(-1, self.n_hidden), self.W.T).reshape(
            *h.shape[:-1], self.n_visible
        )

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """``F(v) = -a·v - Σ_j softplus(b_j + (Wᵀv)_j)`` for a batch (..., n)."""
        v = self.visible_tensor(v)
        return -(v @ self.a) - torch.nn.functional.softplus(self.hidden_inputs(v)).sum(-1)

    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``E(v, h) = -a·v - b·h - vᵀWh`` for matching batches (..., n) and (..., m)."""
        v = self.visible_tensor(v)
        h = torch.as_tensor(h).to(device=self.device, dtype=self.dtype)
        return -(v @ self.a) - (h @ self.b) - ((v @ self.W) * h).sum(-1)

    def hidden_probabilities(self, v: torch.Tensor, beta: float | torch.Tensor = 1.0):
        """``p(h_j = 1 | v) = σ(β (b_j + (Wᵀv)_j))``, shape (..., m)."""
        v = self.visible_tensor(v)
        return torch.sigmoid(_beta_column(beta, v) * self.hidden_inputs(v))

    def visible_probabilities(self, h: torch.Tensor, beta: float | torch.Tensor = 1.0):
        """``p(v_i = +1 | h) = σ(2β (a_i + (W h)_i))``, shape (..., n)."""
        h = torch.as_tensor(h).to(device=self.device, dtype=self.dtype)
        return torch.sigmoid((2.0 * _beta_column(beta, h)) * self.visible_inputs(h))

    def hidden_inputs_into(self, v: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``b + Wᵀv`` for a (batch, n) matrix ``v``, written into ``out`` (batch, m)."""
        return torch.addmm(self.b, v, self.W, out=out)

    def visible_probabilities_into(self, h: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """``p(v_i = +1 | h)`` at β = 1 for a (batch, m) matrix ``h``, into ``out`` (batch, n).

        ``2(a + W h)`` comes from one ``addmm`` (scaling by 2 is exact, so this is bit for bit
        :meth:`visible_probabilities`'s argument), then the sigmoid in place.
        """
        return torch.addmm(self.a, h, self.W.T, beta=2.0, alpha=2.0, out=out).sigmoid_()

    # --------------------------------------------------------------------------------- sampling
    def sample_hidden(self, v, generator: torch.Generator, beta: float | torch.Tensor = 1.0):
        """A draw of h ∈ {0,1}^m from p_β(h | v) (values in the model's dtype)."""
        return bernoulli(self.hidden_probabilities(v, beta), generator)

    def sample_visible(self, h, generator: torch.Generator, beta: float | torch.Tensor = 1.0):
        """A draw of v ∈ {-1,+1}^n from p_β(v | h) (values in the model's dtype)."""
        return spins(self.visible_probabilities(h, beta), generator)

    def gibbs(
        self,
        v: torch.Tensor,
        steps: int,
        generator: torch.Generator,
        beta: float | torch.Tensor = 1.0,
    ) -> torch.Tensor:
        """``steps`` block-Gibbs sweeps v → h → v at inverse temperature β; returns the new v.

        ``beta`` is a float or a tensor with one β per row of ``v`` (shape (batch,)).
        """
        v = self.visible_tensor(v)
        for _ in range(steps):
            h = self.sample_hidden(v, generator, beta)
            v = self.sample_visible(h, generator, beta)
        return v

    # ---------------------------------------------------------------------------- serialization
    def to_numpy(self) -> dict[str, np.ndarray]:
        """``{"W", "a", "b"}`` as numpy arrays (the model's dtype), paper convention (±1 spins)."""
        return {k: getattr(self, k).detach().cpu().numpy().copy() for k in ("W", "a", "b")}

    def state_dict(self) -> dict:
        """Parameters as numpy arrays plus the dtype name: ``{"W", "a", "b", "dtype"}``."""
        return {**self.to_numpy(), "dtype": str(self.dtype).removeprefix("torch.")}

    @classmethod
    def from_state(cls, d: dict, device: str | torch.device = "cpu") -> RBM:
        """Rebuild from :meth:`state_dict` (the dtype entry is optional: float32 by default)."""
        name = str(d.get("dtype", "float32"))
        if name not in ("float32", "float64"):
            raise ValueError(f"An RBM state has dtype float32 or float64, got {name!r}.")
        return cls(d["W"], d["a"], d["b"], device=device, dtype=getattr(torch, name))

    def __repr__(self) -> str:
        return f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}, dtype={self.dtype})"

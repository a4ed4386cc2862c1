"""Limits of the geometry computations that callers need without loading them (no torch here)."""

MAX_K = 10
"""Largest compression k of the cone potential's Monge–Ampère check: its autograd Hessian is
(k(k+1)/2)² and costs O(k⁶); k = 10 takes about a second."""

"""When an RBM level counts as a coarse-graining: the lowest mean matched share accepted.

A unit's matched share is the fraction of its squared weight on the block it is matched to
(:func:`engines.rg.rbm_coarse.matched_locality`); a stacked level whose mean matched share is
below :data:`MIN_BLOCK_SHARE` is not local and the stack refuses to coarse-grain through it
(:mod:`engines.rg.stack`). Kept apart, with no torch, so that the command line's defaults and
``--help`` read it without loading the trainer.
"""

MIN_BLOCK_SHARE = 0.5
"""Default lowest mean matched share accepted: on average at least half of each unit's squared
weight on its own block (dimensionless, in [0, 1])."""

__all__ = ["MIN_BLOCK_SHARE"]

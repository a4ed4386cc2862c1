"""The geometry feature: the per-checkpoint task, runs, controller, CLI."""

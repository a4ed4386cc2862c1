"""The RG feature: coarse-graining runs, the comparator's controller, CLI."""

"""The Ising lattice dock and its plots."""

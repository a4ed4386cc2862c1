"""The RBM trainer dock and its plots."""

"""The geometry dock and its plots."""

"""Reproductions of the papers' headline experiments: one command and one dock each."""

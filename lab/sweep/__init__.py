"""Sweeps: parameter grids of headless commands run on a Dask cluster (lab.sweep.plan, …)."""

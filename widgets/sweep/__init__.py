"""The sweep dock: grids of runs on Dask, their points and plots."""

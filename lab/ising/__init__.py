"""The Ising feature: simulation task, runs, the live controller, exact references, CLI."""

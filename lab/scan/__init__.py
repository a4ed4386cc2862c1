"""Temperature scans of the Ising model: task, controller, the scan run."""

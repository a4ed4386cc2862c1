"""The RBM feature: training task, runs, the trainer's controller, CLI."""

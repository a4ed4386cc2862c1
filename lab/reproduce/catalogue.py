"""Every reproduction the lab offers: importing this module registers them (in this order)."""

from lab.reproduce import locality, rbm_flow  # noqa: F401 — each module registers its own

"""Every reproduction the lab offers: importing this module registers them; ``ORDER`` is the
order in which the command and the dock list them (the papers' weight for the lab)."""

from lab.reproduce import gai_zhang, locality, rbm_flow, torlai_melko  # noqa: F401 — registers

ORDER = ("torlai-melko", "mehta-schwab", "combe-4.1", "iso-shiba-yokoo", "gai-zhang")

"""The one timing rule of the benchmarks: the best of a few repetitions.

On a shared machine the shortest wall time is the least disturbed one, so it is the fairest
figure to put next to a reference measured the same way in the same run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def best_time(action: Callable[[], object], repeats: int = 3) -> float:
    """Shortest wall time of ``repeats`` calls of ``action`` (seconds)."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best

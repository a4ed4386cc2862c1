"""A text progress bar for the command line, on stderr.

On a terminal it is redrawn in place at most 10 times a second; when stderr is a file or a pipe
(CI logs), it prints a plain line at most every ``LOG_PERIOD_S`` seconds instead.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

LOG_PERIOD_S = 10.0


class ProgressBar:
    """``[#####.....]  50%  thermalizing  12.3 s`` on one line, redrawn in place."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self._start = time.perf_counter()
        self._last_draw = 0.0
        isatty = getattr(self.stream, "isatty", lambda: False)
        self._terminal = bool(isatty())
        self._period = 0.1 if self._terminal else LOG_PERIOD_S

    def update(self, fraction: float, status: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_draw < self._period:
            return
        self._last_draw = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = now - self._start
        line = f"{self.label} [{bar}] {100 * fraction:5.1f}%  {status:<14} {elapsed:7.1f} s"
        self.stream.write(f"\r{line}" if self._terminal else f"{line}\n")
        self.stream.flush()

    def close(self, fraction: float, status: str = "done") -> None:
        self.update(fraction, status, force=True)
        if self._terminal:
            self.stream.write("\n")
            self.stream.flush()

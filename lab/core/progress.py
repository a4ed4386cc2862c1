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


def drive(task, label: str, quiet: bool, describe) -> tuple[str, str]:
    """Step ``task`` to its end, drawing a progress bar (unless ``quiet``).

    ``describe(snapshot)`` gives ``(fraction, status text)``. Ctrl-C stops the task — its
    ``on_stop()`` is called if it has one — and the run is kept: returns ``(status, message)``
    with status 'finished' or 'stopped'. Any other exception goes to the caller.
    """
    bar = None if quiet else ProgressBar(label)
    status, message, fraction = "finished", "", 0.0
    try:
        while not task.finished:
            fraction, text = describe(task.step())
            if bar is not None:
                bar.update(fraction, text)
    except KeyboardInterrupt:
        status, message = "stopped", "interrupted by the user (Ctrl-C)"
        if hasattr(task, "on_stop"):
            task.on_stop()
    except Exception:
        status = "failed"
        raise
    finally:
        if bar is not None:
            bar.close(
                1.0 if status == "finished" else fraction,
                "done" if status == "finished" else status,
            )
    return status, message

"""An append-only numeric buffer that one thread writes and others read without locks.

The worker appends; readers take ``view()``, a slice of the entries written so far. Entries are
never modified once written, and when the buffer grows the old array stays alive for readers that
still hold a view of it, so a view is always consistent.
"""

from __future__ import annotations

import numpy as np


class GrowingSeries:
    """Append-only 1-D series with amortized O(1) appends."""

    def __init__(self, dtype: np.dtype | type = np.float64, capacity: int = 1024) -> None:
        self._data = np.empty(max(1, capacity), dtype=dtype)
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, value: float) -> None:
        if self._length == self._data.size:
            grown = np.empty(2 * self._data.size, dtype=self._data.dtype)
            grown[: self._length] = self._data
            self._data = grown
        self._data[self._length] = value
        self._length += 1

    def view(self) -> np.ndarray:
        """The entries written so far (read-only view, safe to read from another thread)."""
        out = self._data[: self._length]
        out.flags.writeable = False
        return out

    def clear(self) -> None:
        self._data = np.empty_like(self._data)
        self._length = 0

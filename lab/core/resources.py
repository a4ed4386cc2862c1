"""Will it fit? Memory and disk estimates, checked before a command starts its work.

A run that cannot fit the machine must be refused with one clear line before anything is
computed or written (a MemoryError an hour in, or a full disk, helps nobody). The estimates are
deliberately simple upper bounds, stated in the message so the user can see why.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

GIB = 1 << 30


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None


def free_disk(folder: str | os.PathLike) -> int | None:
    """Free bytes on the file system of ``folder`` (its nearest existing parent), or None."""
    path = Path(folder).resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def size_text(n_bytes: float) -> str:
    """'37.3 GiB', '512 MiB', '12 KiB'."""
    for unit, scale in (("GiB", GIB), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{int(n_bytes)} B"


def check_fits(
    what: str, memory: int = 0, disk: int = 0, folder: str | os.PathLike = ".", advice: str = ""
) -> None:
    """ValueError naming ``what``, the estimate and what is available, when ``memory`` bytes
    exceed the available memory or ``disk`` bytes the free disk under ``folder``."""
    tail = f"; {advice}" if advice else ""
    available = available_memory()
    if memory and available is not None and memory > available:
        raise ValueError(
            f"{what} needs about {size_text(memory)} of memory, more than the "
            f"{size_text(available)} available{tail}"
        )
    free = free_disk(folder)
    if disk and free is not None and disk > free:
        raise ValueError(
            f"{what} needs about {size_text(disk)} of disk, more than the "
            f"{size_text(free)} free under {folder}{tail}"
        )

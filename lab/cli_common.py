"""What the headless commands share: the one-line usage error and argument types."""

from __future__ import annotations

import argparse
import math


class CliError(Exception):
    """A problem with the user's input: reported as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(message)


def finite_float(text: str) -> float:
    """An argparse type: a finite float, with a clear message otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number")
    return value

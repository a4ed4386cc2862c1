"""Constraints on settings, written once and used by the engines, the CLI and the GUI's forms.

Each setting of an engine (a learning rate, a lattice size, a seed, …) has one constraint object
in its engine's table (``CONSTRAINTS`` beside the settings' dataclass, as scikit-learn keeps its
``_parameter_constraints``). The same object

* checks a value in the engine (:meth:`Constraint.check`, raising ``ValueError`` with one
  sentence that names the setting, says what is allowed and what was given),
* parses a command-line option (:meth:`Constraint.argparse_type`: argparse then reports one
  line and exit code 2, before any work starts),
* and checks a GUI field as it is typed (:meth:`Constraint.parse` of the text, its message shown
  under the field),

so that a rule such as "the learning rate is a finite number > 0" exists in one place only.

Numbers are Python ``int``/``float`` (numpy scalars are accepted and converted); ``bool`` is
never a number. Integer bounds may be given as ``2**64 - 1`` and so on: a seed that does not
fit its generator is refused here, before a generator ever sees it.
"""

from __future__ import annotations

import argparse
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def is_integer(value: object) -> bool:
    """True for ``int`` and numpy integers, never for ``bool``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """True for ``int``, ``float`` and numpy integers and floats, never for ``bool``."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_REAL_TEXT = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|nan)", re.I
)


def number_from_text(text: str, integer: bool) -> int | float:
    """The number written as ``text``: ``int`` or ``float``, ``ValueError`` if it is not one.

    Only what one types on a keyboard counts: ASCII digits with an optional sign (and for reals a
    point and an exponent; ``inf``/``nan`` are left for the caller's finiteness check). Python's
    ``int``/``float`` also take other scripts' digits (``'٨'`` is 8) and digit-group
    underscores (``'1_000'``); a command line that silently read those would not say what it ran.
    """
    stripped = text.strip()
    pattern = _INTEGER_TEXT if integer else _REAL_TEXT
    if not pattern.fullmatch(stripped):
        raise ValueError(f"{text!r} is not {'an integer' if integer else 'a number'}")
    return int(stripped) if integer else float(stripped)


def _format(number: float) -> str:
    """Bounds as people write them: 2, 0.5, 1e+12, 9223372036854775807 (integers exact)."""
    if isinstance(number, int) and not isinstance(number, bool):
        return str(number)
    return f"{number:g}"


class Constraint:
    """One rule for one setting; subclasses implement :meth:`check`, :meth:`parse` and
    :meth:`describe`."""

    def check(self, name: str, value: Any) -> Any:
        """``value`` (converted to its plain Python type) if allowed, else ``ValueError``."""
        raise NotImplementedError

    def parse(self, name: str, text: str) -> Any:
        """The value typed as ``text`` (a CLI option, a GUI field), checked; ``ValueError``."""
        raise NotImplementedError

    def describe(self) -> str:
        """What is allowed, as the end of a sentence: 'an integer ≥ 1', 'one of cd, pcd, pt'."""
        raise NotImplementedError

    def argparse_type(self, name: str):
        """An argparse ``type=`` callable: the parsed value, or ``ArgumentTypeError`` with the
        constraint's message (argparse prefixes it with the option's name)."""

        def parse(text: str) -> Any:
            try:
                return self.parse(name, text)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None

        parse.__name__ = name  # argparse names the type in its messages
        return parse


@dataclass(frozen=True)
class Interval(Constraint):
    """A number in an interval: ``integer`` or real, bounds ``low``/``high`` (None: unbounded),
    each closed unless ``low_open``/``high_open``; real values must also be finite. A refusal
    ends with ``reason`` in parentheses when one is given (why the bounds are there)."""

    integer: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    reason: str = ""

    def _refusal(self, name: str, shown: str) -> ValueError:
        why = f" ({self.reason})" if self.reason else ""
        return ValueError(f"{name} must be {self.describe()}, got {shown}{why}.")

    def _inside(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (
            self.high is not None and (value >= self.high if self.high_open else value > self.high)
        )

    def describe(self) -> str:
        what = "an integer" if self.integer else "a finite number"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '≥'} {_format(self.low)}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '≤'} {_format(self.high)}")
        if len(parts) == 2 and not self.low_open and not self.high_open:
            return f"{what} in [{_format(self.low)}, {_format(self.high)}]"  # type: ignore[arg-type]
        return f"{what} {' and '.join(parts)}".rstrip()

    def check(self, name: str, value: Any) -> Any:
        ok = is_integer(value) if self.integer else is_real(value)
        if ok:
            value = int(value) if self.integer else float(value)
            ok = (self.integer or math.isfinite(value)) and self._inside(value)
        if not ok:
            raise self._refusal(name, repr(value))
        return value

    def parse(self, name: str, text: str) -> Any:
        text = text.strip()
        try:
            value: Any = number_from_text(text, self.integer)
        except ValueError:
            raise self._refusal(name, f"'{text}'") from None
        return self.check(name, value)


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of words."""

    values: Sequence[str]

    def describe(self) -> str:
        return f"one of {', '.join(self.values)}"

    def check(self, name: str, value: Any) -> Any:
        if not isinstance(value, str) or value not in self.values:
            raise ValueError(f"{name} must be {self.describe()}, got {value!r}.")
        return value

    def parse(self, name: str, text: str) -> Any:
        return self.check(name, text.strip())


@dataclass(frozen=True)
class Flag(Constraint):
    """True or False (typed as true/false, yes/no, on/off, 1/0)."""

    def describe(self) -> str:
        return "true or false"

    def check(self, name: str, value: Any) -> Any:
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return bool(value)
        raise ValueError(f"{name} must be {self.describe()}, got {value!r}.")

    def parse(self, name: str, text: str) -> Any:
        word = text.strip().lower()
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
        raise ValueError(f"{name} must be {self.describe()}, got '{text}'.")


SEED = Interval(integer=True, low=0, high=2**63 - 1)
"""Seeds: every generator of the lab is seeded through numpy's SeedSequence or torch's
``manual_seed``, both of which take any integer in [0, 2⁶³ − 1]."""


def check_all(
    constraints: dict[str, Constraint], values: dict[str, Any], names: dict[str, str] | None = None
) -> dict[str, Any]:
    """Check every entry of ``values`` that has a constraint (in the table's order); returns the
    converted values. ``names`` gives the human name of a setting in messages (default: its
    key)."""
    names = names or {}
    out = dict(values)
    for key, constraint in constraints.items():
        if key in values:
            out[key] = constraint.check(names.get(key, key), values[key])
    return out

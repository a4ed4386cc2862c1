"""Settings tables: one row per user-facing setting, shared by the CLI's options and the GUI's
forms.

A feature lists its settings once, as :class:`Setting` rows (the key the engine knows it by, a
label, the constraint from the engine's own table, the default, a help text). From the same
rows

- :func:`add_options` declares the command-line options (``type=`` is the constraint's parser,
  so a bad value is one line and exit 2 before any work; ``--help`` shows every default), and
  :func:`option_values` reads them back;
- ``widgets.common.forms`` builds the dock's form (a spin box, a checked text field, a combo
  box or a check box per row, the constraint's message under a bad field).

So a rule such as "the learning rate is a finite number > 0" is written once, in the engine's
constraint table, and the engine, the CLI and the GUI all enforce that one object.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from engines.constraints import Constraint, Flag, Interval, Options

SPIN_LIMIT = 2**31 - 1
"""Qt spin boxes hold 32-bit integers: wider integer ranges get a checked text field."""


@dataclass(frozen=True)
class Setting:
    """One setting: ``key`` (the engine's name for it), ``label`` (the GUI's, and the name used
    in messages), ``constraint``, ``default``, the CLI ``option`` (default ``--<key>`` with
    dashes), ``help``, and the GUI ``widget`` object name ('' lets the form choose)."""

    key: str
    label: str
    constraint: Constraint
    default: Any
    option: str = ""
    help: str = ""
    widget: str = ""

    @property
    def flag(self) -> str:
        return self.option or "--" + self.key.replace("_", "-")

    @property
    def dest(self) -> str:
        return self.flag.removeprefix("--").replace("-", "_")

    # ------------------------------------------------------------------ for the GUI's forms
    @property
    def field_kind(self) -> str:
        """The field a form gives it: 'integer' (a spin box: an integer interval within
        ±SPIN_LIMIT), 'number' (a checked text field), 'choice' (a combo box) or 'flag'."""
        c = self.constraint
        if isinstance(c, Flag):
            return "flag"
        if isinstance(c, Options):
            return "choice"
        if isinstance(c, Interval) and c.integer and self.integer_range is not None:
            return "integer"
        return "number"

    @property
    def integer_range(self) -> tuple[int, int] | None:
        """(lowest, highest) allowed integer when both fit a spin box, else None."""
        c = self.constraint
        if not isinstance(c, Interval) or not c.integer:
            return None
        low = -SPIN_LIMIT if c.low is None else int(c.low) + (1 if c.low_open else 0)
        high = SPIN_LIMIT if c.high is None else int(c.high) - (1 if c.high_open else 0)
        if low < -SPIN_LIMIT or high > SPIN_LIMIT:
            return None
        return low, high

    @property
    def choices(self) -> tuple[str, ...]:
        """The allowed words of a 'choice' setting."""
        return tuple(self.constraint.values) if isinstance(self.constraint, Options) else ()

    def check(self, value: Any) -> Any:
        """The value converted and checked (ValueError naming the setting by its label)."""
        return self.constraint.check(self.label, value)

    def parse(self, text: str) -> Any:
        """The value typed as ``text``, checked (ValueError naming the setting by its label)."""
        return self.constraint.parse(self.label, text)

    def requirement(self) -> str:
        """What is allowed, e.g. 'a finite number > 0'."""
        return self.constraint.describe()


def add_options(
    parser: argparse.ArgumentParser,
    settings: Iterable[Setting],
    defaults: dict[str, Any] | None = None,
) -> None:
    """Declare one option per setting (flags as ``--name``, booleans as ``--name/--no-name``);
    ``defaults`` overrides a row's default by key. The help says what is allowed; the parser's
    formatter (``lab.cli.common.Parser``) adds the default."""
    defaults = defaults or {}
    for s in settings:
        default = defaults.get(s.key, s.default)
        text = f"{s.help or s.label}: {s.constraint.describe()}"
        if isinstance(s.constraint, Flag):
            parser.add_argument(
                s.flag,
                dest=s.dest,
                default=default,
                action=argparse.BooleanOptionalAction,
                help=text,
            )
        else:
            parser.add_argument(
                s.flag,
                dest=s.dest,
                default=default,
                type=s.constraint.argparse_type(s.label),
                help=text,
                metavar=s.dest.upper(),
            )


def option_values(args: argparse.Namespace, settings: Sequence[Setting]) -> dict[str, Any]:
    """The settings' values from parsed options, by key."""
    return {s.key: getattr(args, s.dest) for s in settings}

"""A sweep plan: a kind of work, its fixed options, a grid of swept options, and seeds.

A plan names one of the headless commands (:data:`COMMANDS`: ``simulate``, ``train``,
``evaluate``, ``geometry``, ``rg-flow``) and gives that command's own options, each either
fixed or swept over a list of values (rg-flow's ``temperatures`` is passed as written: it is
the list of one flow). The options are the command's: the sweep builds the command's real
parser (``lab.<feature>.cli``), and every point is the command line
``<command> <options of the point>`` parsed by that parser, so a value is checked by the very
type that checks it in the command (one clear line for a bad one), and a point's options are
exactly those the command would have received.

A swept option's values are written (on the command line, in a TOML file, in the GUI) as

- a list ``16,32`` (any value the option takes: ``metropolis,wolff``, ``ising-001,ising-002``);
- a range ``start:stop:count``: ``count`` evenly spaced values from ``start`` to ``stop``
  included (numpy's linspace, each rounded to 12 significant digits so that ``2.0:2.6:4`` gives
  2.2 and 2.4, the numbers one would type);
- for an option that takes several runs (``--data`` of ``train``), ``a+b`` pools two runs in
  one point, and ``a,b`` sweeps them.

The grid is the Cartesian product of the swept options in the order given (the first varies
slowest); options named in ``zip`` advance together instead (their lists have one length) and
form one more axis, after the others. Each grid point runs ``seeds`` times; replicate ``r`` of
grid point ``g`` gets the seed ``SeedSequence(seed, spawn_key=(g, r))`` (its first 32-bit word),
recorded with the point, so each point is reproducible alone with the command itself. A swept
``seed`` option gives the seeds explicitly instead.

The TOML form (``sweep S.h5 --plan plan.toml``)::

    kind = "simulate"
    seeds = 2            # runs per grid point (default 1)
    seed = 0             # base seed of the derived seeds (default 0)
    [fixed]
    samples = 2000
    algorithm = "wolff"
    [grid]               # crossed, in this order
    size = [16, 32]
    temperature = { start = 2.0, stop = 2.6, count = 4 }   # or "2.0:2.6:4"
    [zip]                # optional: advanced together (equal lengths)

Keys are the command's option names without dashes (``checkpoint-every`` or
``checkpoint_every``). A bad plan raises :class:`PlanError` (one sentence) before any work.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from lab.cli.common import CliError, Parser

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

MAX_POINTS = 100_000
"""More points than this is a mistake (a range's count typed with one zero too many)."""
SIGNIFICANT_DIGITS = 12
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*:\s*(\d+)\s*$")


class PlanError(ValueError):
    """A plan that cannot run: reported as one line (exit code 2), before any work."""


# ---------------------------------------------------------------------------- the commands
@dataclass(frozen=True)
class Command:
    """A command a sweep can run per point: its parser's module, how it is given the session
    (``session_option``: ``--out`` for simulate, '' for the positional ``path``), and the options
    that make no sense per point (the session, resuming, saving, the progress bar)."""

    name: str
    module: str
    excluded: frozenset[str]
    session_option: str = ""
    verbatim: frozenset[str] = frozenset()
    """Options whose text is the command's own list syntax (rg-flow's ``--temperatures
    1.5:3.5:11``: the temperatures of one flow): passed as written, never expanded into points.
    To sweep one, give a TOML list of such texts in [grid]."""


_COMMON_EXCLUDED = frozenset({"path", "out", "resume", "quiet", "save_seconds", "help"})
COMMANDS: dict[str, Command] = {
    "simulate": Command(
        "simulate", "lab.ising.cli", _COMMON_EXCLUDED | {"flush_seconds", "report_flushes"}, "--out"
    ),
    "train": Command("train", "lab.rbm.cli", _COMMON_EXCLUDED),
    "evaluate": Command("evaluate", "lab.rbm.cli", _COMMON_EXCLUDED),
    "geometry": Command("geometry", "lab.geometry.cli", _COMMON_EXCLUDED),
    "rg-flow": Command(
        "rg-flow", "lab.rg.cli", _COMMON_EXCLUDED, verbatim=frozenset({"temperatures"})
    ),
}
"""The kinds of work a sweep runs, by command name."""


@dataclass(frozen=True)
class Option:
    """One option of a command as a sweep sees it: ``dest``, its flag (``--size``), whether it
    takes a value (flags do not, and cannot be swept), whether it may be repeated (``--data``:
    '+' pools values in one point), its default and its help."""

    dest: str
    flag: str
    takes_value: bool
    repeated: bool
    default: Any
    help: str
    negatable: bool = False  # a --x/--no-x flag


@cache
def command_parser(name: str) -> argparse.ArgumentParser:
    """The real parser of the command ``name`` (built by its feature's ``cli`` module), whose
    errors raise :class:`lab.cli.common.CliError`."""
    command = _command(name)
    root = Parser(prog="monge-lab")
    sub = root.add_subparsers(dest="command", parser_class=Parser)
    importlib.import_module(command.module).add_parsers(sub)
    return sub.choices[name]


@cache
def command_options(name: str) -> dict[str, Option]:
    """The options of the command ``name`` a plan may set, by dest, in declaration order."""
    command = _command(name)
    out: dict[str, Option] = {}
    for action in command_parser(name)._actions:
        if not action.option_strings or action.dest in command.excluded:
            continue
        if isinstance(action, argparse._HelpAction):
            continue
        flag = (
            action.option_strings[0]
            if isinstance(action, argparse.BooleanOptionalAction)
            else max(action.option_strings, key=len)
        )
        out[action.dest] = Option(
            dest=action.dest,
            flag=flag,
            takes_value=action.nargs != 0,
            repeated=isinstance(action, argparse._AppendAction),
            default=action.default,
            help=action.help or flag.removeprefix("--"),
            negatable=isinstance(action, argparse.BooleanOptionalAction),
        )
    return out


def _command(name: str) -> Command:
    if name not in COMMANDS:
        raise PlanError(f"unknown kind '{name}' (a sweep runs one of {', '.join(COMMANDS)})")
    return COMMANDS[name]


def resolve_option(command: str, key: str) -> Option:
    """The option of ``command`` a plan names ``key`` (``temperature``, ``checkpoint-every``,
    ``checkpoint_every``, ``--size``); PlanError naming the command's options otherwise."""
    options = command_options(command)
    wanted = key.strip().removeprefix("--")
    for option in options.values():
        if wanted in (option.dest, option.flag.removeprefix("--")) or (
            wanted.replace("-", "_") == option.dest
        ):
            return option
    known = ", ".join(o.flag.removeprefix("--") for o in options.values())
    raise PlanError(f"{command} has no option '{key}' a sweep can set (options: {known})")


# ---------------------------------------------------------------------------- values
def number_text(value: float | int) -> str:
    """A number as a command line would give it: integers without a point, floats exactly."""
    if isinstance(value, bool):
        raise PlanError(f"{value} is not a number")
    if isinstance(value, int | np.integer):
        return str(int(value))
    value = float(value)
    if value.is_integer():  # exactly the double's integer, so that integer options parse it
        return str(int(value))
    return repr(value)


def expand_text(text: str, name: str = "value") -> list[str]:
    """The values written as ``text``: a comma-separated list whose items are values or ranges
    ``start:stop:count`` (PlanError for an empty list, an empty item such as the one in
    ``2,,3`` — a value left out, not a separator to skip — or a bad range)."""
    values: list[str] = []
    items = [item.strip() for item in str(text).split(",")]
    if all(not item for item in items):
        raise PlanError(f"{name}: no values given")
    if not all(items):
        raise PlanError(
            f"{name}: '{str(text).strip()}' has an empty item (two commas in a row, or one at "
            "an end): write every value"
        )
    for item in items:
        match = _RANGE.match(item)
        if match:
            values.extend(range_values(float(match[1]), float(match[2]), int(match[3]), name))
        elif item.count(":") == 2 and all(_is_number(p) for p in item.split(":")[:2]):
            raise PlanError(
                f"{name}: '{item}' is not a range start:stop:count (count an integer ≥ 1)"
            )
        else:
            values.append(item)
    return values


def _is_number(text: str) -> bool:
    return re.fullmatch(_NUMBER, text.strip()) is not None


def range_values(start: float, stop: float, count: int, name: str = "value") -> list[str]:
    """``count`` evenly spaced values from ``start`` to ``stop``, each rounded to
    :data:`SIGNIFICANT_DIGITS` significant digits, as text."""
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise PlanError(f"{name}: a range needs finite ends, got {start}:{stop}")
    if count < 1:
        raise PlanError(
            f"{name}: the range {start:g}:{stop:g}:{count} has no values (count must be ≥ 1)"
        )
    if count > MAX_POINTS:
        raise PlanError(
            f"{name}: a range of {count} values is more than a sweep runs ({MAX_POINTS})"
        )
    return [
        number_text(float(f"{v:.{SIGNIFICANT_DIGITS}g}")) for v in np.linspace(start, stop, count)
    ]


def toml_values(value: Any, name: str) -> list[str]:
    """The values of one option as a TOML plan gives them: a list, a table ``{start, stop,
    count}``, a string (a list or range as on the command line), or one number."""
    if isinstance(value, dict):
        missing = {"start", "stop", "count"} - set(value)
        extra = set(value) - {"start", "stop", "count"}
        if missing or extra:
            raise PlanError(
                f"{name}: a range is {{ start = …, stop = …, count = … }}, got "
                f"{json.dumps(value, default=str)}"
            )
        try:
            return range_values(
                float(value["start"]), float(value["stop"]), _integer(value["count"], name), name
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, PlanError):
                raise
            raise PlanError(f"{name}: a range needs numbers, got {value}") from None
    if isinstance(value, list):
        if not value:
            raise PlanError(f"{name}: the list of values is empty")
        return [_scalar_text(v, name) for v in value]
    if isinstance(value, str):
        return expand_text(value, name)
    return [_scalar_text(value, name)]


def verbatim_values(value: Any, name: str) -> list[str]:
    """The values of an option passed as written (:attr:`Command.verbatim`): one text, or a
    TOML list of texts (each one value; commas and colons are the command's own syntax)."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise PlanError(f"{name}: the list of values is empty")
    texts = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise PlanError(f"{name}: {item!r} is not a value")
        text = number_text(item) if not isinstance(item, str) else item.strip()
        if not text:
            raise PlanError(f"{name}: empty value")
        texts.append(text)
    return texts


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlanError(f"{name}: a range's count must be an integer, got {value!r}")
    return value


def _scalar_text(value: Any, name: str) -> str:
    if isinstance(value, bool):
        raise PlanError(
            f"{name}: {value} is not a value of an option (flags are fixed: true/false in [fixed])"
        )
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, str):
        if not value.strip():
            raise PlanError(f"{name}: empty value")
        return value.strip()
    if isinstance(value, list):
        return "+".join(_scalar_text(v, name) for v in value)
    raise PlanError(f"{name}: {value!r} is not a value")


# ---------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Point:
    """One point of a sweep: its place (``index`` in the sweep, ``grid_index`` and
    ``replicate``), the values of the swept options (by dest, as text), its seed, and the
    command line of the point (the command's options, without the session)."""

    index: int
    grid_index: int
    replicate: int
    values: dict[str, str]
    seed: int
    argv: tuple[str, ...]


@dataclass(frozen=True)
class SweepPlan:
    """A validated plan (module docstring). ``fixed`` and the axes' values are the options'
    texts, by dest; ``grid`` holds the crossed axes in order, ``zipped`` those advanced
    together. ``flags`` are the options without value that are set (``--no-spins``)."""

    command: str
    fixed: dict[str, str] = field(default_factory=dict)
    grid: tuple[tuple[str, tuple[str, ...]], ...] = ()
    zipped: tuple[tuple[str, tuple[str, ...]], ...] = ()
    flags: dict[str, bool] = field(default_factory=dict)
    seeds: int = 1
    seed: int = 0

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        command: str,
        fixed: Mapping[str, Any],
        grid: Sequence[tuple[str, Any]],
        zipped: Sequence[tuple[str, Any]] = (),
        seeds: int = 1,
        seed: int = 0,
        from_text: bool = True,
    ) -> SweepPlan:
        """A plan from option names and values: texts as on the command line
        (``from_text``) or TOML values; PlanError for anything wrong."""
        verbatim = _command(command).verbatim
        expand = (
            toml_values
            if not from_text
            else (lambda v, n: expand_text(v, n) if isinstance(v, str) else toml_values(v, n))
        )

        def values(value: Any, name: str, dest: str) -> list[str]:
            return verbatim_values(value, name) if dest in verbatim else expand(value, name)

        seen: dict[str, str] = {}
        fixed_texts: dict[str, str] = {}
        flags: dict[str, bool] = {}

        def claim(key: str) -> Option:
            option = resolve_option(command, key)
            if option.dest in seen:
                raise PlanError(
                    f"{option.flag.removeprefix('--')} is given twice "
                    f"(in {seen[option.dest]} and again)"
                )
            return option

        for key, value in fixed.items():
            option = claim(key)
            seen[option.dest] = "fixed"
            if not option.takes_value:
                if not isinstance(value, bool):
                    raise PlanError(
                        f"{option.flag.removeprefix('--')} is a flag: true or false, got {value!r}"
                    )
                flags[option.dest] = value
                continue
            texts = values(value, option.flag.removeprefix("--"), option.dest)
            if len(texts) != 1:
                raise PlanError(
                    f"{option.flag.removeprefix('--')}: a fixed option has one "
                    f"value, got {len(texts)} (put it in the grid to sweep it)"
                )
            fixed_texts[option.dest] = texts[0]

        def axes(items: Sequence[tuple[str, Any]], where: str):
            out = []
            for key, value in items:
                option = claim(key)
                seen[option.dest] = where
                if not option.takes_value:
                    raise PlanError(
                        f"{option.flag.removeprefix('--')} is a flag and cannot be swept"
                    )
                texts = values(value, option.flag.removeprefix("--"), option.dest)
                out.append((option.dest, tuple(texts)))
            return tuple(out)

        crossed = axes(grid, "the grid")
        together = axes(zipped, "zip")
        if together and len({len(v) for _, v in together}) != 1:
            lengths = ", ".join(f"{d} has {len(v)}" for d, v in together)
            raise PlanError(f"zipped options need lists of one length ({lengths})")
        if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
            raise PlanError(f"seeds (runs per grid point) must be an integer ≥ 1, got {seeds!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
            raise PlanError(f"seed (the base seed) must be an integer in [0, 2⁶³), got {seed!r}")
        if "seed" in seen and seen["seed"] != "fixed" and seeds != 1:
            raise PlanError("a swept seed gives the seeds itself: leave seeds at 1")
        if "seed" in fixed_texts:
            raise PlanError(
                "the seed of a sweep is its base seed (seed = …, or --seed at the "
                "top); each point's seed is derived from it"
            )
        plan = cls(command, fixed_texts, crossed, together, flags, seeds, seed)
        if not crossed and not together and seeds == 1:
            raise PlanError(
                "the grid is empty: sweep at least one option (a list a,b or a "
                "range start:stop:count) or ask for --seeds N > 1"
            )
        count = plan.n_points
        if count > MAX_POINTS:
            raise PlanError(f"the grid has {count} points, more than a sweep runs ({MAX_POINTS})")
        return plan

    @classmethod
    def from_toml(cls, path: str | Path) -> SweepPlan:
        """The plan of a TOML file (module docstring); PlanError naming the file otherwise."""
        if Path(path).exists() and not Path(path).is_file():  # a FIFO would block, a folder fails
            raise PlanError(f"the plan {path} is not a regular file")
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PlanError(f"cannot read the plan {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise PlanError(f"the plan {path} is not UTF-8 text (TOML)") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise PlanError(f"{path} is not valid TOML ({exc})") from None
        return cls.from_mapping(data, str(path))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "the plan") -> SweepPlan:
        """The plan of a parsed TOML document or of :meth:`to_mapping`'s dictionary."""
        known = {"kind", "fixed", "grid", "zip", "seeds", "seed"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PlanError(
                f"{source}: unknown key '{unknown[0]}' (a plan has {', '.join(sorted(known))})"
            )
        if "kind" not in data:
            raise PlanError(f"{source}: no kind (kind = one of {', '.join(COMMANDS)})")
        kind = data["kind"]
        if not isinstance(kind, str):
            raise PlanError(f"{source}: kind must be text, got {kind!r}")
        tables = {}
        for name in ("fixed", "grid", "zip"):
            table = data.get(name, {})
            if not isinstance(table, dict):
                raise PlanError(f"{source}: [{name}] must be a table of options")
            tables[name] = table
        try:
            return cls.build(
                kind,
                tables["fixed"],
                list(tables["grid"].items()),
                list(tables["zip"].items()),
                data.get("seeds", 1),
                data.get("seed", 0),
                from_text=False,
            )
        except PlanError as exc:
            raise PlanError(f"{source}: {exc}") from None

    def to_mapping(self) -> dict[str, Any]:
        """The plan as a TOML-shaped dictionary (values as the options' texts), recorded as
        JSON in the sweep's run; :meth:`from_mapping` reads it back."""
        fixed: dict[str, Any] = dict(self.fixed)
        fixed.update(self.flags)
        return {
            "kind": self.command,
            "seeds": self.seeds,
            "seed": self.seed,
            "fixed": fixed,
            "grid": {d: list(v) for d, v in self.grid},
            "zip": {d: list(v) for d, v in self.zipped},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_mapping())

    @classmethod
    def from_json(cls, text: str) -> SweepPlan:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PlanError(f"the recorded plan is not valid JSON ({exc})") from None
        return cls.from_mapping(data, "the recorded plan")

    # ------------------------------------------------------------------ points
    @property
    def axes(self) -> tuple[str, ...]:
        """The dests of the swept options, crossed ones first, then zipped ones."""
        return tuple(d for d, _ in self.grid) + tuple(d for d, _ in self.zipped)

    @property
    def n_grid(self) -> int:
        n = math.prod(len(v) for _, v in self.grid)
        return n * (len(self.zipped[0][1]) if self.zipped else 1)

    @property
    def n_points(self) -> int:
        return self.n_grid * self.seeds

    def combinations(self) -> Iterable[dict[str, str]]:
        """The grid points' swept values, in grid order."""
        crossed = [[(d, v) for v in values] for d, values in self.grid]
        rows = (
            [[(d, values[i]) for d, values in self.zipped] for i in range(len(self.zipped[0][1]))]
            if self.zipped
            else [[]]
        )
        for combo in itertools.product(*crossed, rows):
            values: dict[str, str] = {}
            for part in combo:
                if isinstance(part, list):
                    values.update(part)
                else:
                    values[part[0]] = part[1]
            yield values

    def points(self) -> list[Point]:
        """Every point, in order: grid points (the first axis slowest), each ``seeds`` times."""
        out = []
        for g, values in enumerate(self.combinations()):
            for r in range(self.seeds):
                seed = int(values["seed"]) if "seed" in values else derived_seed(self.seed, g, r)
                out.append(Point(len(out), g, r, values, seed, self.argv(values, seed)))
        return out

    def argv(self, values: Mapping[str, str], seed: int) -> tuple[str, ...]:
        """The command's options for a point (fixed ones, then swept ones, then the seed)."""
        options = command_options(self.command)
        argv: list[str] = []
        for dest, text in [*self.fixed.items(), *values.items()]:
            if dest == "seed":
                continue
            option = options[dest]
            parts = text.split("+") if option.repeated else [text]
            for part in parts:
                argv += [option.flag, part]
        for dest, on in self.flags.items():
            option = options[dest]
            if on:
                argv.append(option.flag)
            elif option.flag.startswith("--") and f"--no-{option.flag[2:]}" in _flags(self.command):
                argv.append(f"--no-{option.flag[2:]}")
        argv += [options["seed"].flag, str(seed)]
        return tuple(argv)

    def namespace(self, point: Point, session: str) -> argparse.Namespace:
        """The options the command receives for ``point`` (its real parser on
        :attr:`Point.argv`, the session ``session``); PlanError naming the point otherwise."""
        command = COMMANDS[self.command]
        head = [command.session_option, session] if command.session_option else [session]
        try:
            return command_parser(self.command).parse_args([*head, *point.argv])
        except CliError as exc:
            raise PlanError(f"{self.describe(point)}: {exc}") from None

    def describe(self, point: Point) -> str:
        """'point 3 (size=16, temperature=2.2, seed 1234)'."""
        shown = ", ".join(f"{d}={v}" for d, v in point.values.items() if d != "seed")
        return f"point {point.index + 1} ({shown + ', ' if shown else ''}seed {point.seed})"


@cache
def _flags(command: str) -> frozenset[str]:
    return frozenset(s for a in command_parser(command)._actions for s in a.option_strings)


def derived_seed(base: int, grid_index: int, replicate: int) -> int:
    """The seed of replicate ``replicate`` of grid point ``grid_index``: the first 32-bit word
    of ``SeedSequence(base, spawn_key=(grid_index, replicate))`` (independent streams; adding
    replicates or points at the end keeps the earlier seeds)."""
    sequence = np.random.SeedSequence(base, spawn_key=(grid_index, replicate))
    return int(sequence.generate_state(1, np.uint32)[0])

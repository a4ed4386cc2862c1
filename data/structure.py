"""What the datasets of each run kind look like: a table of dtypes and shapes, and its check.

Why: the format rules of :mod:`data.schema` accept any numeric array under any name, so a file
edited by another tool (or damaged in a way its checksums cannot see) could hold an Ising run
whose ``samples`` are float32, ten energies beside 200 configurations, or an RBM whose ``W`` is
(10, 6) beside a ``b`` of 64 hidden biases. Code reading such a run would fail far from the
cause, with a traceback. :func:`check_structure` refuses it where it is read (and before it is
written) with one ValueError naming the run and the dataset.

:data:`RUN_KINDS` maps a run kind to :class:`KindRules`: for each dataset name the lab writes,
the dtype it must have and its shape as a list of axes (:class:`Rule`). An axis is

- a *symbol* (``N``, ``L``, ``C``, …): every axis with the same symbol in the run has the same
  length, the first dataset (or parameter, see ``params``) met fixing it;
- an integer: exactly that length;
- ``*``: any length;
- ``@X``: the axes of the run's dataset ``X`` (``checkpoints/W`` is ``C @W``: one ``W`` per
  checkpoint); when the run has no ``X``, any axes.

A name may contain a placeholder in angle brackets (``level_<k>/samples``,
``history/<metric>``) matching one path component (``<k>``: digits); a symbol written with the
same placeholder (``L<k>``) is one symbol per value (``L1``, ``L2``, …). Datasets of a kind not
in the table, kinds not in the table, and datasets the rules do not name are not checked; no
dataset is required (a run may be saved before it has recorded anything). Values are not
looked at, only dtypes and shapes (whether spins are ±1 decides how they are stored, not
whether they are valid).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

SPINS = "int8"
"""Dtype class of spin configurations: exactly int8 (values ±1 by convention)."""
REAL = "real"
"""Dtype class of measured numbers: any integer or floating type (not bool, not complex)."""
INTEGER = "integer"
"""Dtype class of counters and epochs: any signed or unsigned integer type."""

DTYPE_KINDS = {SPINS: None, REAL: "iuf", INTEGER: "iu"}
"""numpy dtype kinds of each class (None: the exact dtype int8)."""
DTYPE_TEXT = {
    SPINS: "int8 spins (±1)",
    REAL: "an integer or float type",
    INTEGER: "an integer type",
}

PLACEHOLDER = re.compile(r"<([a-z]+)>")
"""``<k>``, ``<metric>``: one path component of a dataset name."""


@dataclass(frozen=True)
class Rule:
    """The dtype class and the axes (see the module docstring) of one dataset."""

    dtype: str
    axes: str

    def __post_init__(self) -> None:
        if self.dtype not in DTYPE_KINDS:
            raise ValueError(f"unknown dtype class {self.dtype!r}")


@dataclass(frozen=True)
class KindRules:
    """The rules of one run kind: ``datasets`` maps names (maybe with placeholders) to rules;
    ``params`` maps a symbol to the integer parameter that fixes it (``{"L": "size"}``)."""

    datasets: dict[str, Rule]
    params: dict[str, str] = field(default_factory=dict)


def _same(names: tuple[str, ...], rule: Rule) -> dict[str, Rule]:
    return dict.fromkeys(names, rule)


def _with_errors(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n for name in names for n in (name, f"{name}_error"))


_RG_CURVES = (
    *_with_errors(("e", "abs_m", "binder", "effective_temperature", "binder_temperature")),
    "size",
    "block_share",
)
_GEOMETRY_PER_CHECKPOINT = (
    "condition",
    "monge_ampere_residual",
    "gaussian_ot_residual",
    "gaussian_w2",
    "wasserstein_to_data",
    "energy_w1",
    "magnetization_w1",
    "entropy",
    "relative_entropy_to_data",
    "distance/<metric>",
    "speed/<metric>",
    "path_length/<metric>",
    "line_shape/<metric>",
)

_SCORES_PER_MAP = (
    "ots",
    "ots_error",
    "ots_low",
    "ots_high",
    "map_cost",
    "map_cost_error",
    "ot_cost",
    "ot_lower",
    "ot_upper",
    "agreement",
    "plan_entropy",
    "w_steps",
    "w_steps_lower",
    "w_steps_upper",
    "w_from_start",
    "w_from_start_lower",
    "w_from_start_upper",
    "running",
)
_SCORES_PER_GROUP = (
    "temperature",
    "ots_total",
    "ots_total_error",
    "ots_total_low",
    "ots_total_high",
    "lss",
    "lss_error",
    "lss_median",
    "lss_pooled",
    "line_shape",
    "line_shape_low",
    "line_shape_high",
)

RUN_KINDS: dict[str, KindRules] = {
    # N samples of an L×L lattice; R distances of the correlation function.
    "ising": KindRules(
        datasets={
            "samples": Rule(SPINS, "N L L"),
            "energy": Rule(REAL, "N"),
            "magnetization": Rule(REAL, "N"),
            "sweep": Rule(INTEGER, "N"),
            **_same(("correlation/r", "correlation/C", "correlation/error"), Rule(REAL, "R")),
            "resume/spins": Rule(SPINS, "L L"),
        },
        params={"L": "size"},
    ),
    # T temperatures of a scan.
    "ising-scan": KindRules(
        datasets=_same(
            ("temperature", *_with_errors(("e", "abs_m", "c", "chi", "binder"))), Rule(REAL, "T")
        ),
    ),
    # n visible and m hidden units; C checkpoints.
    "rbm": KindRules(
        datasets={
            "W": Rule(REAL, "n m"),
            "a": Rule(REAL, "n"),
            "b": Rule(REAL, "m"),
            "checkpoints/epoch": Rule(INTEGER, "C"),
            "checkpoints/W": Rule(REAL, "C @W"),
            "checkpoints/a": Rule(REAL, "C @a"),
            "checkpoints/b": Rule(REAL, "C @b"),
            "history/<metric>": Rule(REAL, "*"),
        },
    ),
    # N samples of an L×L lattice drawn from an RBM.
    "rbm-samples": KindRules(
        datasets={
            "samples": Rule(SPINS, "N L L"),
            "energy": Rule(REAL, "N"),
            "magnetization": Rule(REAL, "N"),
        },
        params={"L": "size"},
    ),
    # N configurations at every level k, of L<k>×L<k> spins; R<k> distances; K levels;
    # U hidden units of the first RBM (rule rbm), M<k> units of level k.
    "rg": KindRules(
        datasets={
            "level_<k>/samples": Rule(SPINS, "N L<k> L<k>"),
            **_same(("level_<k>/r", "level_<k>/C", "level_<k>/C_error"), Rule(REAL, "R<k>")),
            "level_<k>/block_share": Rule(REAL, "M<k>"),
            **_same(_RG_CURVES, Rule(REAL, "K")),
            **_same(("locality/centre", "locality/best_block"), Rule(REAL, "U 2")),
            **_same(("locality/block_share", "locality/spread"), Rule(REAL, "U")),
        },
    ),
    # T temperatures, K levels (or steps).
    "rg-flow": KindRules(
        datasets={
            "temperature": Rule(REAL, "T"),
            **_same(
                _with_errors(("effective_temperature", "binder_temperature")), Rule(REAL, "T K")
            ),
        },
    ),
    # C checkpoints of an RBM with n = L² visible and m hidden units; P plan samples.
    "geometry": KindRules(
        datasets={
            **_same(("epoch", "rank", "n_outliers"), Rule(INTEGER, "C")),
            **_same(_GEOMETRY_PER_CHECKPOINT, Rule(REAL, "C")),
            "spectrum": Rule(REAL, "C m"),
            "mp_law": Rule(REAL, "3"),
            "mp_fit": Rule(REAL, "C *"),
            "eigenvectors": Rule(REAL, "C * L L"),
            "modular_spectrum": Rule(REAL, "C n"),
            "bloch": Rule(REAL, "* 2"),
            **_same(("data_covariance", "model_covariance"), Rule(REAL, "n n")),
            "data_spectrum": Rule(REAL, "n"),
            "ot_plan": Rule(REAL, "P P"),
        },
        params={"L": "size", "n": "n_visible", "m": "n_hidden"},
    ),
    # Wasserstein scores: G groups (temperatures), V levels or checkpoints, K = V − 1 maps or
    # steps, N samples per level, S tracks kept, L×L lattice.
    "scores": KindRules(
        datasets={
            **_same(_SCORES_PER_MAP, Rule(REAL, "G K")),
            "ots_ci": Rule(REAL, "G K 2"),
            **_same(_SCORES_PER_GROUP, Rule(REAL, "G")),
            **_same(("lss_valid", "lss_closed", "lss_static"), Rule(INTEGER, "G")),
            "lss_per_track": Rule(REAL, "G N"),
            "step_lengths": Rule(REAL, "G K N"),
            "partner": Rule(INTEGER, "G K N"),
            "sample_index": Rule(INTEGER, "G N"),
            **_same(("sizes", "epoch"), Rule(INTEGER, "V")),
            "track_images": Rule(REAL, "G V S L L"),
            "partner_images": Rule(REAL, "G K S L L"),
            **_same(("to_data", "to_data_lower", "to_data_upper"), Rule(REAL, "V")),
            "data_index": Rule(INTEGER, "N"),
            **_same(("sample_images", "data_partner_images"), Rule(SPINS, "V S L L")),
        },
        params={"L": "size", "N": "n_samples"},
    ),
}
"""The dataset rules of each run kind (see the module docstring and docs/session-format.md)."""


def check_structure(kind: str, run_id: str, params: dict, datasets: dict) -> None:
    """ValueError, naming the run and the dataset, unless the datasets of a run of ``kind``
    have the dtypes and shapes of :data:`RUN_KINDS` (runs of other kinds always pass)."""
    rules = RUN_KINDS.get(kind)
    if rules is None:
        return
    where = f"run {run_id} (kind {kind})"
    fixed: dict[str, tuple[int, str]] = {}  # symbol -> (length, where that length comes from)
    for symbol, param in rules.params.items():
        value = params.get(param)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            fixed[symbol] = (value, f"parameter {param!r} = {value}")
    for name, array in datasets.items():
        found = _rule_for(rules, name)
        if found is None or not isinstance(array, np.ndarray):
            continue
        rule, values = found
        _check_dtype(where, name, array, rule)
        axes, origin = _axes(rule.axes, values, datasets)
        expected = "(" + ", ".join(axes) + ("," if len(axes) == 1 else "") + ")" + origin
        open_ended = axes[-1:] == ["..."]  # "@X" of a missing X: any further axes
        if array.ndim < len(axes) - open_ended or (not open_ended and array.ndim != len(axes)):
            raise ValueError(
                f"{where}: dataset {name!r} has shape {array.shape}, expected {expected}"
            )
        for axis, token in enumerate(axes):
            if token in ("*", "..."):
                continue
            length = array.shape[axis]
            if token.isdigit():
                if length != int(token):
                    raise ValueError(
                        f"{where}: dataset {name!r} has shape {array.shape}, expected {expected}"
                    )
                continue
            if token not in fixed:
                fixed[token] = (length, f"dataset {name!r} {array.shape}")
            elif fixed[token][0] != length:
                size, origin = fixed[token]
                raise ValueError(
                    f"{where}: dataset {name!r} has shape {array.shape}, expected "
                    f"{expected} with {token} = {size} as in {origin}"
                )


def _rule_for(rules: KindRules, name: str) -> tuple[Rule, dict[str, str]] | None:
    """The rule naming dataset ``name`` and the values of its placeholders, or None."""
    rule = rules.datasets.get(name)
    if rule is not None:
        return rule, {}
    for pattern, rule in rules.datasets.items():
        if "<" not in pattern:
            continue
        match = _pattern(pattern).fullmatch(name)
        if match is not None:
            return rule, match.groupdict()
    return None


def _pattern(pattern: str) -> re.Pattern:
    parts = PLACEHOLDER.split(pattern)  # text, name, text, name, …, text
    regex = ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex += re.escape(part)
        else:
            regex += f"(?P<{part}>[0-9]+)" if part == "k" else f"(?P<{part}>[A-Za-z0-9_.-]+)"
    return re.compile(regex)


def _check_dtype(where: str, name: str, array: np.ndarray, rule: Rule) -> None:
    kinds = DTYPE_KINDS[rule.dtype]
    ok = array.dtype == np.int8 if kinds is None else array.dtype.kind in kinds
    if not ok:
        raise ValueError(
            f"{where}: dataset {name!r} has dtype {array.dtype}, expected {DTYPE_TEXT[rule.dtype]}"
        )


def _axes(spec: str, values: dict[str, str], datasets: dict) -> tuple[list[str], str]:
    """The axis tokens of ``spec`` with placeholders filled in and ``@X`` expanded to the
    lengths of dataset ``X`` (``...``, any axes, when the run has no ``X``), and a note naming
    ``X`` for messages (empty without ``@X``)."""
    out: list[str] = []
    note = ""
    for token in spec.split():
        for key, value in values.items():
            token = token.replace(f"<{key}>", value)
        if token.startswith("@"):
            other = datasets.get(token[1:])
            if isinstance(other, np.ndarray):
                out.extend(str(n) for n in other.shape)
                note = f" after dataset {token[1:]!r} {other.shape}"
            else:
                out.append("...")
        else:
            out.append(token)
    return out, note

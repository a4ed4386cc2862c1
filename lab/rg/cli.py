"""Headless RG commands: ``coarse-grain`` one Ising run, ``train-stack`` RBMs, run an ``rg-flow``.

- ``coarse-grain S.h5 --data RUN --rule majority|decimation|rbm [--rbm RUN [--rbm RUN …]]
  [--block 2] [--levels 2] [--min-share 0.5] [--seed 0]`` adds an ``rg`` run
  (``lab.rg.runs``); with ``rbm`` one level per RBM of the stack, level 1 first.
- ``train-stack S.h5 --data RUN [--data RUN …] --hidden 400,100 [--block 2] [--epochs E]
  [--batch B] [--lr LR] [--block-init 1] [--min-share 0.5] [--seed 0]`` trains stacked RBMs
  greedily (``engines.rg.stack``) and adds one ``rbm`` run per level (param ``stack_level``;
  level 1 is trained on the Ising runs, level k ≥ 2 on the hidden lattices of level k − 1,
  stored as ``level_<k−1>/samples`` of the ``rg`` runs named by its param ``stack_data``; its
  input is the previous level's RBM) and one ``rg`` run per data run with the stack's levels.
- ``rg-flow S.h5 --rule majority|decimation|rbm|rbm-flow --temperatures 1.5:3.5:11 --size 32
  [--block 2] [--levels 2] [--samples 1000] [--seed 0] [--rbm RUN …] [--epochs 30]
  [--hidden M] [--steps 5]`` simulates every temperature (Wolff), coarse-grains it, and adds all
  those runs plus one ``rg-flow`` run whose datasets ``temperature`` (n,),
  ``effective_temperature`` and ``binder_temperature`` (n, levels) with their ``*_error`` are the
  flow T → T′ of each level. With ``rbm`` the levels are those of a stack of RBMs (``--rbm``
  runs, or one stack of ``--levels`` RBMs trained on all the temperatures pooled, recorded);
  with ``rbm-flow`` the levels are the ``--steps`` steps v → h → v′ of one RBM (``--rbm``, or
  one with ``--hidden`` units, default L²/4, trained on the pooled temperatures), the flow of
  Iso, Shiba & Yokoo. Ctrl-C keeps what is done (status 'stopped'). rg-flow holds the
  session's lock throughout and records as it goes: each temperature's runs are added once it is
  done, with the ``rg-flow`` run of the rows so far (status 'interrupted' until the end), so a
  kill at any instant loses at most the temperature in progress. Refused before any
  simulation (exit 2): a coarsest lattice L/b^levels below 2×2, more than
  ``MAX_FLOW_TEMPERATURES`` or repeated temperatures, fewer than 2 samples, more than
  ``MAX_FLOW_STEPS`` steps, more than ``MAX_FLOW_UPDATES`` spin updates in all, or runs that
  would not fit the memory or the disk.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

from engines.ising import ALGORITHMS
from engines.rbm import RBMConfig
from engines.rg import MIN_BLOCK_SHARE
from lab.cli.common import (
    command,
    finite_float,
    fraction,
    integer,
)
from lab.rbm.cli import add_trainer_options

FLOW_RULES = ("majority", "decimation", "rbm", "rbm-flow")
DEFAULT_LEVELS = 2
FLOW_EPOCHS = 30  # RBMs trained by rg-flow (the RBMConfig default, 100, is slow at L ≥ 16)
FLOW_STEPS = 5
MAX_FLOW_TEMPERATURES = 1000
"""More temperatures than this in one rg-flow is a mistake (a count typed with too many zeros);
each one is a whole simulation."""
MAX_FLOW_STEPS = 1000
"""The most v → h → v′ steps of an rbm-flow (each step keeps a full lattice per sample)."""
MAX_FLOW_UPDATES = 10**13
"""The most spin updates one rg-flow may ask for: temperatures × (thermalize + samples ×
interval) sweeps × L². About four days at the 3·10⁷ Wolff updates a second of a 2-core machine
(a flow of 21 temperatures at L = 512 with 10 000 samples 10 sweeps apart is 6·10¹¹): more is a
count typed with too many zeros."""


STACK_DEFAULTS = RBMConfig()
"""The trainer's defaults for stacks and the RG example (RBMConfig's: CD-1, momentum SGD)."""


def _training_options(parser: argparse.ArgumentParser, defaults: RBMConfig) -> None:
    """Every trainer option (:func:`lab.rbm.cli.add_trainer_options`, PT replicas as
    ``--replicas``) but the hidden units, which are per level, and the stack's own."""
    add_trainer_options(parser, defaults, hidden=False, replicas="--replicas")
    parser.add_argument(
        "--block-init",
        type=finite_float,
        default=1.0,
        help="initial weight of each hidden unit on its block (0: random)",
    )
    parser.add_argument(
        "--min-share",
        type=fraction,
        default=MIN_BLOCK_SHARE,
        help="lowest mean share of a unit's squared weight on its block",
    )


def add_parsers(sub: argparse._SubParsersAction) -> None:
    cg = sub.add_parser("coarse-grain", help="block-spin or RBM coarse-graining of an Ising run")
    cg.add_argument("path", help="session file")
    cg.add_argument("--data", required=True, metavar="RUN", help="an Ising run id")
    cg.add_argument("--rule", default="majority", help="majority | decimation | rbm")
    cg.add_argument(
        "--rbm",
        metavar="RUN",
        action="append",
        default=[],
        help="an RBM run (for --rule rbm; repeat for a stack, level 1 first)",
    )
    cg.add_argument("--block", type=integer, default=2, help="block size b")
    cg.add_argument(
        "--levels", type=integer, help="coarse-graining steps (default 2, or one per --rbm)"
    )
    cg.add_argument(
        "--min-share",
        type=fraction,
        default=MIN_BLOCK_SHARE,
        help="rbm: lowest mean share of a unit's squared weight on its block",
    )
    cg.add_argument("--seed", type=integer, default=0, help="tie-breaks and hidden samples")
    cg.set_defaults(func=command("lab.rg.commands:coarse_grain_command"))

    stack = sub.add_parser("train-stack", help="train stacked RBMs greedily, level by level")
    stack.add_argument("path", help="session file")
    stack.add_argument(
        "--data",
        required=True,
        metavar="RUN",
        action="append",
        help="an Ising run id (repeat to pool several)",
    )
    stack.add_argument(
        "--hidden", required=True, help="hidden units per level, e.g. 400,100 (each (L_k/b)²)"
    )
    stack.add_argument("--block", type=integer, default=2, help="block size b")
    _training_options(stack, STACK_DEFAULTS)
    stack.add_argument("--seed", type=integer, default=0, help="seed of every level's training")
    stack.add_argument("--quiet", action="store_true", help="no progress bar")
    stack.set_defaults(func=command("lab.rg.commands:train_stack_command"))

    flow = sub.add_parser("rg-flow", help="simulate temperatures, follow their RG flow")
    flow.add_argument("path", help="session file (created or extended)")
    flow.add_argument("--rule", default="majority", help=" | ".join(FLOW_RULES))
    flow.add_argument(
        "--temperatures",
        required=True,
        help=f"'start:stop:count' or 'T1, T2, …' (distinct, at most {MAX_FLOW_TEMPERATURES})",
    )
    flow.add_argument("--size", type=integer, required=True, help="L of the simulated lattices")
    flow.add_argument("--block", type=integer, default=2, help="block size b")
    flow.add_argument("--levels", type=integer, help=f"default {DEFAULT_LEVELS}, or one per --rbm")
    flow.add_argument(
        "--samples",
        type=integer,
        default=1000,
        help=f"configurations per T (≥ 2; at most {MAX_FLOW_UPDATES:.0e} spin updates in all)",
    )
    flow.add_argument(
        "--thermalize", type=integer, default=500, help="sweeps before the first sample"
    )
    flow.add_argument("--interval", type=integer, default=2, help="sweeps between samples")
    flow.add_argument("--algorithm", default="wolff", help="|".join(ALGORITHMS))
    flow.add_argument(
        "--rbm",
        metavar="RUN",
        action="append",
        default=[],
        help="rbm, rbm-flow: an RBM run of the session (else one is trained)",
    )
    flow.add_argument("--hidden", type=integer, help="rbm-flow: hidden units (default L²/4)")
    flow.add_argument(
        "--steps",
        type=integer,
        default=FLOW_STEPS,
        help=f"rbm-flow: v → h → v′ steps (1 to {MAX_FLOW_STEPS})",
    )
    _training_options(flow, replace(STACK_DEFAULTS, epochs=FLOW_EPOCHS))
    flow.add_argument(
        "--seed",
        type=integer,
        default=0,
        help="seed of the simulations, training and hidden samples",
    )
    flow.add_argument("--quiet", action="store_true", help="no progress bar")
    flow.set_defaults(func=command("lab.rg.commands:rg_flow_command"))

    example = sub.add_parser("rg-example", help="the paper's §4.1: L = 4, four hidden units")
    example.add_argument("path", help="session file (created or extended)")
    example.add_argument(
        "--temperature",
        type=finite_float,
        default=2.269185,
        help="T of the L = 4 Ising data, in units of J/k_B",
    )
    example.add_argument("--samples", type=integer, default=10_000, help="Ising configurations")
    add_trainer_options(example, replace(STACK_DEFAULTS, n_hidden=4), replicas="--replicas")
    example.add_argument("--seed", type=integer, default=0, help="seed of simulation and training")
    example.add_argument("--quiet", action="store_true", help="no progress bar")
    example.set_defaults(func=command("lab.rg.commands:rg_example_command"))

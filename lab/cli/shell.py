"""The command line: the same work as the GUI, without a window.

``python main.py`` (or ``monge-lab``) with no arguments, or with a session path, opens the GUI;
with a subcommand it works headless (``python main.py --help`` lists them):

- ``simulate``, ``inspect``: Ising runs (``lab.ising.cli``);
- ``recover``: fold what a killed run recorded into its session (``lab.cli.recover``);
- ``train``, ``sample``, ``evaluate``, ``import-rbm``: RBMs (``lab.rbm.cli``);
- ``coarse-grain``, ``rg-flow``: block spins or an RBM's hidden layer as RG steps, and the
  flow T → T′ over a range of temperatures (``lab.rg.cli``);
- ``export``: a run's arrays to .npz, its time series to CSV (``lab.cli.export``);
- ``geometry``: spectrum, cone distances, transport and entropy along an RBM's training, and
  ``score``: Gai & Zhang's line-shape and optimal-transport scores of a run (``lab.geometry.cli``);
- ``sweep``: a grid of one command's runs on a Dask cluster, local or not (``lab.sweep.cli``).

Bad input ends with one line on stderr and exit code 2; an existing session file is never
modified unless the command succeeds (``data`` writes atomically).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from lab.cli import export as cli_export
from lab.cli import recover as cli_recover
from lab.cli.common import CliError, Parser
from lab.geometry import cli as cli_geometry
from lab.ising import cli as cli_ising
from lab.rbm import cli as cli_rbm
from lab.reproduce import cli as cli_reproduce
from lab.rg import cli as cli_rg
from lab.sweep import cli as cli_sweep

EXIT_USAGE = 2
COMMANDS = (
    "simulate",
    "inspect",
    "train",
    "sample",
    "evaluate",
    "import-rbm",
    "coarse-grain",
    "train-stack",
    "rg-flow",
    "rg-example",
    "recover",
    "geometry",
    "score",
    "export",
    "reproduce",
    "sweep",
)


def build_parser() -> Parser:
    parser = Parser(prog="monge-lab", description="Monge Lab, headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    cli_ising.add_parsers(sub)
    cli_rbm.add_parsers(sub)
    cli_rg.add_parsers(sub)
    cli_recover.add_parsers(sub)
    cli_geometry.add_parsers(sub)
    cli_export.add_parsers(sub)
    cli_reproduce.add_parsers(sub)
    cli_sweep.add_parsers(sub)
    return parser


def run_cli(argv: Sequence[str]) -> int:
    """Run a headless subcommand; returns the process exit code."""
    try:
        args = build_parser().parse_args(list(argv))
        return args.func(args)
    except CliError as exc:
        print(f"monge-lab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (`… | head`): stop quietly, as Unix tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 — Python flushes stdout at exit
        return 141

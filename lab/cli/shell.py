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

import importlib
import os
import sys
from collections.abc import Sequence

from lab.cli.common import CliError, Parser

EXIT_USAGE = 2

#: The modules whose ``add_parsers`` define the subcommands, in the order ``--help`` lists them.
PARSER_MODULES = (
    "lab.ising.cli",
    "lab.rbm.cli",
    "lab.rg.cli",
    "lab.cli.recover",
    "lab.geometry.cli",
    "lab.cli.export",
    "lab.reproduce.cli",
    "lab.sweep.cli",
)

#: Each subcommand and the module (of :data:`PARSER_MODULES`) that defines it.
COMMAND_MODULES = {
    "simulate": "lab.ising.cli",
    "inspect": "lab.ising.cli",
    "train": "lab.rbm.cli",
    "sample": "lab.rbm.cli",
    "evaluate": "lab.rbm.cli",
    "import-rbm": "lab.rbm.cli",
    "coarse-grain": "lab.rg.cli",
    "train-stack": "lab.rg.cli",
    "rg-flow": "lab.rg.cli",
    "rg-example": "lab.rg.cli",
    "recover": "lab.cli.recover",
    "geometry": "lab.geometry.cli",
    "score": "lab.geometry.cli",
    "export": "lab.cli.export",
    "reproduce": "lab.reproduce.cli",
    "sweep": "lab.sweep.cli",
}
COMMANDS = tuple(COMMAND_MODULES)


def build_parser(command: str | None = None) -> Parser:
    """The command line's parser: every subcommand, or only ``command``'s module's.

    Given a known ``command`` (the first argument), only the module that defines it is imported
    and asked for its parsers: ``simulate`` then starts without importing the option tables of
    the RBM, geometry and sweep commands. Anything else (no command, ``--help``, a typo) gets
    the whole parser, so the listing and argparse's "invalid choice" message name every command.
    """
    modules = (COMMAND_MODULES[command],) if command in COMMAND_MODULES else PARSER_MODULES
    parser = Parser(prog="monge-lab", description="Monge Lab, headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in modules:
        importlib.import_module(module).add_parsers(sub)
    return parser


def run_cli(argv: Sequence[str]) -> int:
    """Run a headless subcommand; returns the process exit code."""
    try:
        argv = list(argv)
        args = build_parser(argv[0] if argv else None).parse_args(argv)
        return args.func(args)
    except CliError as exc:
        print(f"monge-lab: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # the reader went away (`… | head`): stop quietly, as Unix tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 — Python flushes stdout at exit
        return 141

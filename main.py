"""Monge Lab: ``python main.py [S.h5]`` opens the lab; ``python main.py <command> …`` is headless.

Run ``python main.py --help`` for the headless commands. Which of the two it is, is decided
here, before anything heavy is imported: a headless command never loads Qt, and each command
imports only what it needs when it runs (:func:`lab.cli.shell.run_cli`).
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python main.py`` and of the ``monge-lab`` console script."""
    from lab.cli.shell import COMMANDS, EXIT_USAGE, run_cli

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help")):
        return run_cli(argv)
    if len(argv) > 1 or (argv and (argv[0].startswith("-") or _mistyped(argv[0], COMMANDS))):
        close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        print(
            f"monge-lab: error: unknown command '{argv[0]}' ({hint}commands: "
            f"{', '.join(COMMANDS)}; or give a session file to open)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    from widgets.shell.app import run_gui

    return run_gui(argv[0] if argv else None)


def _mistyped(argument: str, commands: Sequence[str]) -> bool:
    """A lone argument that is no file, has no ``.h5`` ending and is one letter or so from one of
    ``commands`` (``simulat``): a typo, reported as one, not a new session to open in the window."""
    return (
        not os.path.lexists(argument)
        and not argument.endswith(".h5")
        and bool(difflib.get_close_matches(argument, commands, n=1, cutoff=0.8))
    )


if __name__ == "__main__":
    sys.exit(main())

"""Monge Lab: ``python main.py [S.h5]`` opens the lab; ``python main.py <command>`` is headless.

Run ``python main.py --help`` for the headless commands.
"""

import sys

from lab.cli.shell import main

if __name__ == "__main__":
    sys.exit(main())

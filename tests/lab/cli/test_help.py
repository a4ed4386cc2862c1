"""``--help`` of every command names every option and shows its default."""

from __future__ import annotations

import argparse

import pytest

from lab.cli.shell import COMMANDS, build_parser


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_is_in_the_parser():
    assert set(subparsers()) == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_help_and_its_default_is_shown(command):
    parser = subparsers()[command]
    text = parser.format_help()
    for action in parser._actions:
        if not action.option_strings or action.dest == "help":
            continue
        assert action.help, f"{command} {action.option_strings[0]} has no help"
        if action.default is not None and action.default is not False and action.nargs != 0:
            shown = parser._get_formatter()._expand_help(action)
            assert "(default:" in shown, f"{command} {action.option_strings[0]}: {shown}"
    assert "usage:" in text

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


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_alone_gets_the_same_parser_as_in_the_whole_one(command):
    """``run_cli`` builds only the given command's module's parsers (a faster start): each must
    be the parser the whole command line has, option for option."""
    alone = build_parser(command)
    action = next(a for a in alone._actions if isinstance(a, argparse._SubParsersAction))
    assert command in action.choices
    assert action.choices[command].format_help() == subparsers()[command].format_help()


def test_a_mistyped_command_is_an_error_with_a_suggestion_not_a_window(
    tmp_path, capsys, monkeypatch
):
    from main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("widgets.shell.app.run_gui", lambda *a: pytest.fail("the GUI was started"))
    for argv in (["simulat"], ["evalute", "S.h5"], ["--frob"]):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"monge-lab: error: unknown command '{argv[0]}'")
    assert main(["simulat"]) == 2 and "did you mean 'simulate'?" in capsys.readouterr().err
    opened = []
    monkeypatch.setattr("widgets.shell.app.run_gui", lambda path: opened.append(path) or 0)
    (tmp_path / "simulat").write_bytes(b"")  # a file of that name is a session to open
    assert main(["simulat"]) == 0 and main(["new.h5"]) == 0 and opened == ["simulat", "new.h5"]

"""The command line is its registry of commands (cleaner/cli.py COMMANDS, one module of
cleaner/commands/ each): the parser offers exactly those, each with its help line, and
`main` hands each command's arguments to that command."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from cleaner import cli
from cleaner.cli import COMMANDS, build_parser, main
from cleaner.commands.base import Command, UsageError


def subcommands(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    (found,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return found


def test_the_parser_offers_exactly_the_registered_commands_in_their_order() -> None:
    assert list(subcommands(build_parser()).choices) == [c.name for c in COMMANDS]


def test_every_command_has_its_help_line_in_the_overview() -> None:
    listed = {a.dest: a.help for a in subcommands(build_parser())._choices_actions}
    assert listed == {c.name: c.help for c in COMMANDS}
    assert all(c.help and c.help == c.help.strip() for c in COMMANDS)
    overview = " ".join(build_parser().format_help().split())  # as wrapped at any width
    for command in COMMANDS:
        assert f"{command.name} {command.help}" in overview


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_every_command_answers_help_and_exits_0(command: Command) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main([command.name, "--help"])
    assert done.value.code == 0
    assert out.getvalue().startswith(f"usage: ecr-cleaner {command.name} [-h]")


def test_main_hands_the_arguments_to_the_command_they_name_and_maps_usage_errors(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[argparse.Namespace] = []

    def fine(args: argparse.Namespace) -> int:
        seen.append(args)
        return 3

    def bad(args: argparse.Namespace) -> int:
        raise UsageError("--thing: not like that")

    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--thing")

    fakes = (
        Command("fine", "a command that works", options, fine),
        Command("bad", "a command refusing its input", options, bad),
    )
    monkeypatch.setattr(cli, "COMMANDS", fakes)
    assert main(["fine", "--thing", "x"]) == 3
    assert [(a.command, a.thing) for a in seen] == [("fine", "x")]
    assert main(["bad"]) == 2
    assert capsys.readouterr().err == "ecr-cleaner: error: --thing: not like that\n"

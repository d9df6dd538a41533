"""Command line: parse the arguments, hand them to the command they name, and turn bad
input into `ecr-cleaner: error: ...` and exit 2.

Nothing here decides what to delete. Each subcommand is a module of cleaner/commands/
declaring a `COMMAND`; to add one, write the module and list it below.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cleaner import __version__
from cleaner.commands import demo, in_use, lifecycle, plan, restore, run, sandbox, serve, validate
from cleaner.commands.base import Command, ConfigInvalid, UsageError
from cleaner.exitcodes import ExitCode
from cleaner.tuning import tune_gc

# In the order `ecr-cleaner --help` lists them.
COMMANDS: tuple[Command, ...] = (
    validate.COMMAND,
    plan.COMMAND,
    run.COMMAND,
    serve.COMMAND,
    in_use.COMMAND,
    lifecycle.COMMAND,
    restore.COMMAND,
    demo.COMMAND,
    sandbox.COMMAND,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecr-cleaner", description="Scheduled image-retention cleaner for Amazon ECR."
    )
    parser.add_argument("--version", action="version", version=f"ecr-cleaner {__version__}")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_arguments(subcommands.add_parser(command.name, help=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tune_gc()
    (command,) = (c for c in COMMANDS if c.name == args.command)
    try:
        return command.run(args)
    except UsageError as exc:
        prefix = "" if isinstance(exc, ConfigInvalid) else "ecr-cleaner: error: "
        print(f"{prefix}{exc}", file=sys.stderr)
        return ExitCode.USAGE

"""`ecr-cleaner in-use`: what every in-use source sees, and what it resolves to; deletes
nothing. The view itself is in_use_view.py, imported when the command runs: it needs
the AWS SDK, which `--help` and `validate` never load."""

from __future__ import annotations

import argparse

from cleaner.commands.base import Command, config_option, load_checked, logging_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    config_option(parser)
    logging_options(parser)
    parser.add_argument("--format", choices=["table", "json"], default="table")


def in_use(args: argparse.Namespace) -> int:
    from cleaner import logs
    from cleaner.aws.clients import Clients
    from cleaner.commands.in_use_view import in_use_command

    config = load_checked(args)
    logs.configure(args.log_format, args.log_level)
    return in_use_command(config, Clients(), output=args.format)


COMMAND = Command(
    name="in-use",
    help="what every in-use source sees, and what it resolves to; deletes nothing",
    add_arguments=add_arguments,
    run=in_use,
)

"""`ecr-cleaner run`: one cleaning pass (with --dry-run, a plan that `run` reports)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cleaner.commands.base import (
    Command,
    load_checked,
    notifier_of,
    parse_now,
    shard_of,
)
from cleaner.commands.cleaning import RUN_FORMATS, clean, pass_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass_options(parser)
    parser.add_argument("--dry-run", action="store_true", help="plan only; delete nothing")
    parser.add_argument("--report", help="write the JSON report of the run here")
    parser.add_argument(
        "--format",
        choices=RUN_FORMATS,
        help="what to print on stdout (default: summary on a terminal, else table; "
        "json for --dry-run, nothing for --dry-run with --report)",
    )
    parser.add_argument("--html", help="write the HTML report of the run here")


def run(args: argparse.Namespace) -> int:
    config = load_checked(args)
    notifier = notifier_of(args.config, config)
    shard = shard_of(args)
    now = parse_now(args.now, datetime.now(UTC))
    return clean(args, config, now, shard=shard, notifier=notifier)


COMMAND = Command(name="run", help="one cleaning pass", add_arguments=add_arguments, run=run)

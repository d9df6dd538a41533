"""`ecr-cleaner plan`: the dry-run report, what would be deleted and why."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from cleaner.commands.base import (
    Command,
    load_checked,
    parse_now,
    shard_of,
)
from cleaner.commands.cleaning import PLAN_FORMATS, clean, pass_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass_options(parser)
    parser.add_argument("--format", choices=PLAN_FORMATS, default="table")
    parser.add_argument("--output", help="write the report here instead of stdout")


def plan(args: argparse.Namespace) -> int:
    config = load_checked(args)
    shard = shard_of(args)
    now = parse_now(args.now, datetime.now(UTC))
    return clean(args, config, now, shard=shard)


COMMAND = Command(
    name="plan",
    help="dry-run report: what would be deleted and why",
    add_arguments=add_arguments,
    run=plan,
)

"""`ecr-cleaner serve`: long-running, cleaning on the policy's schedule (or once, with
--once). The daemon itself is cleaner/serve/; this is its command line."""

from __future__ import annotations

import argparse

from cleaner.commands.base import (
    Command,
    config_option,
    load_checked,
    logging_options,
    notifier_of,
    shard_of,
    shard_options,
    whole,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    config_option(parser)
    logging_options(parser)
    shard_options(parser)
    parser.add_argument("--dry-run", action="store_true", help="plan only; delete nothing")
    parser.add_argument(
        "--once", action="store_true", help="one pass now, exit with its code (no schedule)"
    )
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="/healthz and /metrics (default 127.0.0.1:8080; the container uses 0.0.0.0:8080)",
    )
    parser.add_argument(
        "--report-dir", help="write each run's JSON and HTML reports into this directory"
    )
    parser.add_argument(
        "--keep-reports",
        type=whole("reports"),
        default=30,
        metavar="N",
        help="keep the newest N reports in --report-dir (default 30; 0 keeps all)",
    )
    parser.add_argument(
        "--jitter",
        type=whole("seconds"),
        default=0,
        metavar="SECONDS",
        help="start each run up to this much later, at random (default 0)",
    )
    parser.add_argument(
        "--misfire-grace",
        type=whole("seconds"),
        default=3600,
        metavar="SECONDS",
        help="a run that could not start on time still starts within this (default 3600)",
    )


def serve(args: argparse.Namespace) -> int:
    from cleaner.serve.command import serve_command

    config = load_checked(args)
    # serve_command reads both from the arguments.
    args.notifier = notifier_of(args.config, config)
    args.shard = shard_of(args)
    return serve_command(args, config)


COMMAND = Command(
    name="serve",
    help="long-running: clean on the policy's schedule",
    add_arguments=add_arguments,
    run=serve,
)

"""`ecr-cleaner demo`: the whole flow against an embedded, seeded ECR sandbox."""

from __future__ import annotations

import argparse

from cleaner.commands.base import LOG_FORMATS, LOG_LEVELS, Command
from cleaner.commands.sandbox import require_sandbox_extra


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Its own logging options, not the shared ones: no help line for --log-format, and
    # a quieter default level.
    parser.add_argument("--log-format", choices=LOG_FORMATS, default="auto")
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="warning",  # the demo's own output tells the story
    )
    parser.add_argument(
        "--lifecycle",
        action="store_true",
        help="an ECR lifecycle policy previewed with our protections, then audited",
    )


def demo(args: argparse.Namespace) -> int:
    require_sandbox_extra("demo")
    if args.lifecycle:
        from cleaner.demo.lifecycle import run_lifecycle_demo

        return run_lifecycle_demo(args.log_format, args.log_level)
    from cleaner.demo.run import run_demo

    return run_demo(args.log_format, args.log_level)


COMMAND = Command(
    name="demo",
    help="the whole flow against an embedded, seeded ECR sandbox (no AWS account)",
    add_arguments=add_arguments,
    run=demo,
)

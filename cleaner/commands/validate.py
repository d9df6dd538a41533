"""`ecr-cleaner validate`: check a policy file; touch nothing."""

from __future__ import annotations

import argparse

from cleaner.commands.base import Command, config_option, load_checked
from cleaner.exitcodes import ExitCode


def validate(args: argparse.Namespace) -> int:
    config = load_checked(args)
    print(f"{args.config}: valid ({len(config.policies)} policies, {len(config.targets)} targets)")
    return ExitCode.OK


COMMAND = Command(
    name="validate",
    help="check a policy file; touch nothing",
    add_arguments=config_option,
    run=validate,
)

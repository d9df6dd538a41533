"""`ecr-cleaner restore`: bring archived images back to standard storage. The work is
cleaner/run/restore.py's; this is its command line."""

from __future__ import annotations

import argparse

from cleaner.commands.base import Command, config_option, load_checked, logging_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    config_option(parser)
    logging_options(parser)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--report", help="every image the run of this JSON report archived")
    which.add_argument("--repository", help="the repository of the images named by --digest")
    parser.add_argument("--digest", nargs="+", metavar="DIGEST", help="images to restore")
    parser.add_argument("--region", help="with --repository (default: the config's region)")
    parser.add_argument("--registry-id", help="with --repository (default: the target's)")
    parser.add_argument("--format", choices=["table", "json"], default="table")


def restore(args: argparse.Namespace) -> int:
    from cleaner.run.restore import restore_command

    return restore_command(args, load_checked(args))


COMMAND = Command(
    name="restore",
    help="bring archived images back to standard storage",
    add_arguments=add_arguments,
    run=restore,
)

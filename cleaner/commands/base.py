"""What the subcommands share: the Command they each declare, usage errors, the option
groups several take, and the checks every command makes before it touches anything.

Bad input is a UsageError, raised before any AWS call: the command line prints it as
`ecr-cleaner: error: ...` (a ConfigInvalid as it is) and exits 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cleaner.report.files import directory_problem, file_problem

if TYPE_CHECKING:
    from cleaner.config.model import Config
    from cleaner.core.model import Shard

CONFIG_ENV = "ECR_CLEANER_CONFIG"
LOG_FORMATS = ["auto", "json", "console"]
LOG_LEVELS = ["debug", "info", "warning", "error"]
# The options naming a file the command writes, and the one naming a directory it
# writes into: all checked before any AWS call.
OUTPUT_FILES = ("output", "report", "html")
OUTPUT_DIRECTORY = "report_dir"


@dataclass(frozen=True)
class Command:
    """One subcommand of `ecr-cleaner`: its name and help line (as `ecr-cleaner --help`
    lists them), its options, and what it does with them, which returns the exit code
    (cleaner.exitcodes.ExitCode). Heavy imports (boto3, moto, APScheduler) belong in
    `run`, so that `--help` and `validate` stay quick."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad input on the command line or in the policy file: exit 2, nothing touched."""


class ConfigInvalid(UsageError):
    """The policy file's errors, one a line, each already starting with its place
    (FILE:LINE:COL), so they are printed as they are, the way compilers print errors."""


def config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default=os.environ.get(CONFIG_ENV),
        help=f"policy file (default: ${CONFIG_ENV})",
    )


def now_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now",
        help="evaluate as if the clock read TIME: ISO 8601 with offset, or +7d / -12h "
        "relative to the real clock",
    )


def logging_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="auto",
        help="auto: JSON lines unless stdout is a terminal (logs go to stderr)",
    )
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info")


def shard_options(parser: argparse.ArgumentParser) -> None:
    from cleaner.run.shard import SHARD_COUNT_ENV, SHARD_ENV

    parser.add_argument(
        "--shard",
        dest="shard_arg",
        metavar="K/N",
        help=f"only the repositories of shard K of N (from 0); default ${SHARD_ENV}",
    )
    parser.add_argument(
        "--shard-count",
        dest="shard_count_arg",
        metavar="N",
        help=f"N shards, this one's K from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); "
        f"default ${SHARD_COUNT_ENV}",
    )


def whole(unit: str) -> Callable[[str], int]:
    """An option's type: a whole number >= 0 of `unit`, which the error message names."""

    def parse(text: str) -> int:
        if not (text.isascii() and text.isdigit()):
            raise argparse.ArgumentTypeError(
                f"expected a whole number of {unit} >= 0, got {text!r}"
            )
        return int(text)

    return parse


def load_checked(args: argparse.Namespace) -> Config:
    """The policy file (its warnings printed on stderr: valid, but probably not meant),
    then a check that every file the command will write is writable: both before any
    AWS call, because finding out after the deletions would lose their only record."""
    config = _load(args.config)
    for warning in config.warnings:
        print(warning, file=sys.stderr)
    problems = [
        file_problem(path) for option in OUTPUT_FILES if (path := getattr(args, option, None))
    ]
    if getattr(args, OUTPUT_DIRECTORY, None):
        problems.append(directory_problem(getattr(args, OUTPUT_DIRECTORY)))
    found = [p for p in problems if p]
    if found:
        raise UsageError("; ".join(found))
    return config


def _load(path: str | None) -> Config:
    from cleaner.config.load import ConfigError, load_config

    if not path:
        raise UsageError(f"--config is required (or set {CONFIG_ENV})")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise ConfigInvalid(str(exc)) from exc


def notifier_of(config_path: str, config: Config) -> Any:
    """The run's Notifier. Webhook URLs are read from the environment now: an unset
    variable is a usage error before any AWS call."""
    from cleaner.notify.send import Notifier, NotifyConfigError

    try:
        return Notifier.from_config(config.notify, os.environ)
    except NotifyConfigError as exc:
        raise UsageError(f"{config_path}: {exc}") from exc


def shard_of(args: argparse.Namespace) -> Shard | None:
    """The Shard to run (None: every repository), from the options and environment."""
    from cleaner.run.shard import ShardError, resolve_shard

    try:
        return resolve_shard(args.shard_arg, args.shard_count_arg, os.environ)
    except ShardError as exc:
        raise UsageError(str(exc)) from exc


def parse_now(text: str | None, real_now: datetime) -> datetime:
    """`--now`: absolute ISO 8601 with an offset, or a signed duration from the real clock."""
    from cleaner.config.load import parse_duration

    if text is None:
        return real_now
    if text[:1] in "+-":
        try:
            delta = parse_duration(text[1:])
        except ValueError as exc:
            raise UsageError(f"--now {text}: {exc}") from exc
        return real_now + delta if text[0] == "+" else real_now - delta
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--now {text}: not ISO 8601 ({exc})") from exc
    if value.tzinfo is None:
        raise UsageError(f"--now {text}: give an offset, e.g. {text}Z or {text}+00:00")
    return value

"""Command line: parse arguments, build the clock, clients and logger, hand over.

Nothing here decides what to delete; it only wires `runner.run_once` to the world.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cleaner import __version__
from cleaner.policy import Config

EXIT_OK = 0
EXIT_USAGE = 2
CONFIG_ENV = "ECR_CLEANER_CONFIG"


class UsageError(Exception):
    """Bad input on the command line or in the policy file: exit 2, nothing touched."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecr-cleaner", description="Scheduled image-retention cleaner for Amazon ECR."
    )
    parser.add_argument("--version", action="version", version=f"ecr-cleaner {__version__}")
    logging_options = argparse.ArgumentParser(add_help=False)
    logging_options.add_argument(
        "--log-format",
        choices=["auto", "json", "console"],
        default="auto",
        help="auto: JSON lines unless stdout is a terminal (logs go to stderr)",
    )
    logging_options.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default="info"
    )
    config_option = argparse.ArgumentParser(add_help=False)
    config_option.add_argument(
        "--config",
        default=os.environ.get(CONFIG_ENV),
        help=f"policy file (default: ${CONFIG_ENV})",
    )
    now_option = argparse.ArgumentParser(add_help=False)
    now_option.add_argument(
        "--now",
        help="evaluate as if the clock read TIME: ISO 8601 with offset, or +7d / -12h "
        "relative to the real clock",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "validate", parents=[config_option], help="check a policy file; touch nothing"
    )
    plan = commands.add_parser(
        "plan",
        parents=[config_option, now_option, logging_options],
        help="dry-run report: what would be deleted and why",
    )
    plan.add_argument("--format", choices=["table", "json", "markdown"], default="table")
    plan.add_argument("--output", help="write the report here instead of stdout")
    run = commands.add_parser(
        "run", parents=[config_option, now_option, logging_options], help="one cleaning pass"
    )
    run.add_argument("--dry-run", action="store_true", help="plan only; delete nothing")
    run.add_argument("--report", help="write the JSON report of the run here")
    sandbox = commands.add_parser(
        "sandbox", help="serve the embedded ECR sandbox on 127.0.0.1 until interrupted"
    )
    sandbox.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    sandbox.add_argument("--seed", choices=["demo"], help="fill it with the demo registry")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "sandbox":
            return serve_sandbox(args.port, args.seed)
        config = _load(args.config)
        if args.command == "validate":
            print(
                f"{args.config}: valid ({len(config.policies)} policies, "
                f"{len(config.targets)} targets)"
            )
            return EXIT_OK
        now = parse_now(args.now, datetime.now(UTC))
    except UsageError as exc:
        print(f"ecr-cleaner: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _run(args, config, now)


def _load(path: str | None) -> Config:
    from cleaner.config import ConfigError, load_config

    if not path:
        raise UsageError(f"--config is required (or set {CONFIG_ENV})")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageError(f"{path}:\n{exc}") from exc


def parse_now(text: str | None, real_now: datetime) -> datetime:
    """`--now`: absolute ISO 8601 with an offset, or a signed duration from the real clock."""
    from cleaner.config import parse_duration

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


def _run(args: argparse.Namespace, config: Config, now: datetime) -> int:
    from cleaner import logs, report
    from cleaner.registry import Clients
    from cleaner.runner import run_once

    logs.configure(args.log_format, args.log_level)
    dry_run = args.command == "plan" or args.dry_run
    result = run_once(config, Clients(), now, dry_run=dry_run)
    if args.command == "plan":
        _write(report.RENDERERS[args.format](result.report), args.output)
    elif args.report:
        _write(report.to_json(result.report), args.report)
        if not dry_run:
            _write(report.to_table(result.report), None)
    else:
        render = report.to_json if dry_run else report.to_table
        _write(render(result.report), None)
    return result.exit_code


def _write(text: str, path: str | None) -> None:
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)  # a reader never sees half a report


def serve_sandbox(port: int, seed: str | None) -> int:
    from cleaner.sandbox import Sandbox
    from cleaner.sandbox.demo import seed_demo

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(port=port) as sandbox:
        if seed == "demo":
            seed_demo(sandbox.store, datetime.now(UTC))
        print(f"ECR sandbox listening on {sandbox.endpoint_url}", flush=True)
        print("Point the AWS SDKs and CLI at it with:", flush=True)
        for name, value in sandbox.environment().items():
            print(f"export {name}={value}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    print("sandbox stopped", file=sys.stderr)
    return EXIT_OK

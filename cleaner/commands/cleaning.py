"""What `plan` and `run` share once their input is checked: one pass over every target,
then its report(s) written where the options say, none of them lost."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cleaner.commands.base import config_option, logging_options, now_option, shard_options
from cleaner.exitcodes import ExitCode
from cleaner.report.files import write_atomically, write_fallback

if TYPE_CHECKING:
    from cleaner.config.model import Config
    from cleaner.core.model import Shard
    from cleaner.report.model import RunReport

PLAN_FORMATS = ["table", "summary", "json", "markdown", "html"]
RUN_FORMATS = ["table", "summary", "json", "markdown"]


def pass_options(parser: argparse.ArgumentParser) -> None:
    """What `plan` and `run` both take: the policy, --now, logging, --shard."""
    config_option(parser)
    now_option(parser)
    logging_options(parser)
    shard_options(parser)


def clean(
    args: argparse.Namespace,
    config: Config,
    now: datetime,
    *,
    shard: Shard | None,
    notifier: Any = None,
) -> int:
    """One pass (`plan`, or `run` with or without --dry-run) and its outputs; `notifier`
    (run only) is told how it went. Exit 1 when a report had to go to a fallback file."""
    from cleaner import logs
    from cleaner.aws.clients import Clients
    from cleaner.notify.github import append_step_summary
    from cleaner.notify.message import RunOutcome
    from cleaner.run.display import progress_for
    from cleaner.run.options import RunOptions
    from cleaner.run.pipeline import run_once
    from cleaner.run.stopping import StopRequest, stop_on_signals

    logs.configure(args.log_format, args.log_level)
    dry_run = args.command == "plan" or args.dry_run
    progress = progress_for(args.log_level)
    with stop_on_signals(StopRequest()) as stop:
        result = run_once(
            config,
            Clients(),
            now,
            RunOptions(dry_run=dry_run, shard=shard, stop=stop, progress=progress),
        )
        written = _write_outputs(args, dry_run, result.report)
    append_step_summary(result.report, os.environ)
    if notifier is not None:
        notifier.send(RunOutcome(result.report, result.exit_code, result.stopped_by))
    if not written and result.exit_code == ExitCode.OK:
        return ExitCode.FAILURES
    return result.exit_code


def _run_format(args: argparse.Namespace, dry_run: bool) -> str | None:
    """What `run` prints on stdout (None: nothing)."""
    if args.format:
        return str(args.format)
    if dry_run:  # the same as `plan --format json`, or only the --report file
        return None if args.report else "json"
    return "summary" if sys.stdout.isatty() else "table"


def _write_outputs(args: argparse.Namespace, dry_run: bool, result_report: RunReport) -> bool:
    """Write the command's report(s); False if one had to go to a fallback file."""
    from cleaner.report import render as report

    outputs: list[tuple[str, str | None]] = []
    if args.command == "plan":
        outputs = [(report.RENDERERS[args.format](result_report), args.output)]
    else:
        if args.report:
            outputs.append((report.to_json(result_report), args.report))
        shown = _run_format(args, dry_run)
        if shown:
            outputs.append((report.RENDERERS[shown](result_report), None))
    if getattr(args, "html", None):
        outputs.append((report.to_html(result_report), args.html))
    ok = True
    for text, path in outputs:
        try:
            write_atomically(text, path)
        except OSError as exc:
            ok = False
            _save_lost_report(text, path, exc, result_report)
    return ok


def _save_lost_report(text: str, path: str | None, exc: OSError, result_report: RunReport) -> None:
    import structlog

    log = structlog.get_logger(__name__)
    name = Path(path).name if path else "report.txt"
    try:
        fallback: str | None = str(write_fallback(text, name))
    except OSError:
        fallback = None
    log.error(
        "report_not_written",
        path=path,
        error=str(exc),
        fallback=fallback,
        **result_report.summary(),
    )

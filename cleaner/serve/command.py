"""`ecr-cleaner serve`: check the arguments, install the signal handlers, and run the
service (cleaner/serve/service.py) once or on the policy's crontab schedule.

SIGTERM and SIGINT stop the scheduling and ask the run in progress to stop at its next
batch boundary; `serve` then writes the run's report and exits 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cleaner import logs
from cleaner.config.cron import trigger_from_crontab
from cleaner.config.model import Config
from cleaner.exitcodes import ExitCode
from cleaner.notify.send import Notifier
from cleaner.run.stopping import stop_on_signals
from cleaner.serve.http import parse_listen
from cleaner.serve.service import ServeOptions, Service


def serve_command(args: argparse.Namespace, config: Config) -> int:
    """`serve` from parsed arguments; usage errors exit 2 before anything starts."""
    problem = None
    if config.schedule is None and not args.once:
        problem = f"{args.config}: serve needs a schedule section (or use --once)"
    try:
        listen = parse_listen(args.listen)
    except ValueError as exc:
        problem = problem or f"--listen: {exc}"
    if problem:
        print(f"ecr-cleaner: error: {problem}", file=sys.stderr)
        return ExitCode.USAGE
    logs.configure(args.log_format, args.log_level)
    options = ServeOptions(
        dry_run=args.dry_run,
        once=args.once,
        listen=listen,
        report_dir=Path(args.report_dir) if args.report_dir else None,
        keep_reports=args.keep_reports,
        jitter=args.jitter,
        misfire_grace=args.misfire_grace,
        shard=getattr(args, "shard", None),
    )
    return serve(config, options, notifier=getattr(args, "notifier", None))


def serve(config: Config, options: ServeOptions, *, notifier: Notifier | None = None) -> int:
    """The `serve` command once its arguments are checked: `--once` runs one pass now and
    returns its exit code; otherwise runs on `config.schedule` until SIGTERM/SIGINT."""
    service = Service(config, options, notifier=notifier)
    with stop_on_signals(service.stop):
        if options.once:
            code = service.run_pass()
            if service.stop.requested():
                return ExitCode.OK  # serve exits 0 when asked to stop, --once too
            return ExitCode.FAILURES if code is None else code
        if config.schedule is None:
            raise ValueError("serve needs a schedule section (or --once)")
        trigger = trigger_from_crontab(
            config.schedule.cron, config.schedule.timezone, jitter=options.jitter or None
        )
        return service.serve_forever(trigger)

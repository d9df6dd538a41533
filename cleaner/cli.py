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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cleaner import __version__
from cleaner.config.model import Config
from cleaner.exitcodes import ExitCode
from cleaner.lifecycle_commands import add_lifecycle_parser, lifecycle_command
from cleaner.report.files import directory_problem, file_problem, write_atomically, write_fallback
from cleaner.tuning import tune_gc

CONFIG_ENV = "ECR_CLEANER_CONFIG"


class UsageError(Exception):
    """Bad input on the command line or in the policy file: exit 2, nothing touched."""


class ConfigInvalid(UsageError):
    """The policy file's errors, one a line, each already starting with its place
    (FILE:LINE:COL), so they are printed as they are, the way compilers print errors."""


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
    shard_options = _shard_options()
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "validate", parents=[config_option], help="check a policy file; touch nothing"
    )
    plan = commands.add_parser(
        "plan",
        parents=[config_option, now_option, logging_options, shard_options],
        help="dry-run report: what would be deleted and why",
    )
    plan.add_argument(
        "--format", choices=["table", "summary", "json", "markdown", "html"], default="table"
    )
    plan.add_argument("--output", help="write the report here instead of stdout")
    run = commands.add_parser(
        "run",
        parents=[config_option, now_option, logging_options, shard_options],
        help="one cleaning pass",
    )
    run.add_argument("--dry-run", action="store_true", help="plan only; delete nothing")
    run.add_argument("--report", help="write the JSON report of the run here")
    run.add_argument(
        "--format",
        choices=["table", "summary", "json", "markdown"],
        help="what to print on stdout (default: summary on a terminal, else table; "
        "json for --dry-run, nothing for --dry-run with --report)",
    )
    run.add_argument("--html", help="write the HTML report of the run here")
    _add_serve(commands, [config_option, logging_options, shard_options])
    in_use = commands.add_parser(
        "in-use",
        parents=[config_option, logging_options],
        help="what every in-use source sees, and what it resolves to; deletes nothing",
    )
    in_use.add_argument("--format", choices=["table", "json"], default="table")
    add_lifecycle_parser(commands, config_option, now_option, logging_options)
    _add_restore(commands, [config_option, logging_options])
    demo = commands.add_parser(
        "demo", help="the whole flow against an embedded, seeded ECR sandbox (no AWS account)"
    )
    # Its own options, not the shared parent's: set_defaults on a subparser would change
    # the parent's action objects, and so every command's default.
    demo.add_argument("--log-format", choices=["auto", "json", "console"], default="auto")
    demo.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default="warning",  # the demo's own output tells the story
    )
    demo.add_argument(
        "--lifecycle",
        action="store_true",
        help="an ECR lifecycle policy previewed with our protections, then audited",
    )
    sandbox = commands.add_parser(
        "sandbox", help="serve the embedded ECR sandbox on 127.0.0.1 until interrupted"
    )
    sandbox.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    sandbox.add_argument(
        "--seed",
        type=_seed,
        metavar="demo|bulk:REPOSxIMAGES",
        help="fill it with the demo registry, or REPOS repositories of about IMAGES images "
        "each (e.g. bulk:50x2000)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tune_gc()
    try:
        if args.command in ("sandbox", "demo"):
            _require_sandbox_extra(args.command)
        if args.command == "sandbox":
            return serve_sandbox(args.port, args.seed)
        if args.command == "demo" and args.lifecycle:
            from cleaner.demo.lifecycle import run_lifecycle_demo

            return run_lifecycle_demo(args.log_format, args.log_level)
        if args.command == "demo":
            from cleaner.demo.run import run_demo

            return run_demo(args.log_format, args.log_level)
        config = _load(args.config)
        for warning in config.warnings:  # valid, but probably not meant
            print(warning, file=sys.stderr)
        _check_outputs(args)
        if args.command in ("run", "serve"):
            args.notifier = _notifier(args.config, config)
        if args.command in ("plan", "run", "serve"):
            args.shard = _shard(args)
        if args.command == "serve":
            return _serve(args, config)
        if args.command == "in-use":
            return _in_use(args, config)
        if args.command == "restore":
            from cleaner.run.restore import restore_command

            return restore_command(args, config)
        if args.command == "validate":
            print(
                f"{args.config}: valid ({len(config.policies)} policies, "
                f"{len(config.targets)} targets)"
            )
            return ExitCode.OK
        if args.command == "lifecycle":
            now = parse_now(getattr(args, "now", None), datetime.now(UTC))
            return lifecycle_command(args, config, now)
        now = parse_now(args.now, datetime.now(UTC))
    except UsageError as exc:
        prefix = "" if isinstance(exc, ConfigInvalid) else "ecr-cleaner: error: "
        print(f"{prefix}{exc}", file=sys.stderr)
        return ExitCode.USAGE
    return _run(args, config, now)


def _require_sandbox_extra(command: str) -> None:
    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"{command} needs the embedded sandbox, which is not installed: "
            "pip install 'ecr-cleaner[sandbox]'"
        ) from exc


def _check_outputs(args: argparse.Namespace) -> None:
    """Every file the command will write must be writable before any AWS call: finding
    out after the deletions would lose their only record."""
    problems = [
        file_problem(path)
        for option in ("output", "report", "html")
        if (path := getattr(args, option, None))
    ]
    if getattr(args, "report_dir", None):
        problems.append(directory_problem(args.report_dir))
    found = [p for p in problems if p]
    if found:
        raise UsageError("; ".join(found))


def _shard_options() -> argparse.ArgumentParser:
    from cleaner.run.shard import SHARD_COUNT_ENV, SHARD_ENV

    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--shard",
        dest="shard_arg",
        metavar="K/N",
        help=f"only the repositories of shard K of N (from 0); default ${SHARD_ENV}",
    )
    options.add_argument(
        "--shard-count",
        dest="shard_count_arg",
        metavar="N",
        help=f"N shards, this one's K from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); "
        f"default ${SHARD_COUNT_ENV}",
    )
    return options


def _shard(args: argparse.Namespace) -> Any:
    """The Shard to run (None: every repository), from the options and environment."""
    from cleaner.run.shard import ShardError, resolve_shard

    try:
        return resolve_shard(args.shard_arg, args.shard_count_arg, os.environ)
    except ShardError as exc:
        raise UsageError(str(exc)) from exc


def _load(path: str | None) -> Config:
    from cleaner.config.load import ConfigError, load_config

    if not path:
        raise UsageError(f"--config is required (or set {CONFIG_ENV})")
    try:
        return load_config(path)
    except ConfigError as exc:
        raise ConfigInvalid(str(exc)) from exc


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


def _run(args: argparse.Namespace, config: Config, now: datetime) -> int:
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
            RunOptions(dry_run=dry_run, shard=args.shard, stop=stop, progress=progress),
        )
        written = _write_outputs(args, dry_run, result.report)
    append_step_summary(result.report, os.environ)
    if args.command == "run":
        args.notifier.send(RunOutcome(result.report, result.exit_code, result.stopped_by))
    if not written and result.exit_code == ExitCode.OK:
        return ExitCode.FAILURES
    return result.exit_code


def _notifier(config_path: str, config: Config) -> Any:
    """Webhook URLs are read from the environment now: an unset variable is a usage
    error before any AWS call."""
    from cleaner.notify.send import Notifier, NotifyConfigError

    try:
        return Notifier.from_config(config.notify, os.environ)
    except NotifyConfigError as exc:
        raise UsageError(f"{config_path}: {exc}") from exc


def _run_format(args: argparse.Namespace, dry_run: bool) -> str | None:
    """What `run` prints on stdout (None: nothing)."""
    if args.format:
        return str(args.format)
    if dry_run:  # the same as `plan --format json`, or only the --report file
        return None if args.report else "json"
    return "summary" if sys.stdout.isatty() else "table"


def _write_outputs(args: argparse.Namespace, dry_run: bool, result_report: Any) -> bool:
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


def _save_lost_report(text: str, path: str | None, exc: OSError, result_report: Any) -> None:
    import structlog

    log = structlog.get_logger("cleaner.cli")
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


def _whole(unit: str) -> Callable[[str], int]:
    """An option's type: a whole number >= 0 of `unit`, which the error message names."""

    def parse(text: str) -> int:
        if not (text.isascii() and text.isdigit()):
            raise argparse.ArgumentTypeError(
                f"expected a whole number of {unit} >= 0, got {text!r}"
            )
        return int(text)

    return parse


def _add_serve(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve", parents=parents, help="long-running: clean on the policy's schedule"
    )
    serve.add_argument("--dry-run", action="store_true", help="plan only; delete nothing")
    serve.add_argument(
        "--once", action="store_true", help="one pass now, exit with its code (no schedule)"
    )
    serve.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="/healthz and /metrics (default 127.0.0.1:8080; the container uses 0.0.0.0:8080)",
    )
    serve.add_argument(
        "--report-dir", help="write each run's JSON and HTML reports into this directory"
    )
    serve.add_argument(
        "--keep-reports",
        type=_whole("reports"),
        default=30,
        metavar="N",
        help="keep the newest N reports in --report-dir (default 30; 0 keeps all)",
    )
    serve.add_argument(
        "--jitter",
        type=_whole("seconds"),
        default=0,
        metavar="SECONDS",
        help="start each run up to this much later, at random (default 0)",
    )
    serve.add_argument(
        "--misfire-grace",
        type=_whole("seconds"),
        default=3600,
        metavar="SECONDS",
        help="a run that could not start on time still starts within this (default 3600)",
    )


def _add_restore(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    restore = commands.add_parser(
        "restore", parents=parents, help="bring archived images back to standard storage"
    )
    which = restore.add_mutually_exclusive_group(required=True)
    which.add_argument("--report", help="every image the run of this JSON report archived")
    which.add_argument("--repository", help="the repository of the images named by --digest")
    restore.add_argument("--digest", nargs="+", metavar="DIGEST", help="images to restore")
    restore.add_argument("--region", help="with --repository (default: the config's region)")
    restore.add_argument("--registry-id", help="with --repository (default: the target's)")
    restore.add_argument("--format", choices=["table", "json"], default="table")


def _serve(args: argparse.Namespace, config: Config) -> int:
    from cleaner.serve.command import serve_command

    return serve_command(args, config)


def _in_use(args: argparse.Namespace, config: Config) -> int:
    from cleaner import logs
    from cleaner.aws.clients import Clients
    from cleaner.inuse_command import in_use_command

    logs.configure(args.log_format, args.log_level)
    return in_use_command(config, Clients(), output=args.format)


def _seed(text: str) -> str:
    from cleaner.sandbox.bulk import seed_option

    return seed_option(text)


def serve_sandbox(port: int, seed: str | None) -> int:
    import tempfile

    from cleaner.sandbox import Sandbox
    from cleaner.sandbox.bulk import seed_named
    from cleaner.sandbox.demo import DEMO_CLUSTER, seed_demo

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(port=port) as sandbox, tempfile.TemporaryDirectory() as scratch:
        if seed == "demo":
            seed_demo(sandbox.store, datetime.now(UTC), sandbox.kube_seeder(DEMO_CLUSTER))
        elif seed is not None:
            seed_named(sandbox.store, seed, datetime.now(UTC), lambda line: print(line, flush=True))
        print(f"ECR sandbox listening on {sandbox.endpoint_url}", flush=True)
        print("Point the AWS SDKs and CLI, and the kubernetes source, at it with:", flush=True)
        variables = sandbox.environment()
        if sandbox.kube.clusters:
            variables["KUBECONFIG"] = str(sandbox.kubeconfig(Path(scratch) / "kubeconfig"))
        for name, value in variables.items():
            print(f"export {name}={value}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    print("sandbox stopped", file=sys.stderr)
    return ExitCode.OK

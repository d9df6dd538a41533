"""Plan every repository, check limits.max_deletions over the whole plan, then execute:
on threads, and with limits.processes above 1 on worker processes too.

One Python process runs Python code on one core at a time, so a run over a large
registry is bound by one core: parsing answers, signing requests, planning. With more
than one process, the workers are started as the run begins (a fresh interpreter's
imports and clients take about half a second, spent while this process lists the
repositories and reads the in-use sources); then this process and the workers plan
the repositories, and execute what each planned, as cleaner/run/fanout.py says.

Clients or pacing handed in by the caller (tests, a custom boto3 session) cannot be
sent to another process: such a run stays in one.
"""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial

import structlog

from cleaner import logs
from cleaner.aws.clients import Clients
from cleaner.aws.pacing import Pacing
from cleaner.config.model import Config, Limits
from cleaner.core.model import RepositoryPlan
from cleaner.core.planner import check_max_deletions
from cleaner.run import wire
from cleaner.run.cores import usable_cores
from cleaner.run.finish import finish
from cleaner.run.scan import Planned, Planner, Work, in_pool

log = structlog.get_logger("cleaner.run.pipeline")


@dataclass(frozen=True)
class Outcome:
    results: list[RepositoryPlan]  # sorted by repository
    warnings: tuple[str, ...]  # repositories not found, then each plan's, in report order
    warning: str | None  # limits.max_deletions exceeded
    limit_hit: bool  # ... and so nothing was deleted


def plan_and_execute(planner: Planner, *, dry_run: bool) -> Outcome:
    """The run's plan and its execution (`planner` holds the run's stop and progress)."""
    from cleaner.run.fanout import Fanout  # imports the worker's side: only when needed
    from cleaner.run.fleet import Fleet

    config = planner.config
    wanted = _wanted(planner)
    fleet = None
    if wanted > 1:
        hello = wire.Hello(
            config,
            planner.now,
            dry_run,
            logs.settings(),
            structlog.contextvars.get_contextvars(),
        )
        fleet = Fleet(
            hello,
            wanted - 1,
            progress=planner.progress,
            cache=planner.cache,
            stop=planner.stop,
        )
    try:
        with ThreadPoolExecutor(config.limits.concurrency, thread_name_prefix="cleaner") as pool:
            work, reported = planner.scan_all(pool)
            processes = min(wanted, len(work), 1 + len(fleet.workers) if fleet else 1)
            if fleet is None or processes < 2:
                if fleet is not None:
                    fleet.keep(0)
                return in_one_process(planner, pool, work, reported, dry_run=dry_run)
        fleet.keep(processes - 1)
        return Fanout(planner, fleet, work, reported, dry_run=dry_run).run()
    finally:
        if fleet is not None:
            fleet.close()


def in_one_process(
    planner: Planner,
    pool: Executor,
    work: list[Work],
    reported: list[Planned],
    *,
    dry_run: bool,
) -> Outcome:
    planned = planner.plan_scanned(pool, work, reported)
    warning = check_max_deletions([p.plan for p in planned], planner.config.limits)
    limit_hit = decide(warning, dry_run)
    step = partial(
        finish, limit_hit=limit_hit, dry_run=dry_run, stop=planner.stop, progress=planner.progress
    )
    return Outcome(in_pool(pool, step, planned), tuple(planner.warnings), warning, limit_hit)


def decide(warning: str | None, dry_run: bool) -> bool:
    """Whether limits.max_deletions stops the run (a dry run only warns)."""
    if warning:
        log.warning("max_deletions_exceeded", message=warning, dry_run=dry_run)
    return warning is not None and not dry_run


def wanted_processes(config: Config) -> int:
    """limits.processes (default: the usable cores), never more than limits.concurrency:
    each process needs a thread of its own."""
    limits = config.limits
    wanted = limits.processes if limits.processes is not None else usable_cores()
    return max(1, min(wanted, limits.concurrency))


def process_count(config: Config, repositories: int) -> int:
    """The processes a run of `repositories` repositories uses (clients of its own)."""
    return max(1, min(wanted_processes(config), repositories))


def _wanted(planner: Planner) -> int:
    # A worker makes its own clients from its environment and paces itself with the
    # real clock: clients or pacing handed in stay in one process.
    clients = planner.clients
    portable = isinstance(clients, Clients) and clients.portable and planner.pacing == Pacing()
    if not portable or planner.stop.requested():
        return 1
    return wanted_processes(planner.config)


def share_limits(limits: Limits, shares: int) -> Limits:
    """Each process's limits: its share of the request rate. Every process may run
    limits.concurrency threads: the run's slots (cleaner/run/slots.py) keep the
    repositories worked on at once to limits.concurrency in all."""
    rate = limits.requests_per_second
    return replace(limits, requests_per_second=None if rate is None else rate / shares, processes=1)

"""What a run's first process and its worker processes (limits.processes) say to each
other, over one pipe per worker. Everything is pickled; nothing here talks to AWS.

    first -> worker:  Hello (at start), Go (its share of the limits), then
                      Item or NO_MORE for each NEXT; DECIDED once; GO_AHEAD for
                      each EXECUTE; STOP any time
    worker -> first:  NEXT (one more repository to plan, please); PLANNED per
                      repository; EXECUTE (may I execute this one now?) for each that
                      makes calls; RESULT per repository; PROGRESS and LOG as they
                      come; FINISHED at the end, or CRASHED with a traceback

Each NEXT and EXECUTE waits for a slot of limits.concurrency (cleaner/run/slots.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cleaner.config.model import Config, Limits
from cleaner.core.model import RepositoryRef
from cleaner.core.references import UsageIndex

# first -> worker, besides the dataclasses below
NO_MORE = "no_more"  # (NO_MORE,): every repository has been handed out
STOP = "stop"  # (STOP, cause, exit code or None): stop before the next batch
DECIDED = "decided"  # (DECIDED, limit_hit): plan checked, execute (or not)
GO_AHEAD = "go_ahead"  # (GO_AHEAD, position): execute it now

# worker -> first
NEXT = "next"  # (NEXT,)
PLANNED = "planned"  # (PLANNED, position, (images, archives, tags) it would delete)
EXECUTE = "execute"  # (EXECUTE, position)
RESULT = "result"  # (RESULT, position, RepositoryPlan, the repository's manifest cache)
PROGRESS = "progress"  # (PROGRESS, {Snapshot field: amount})
LOG = "log"  # (LOG, "stderr" or "stdout", rendered lines)
FINISHED = "finished"  # (FINISHED,)
CRASHED = "crashed"  # (CRASHED, traceback text)


@dataclass(frozen=True)
class Hello:
    """Sent as a worker starts, before the repositories are known: enough to import
    everything and make its clients meanwhile."""

    config: Config
    now: datetime  # the policy's clock, read once by the first process
    dry_run: bool
    logging: tuple[str, str] | None  # cleaner.logs.settings() of the first process
    context: dict[str, Any] = field(default_factory=dict)  # structlog's bound context


@dataclass(frozen=True)
class Go:
    """The worker's limits: its share of limits.requests_per_second."""

    limits: Limits


@dataclass(frozen=True)
class Item:
    """One repository to plan: its position in the run's list of work (so results go
    back in order), its target's position in config.targets, the in-use usages that
    can name its images, and the index manifests the first process already knows."""

    position: int
    target: int
    repository: RepositoryRef
    usages: UsageIndex | None
    manifests: dict[str, tuple[str, ...]]

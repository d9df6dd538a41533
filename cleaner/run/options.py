"""How one run goes: what `run_once` takes besides the policy, the clients and `now`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cleaner.aws.ecr import ManifestCache
from cleaner.aws.pacing import Pacing
from cleaner.core.model import Shard
from cleaner.run.progress import Progress
from cleaner.run.stopping import StopRequest


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunOptions:
    """The one dry-run switch, and what a caller may lend a run.

    `dry_run` has no default: every caller says which it means."""

    dry_run: bool
    # Manifests are immutable: serve lends one cache to every run; a new one otherwise.
    cache: ManifestCache = field(default_factory=ManifestCache)
    # Stamps the report's start and finish only; the policy's clock is run_once's `now`.
    clock: Callable[[], datetime] = _utcnow
    # Asked between repositories and batches; once requested, what is left is reported
    # as not attempted and the exit code is the signal's (130/143).
    stop: StopRequest = field(default_factory=StopRequest)
    shard: Shard | None = None  # only this shard's repositories (None: all)
    pacing: Pacing = field(default_factory=Pacing)  # the request-rate caps' clock and sleep
    # The counters a display, a log event or serve's gauges show while the run goes on.
    progress: Progress = field(default_factory=Progress)

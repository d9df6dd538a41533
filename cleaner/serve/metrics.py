"""Prometheus metrics of `serve`, in a registry of their own.

A dedicated CollectorRegistry (not prometheus_client's global one) keeps two services
in one process — tests, mostly — from sharing counters.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric

from cleaner import __version__
from cleaner.config.notify_model import NotifyKind
from cleaner.core.model import Status
from cleaner.exitcodes import OUTCOMES
from cleaner.report.model import REPOSITORY_FAILED, RunReport
from cleaner.run.progress import Snapshot

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Runs take seconds on a small registry, up to an hour or more on 100k-image ones.
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, float("inf"))
PROGRESS_STATES = ("listed", "planned", "done")
NOTIFY_KINDS = tuple(NotifyKind)


class _WithoutCreated:
    """The registry's metrics minus their `*_created` samples.

    prometheus_client adds a `_created` series (when the series was made, Unix time) to
    every counter and histogram; in the text format it is one more gauge per series,
    which Prometheus stores and nothing here reads. Its own switch,
    `disable_created_metrics()`, flips a module-wide flag for every registry in the
    process, including ones that other code (a host application, a library) exports
    and may rely on. Filtering at render time changes this registry's output only.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry.collect():
            created = metric.name + "_created"
            kept = copy.copy(metric)  # a new samples list; the collected family is left alone
            kept.samples = [s for s in metric.samples if s.name != created]
            yield kept


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.runs = Counter("ecr_cleaner_runs", "Cleaning runs by outcome", ["outcome"], registry=r)
        for outcome in OUTCOMES:
            self.runs.labels(outcome)  # every outcome exported from the start, at 0
        # What was really deleted: a dry run (`serve --dry-run`) deletes nothing and adds
        # nothing here, so a sum over these never mixes plans with deletions.
        self.images_deleted = Counter("ecr_cleaner_images_deleted", "Images deleted", registry=r)
        self.images_archived = Counter(
            "ecr_cleaner_images_archived", "Images moved to ECR archive storage", registry=r
        )
        self.tags_removed = Counter(
            "ecr_cleaner_tags_removed", "Tags removed from images kept", registry=r
        )
        self.bytes_reclaimed = Counter(
            "ecr_cleaner_bytes_reclaimed", "Sum of imageSizeInBytes of deleted images", registry=r
        )
        self.failures = Counter(
            "ecr_cleaner_failures",
            "Failed deletions by ECR failure code, and failed repositories",
            ["code"],
            registry=r,
        )
        self.images_scanned = Gauge(
            "ecr_cleaner_images_scanned", "Images listed by the last finished run", registry=r
        )
        self.last_success = Gauge(
            "ecr_cleaner_last_success_timestamp_seconds",
            "When the last run that exited 0 finished (Unix time)",
            registry=r,
        )
        self.last_run = Gauge(
            "ecr_cleaner_last_run_timestamp_seconds",
            "When the last run finished, whatever its outcome (Unix time)",
            registry=r,
        )
        self.next_run = Gauge(
            "ecr_cleaner_next_run_timestamp_seconds",
            "When the next run is scheduled (Unix time; 0: none)",
            registry=r,
        )
        self.in_progress = Gauge(
            "ecr_cleaner_run_in_progress", "1 while a run is going on", registry=r
        )
        self.duration = Histogram(
            "ecr_cleaner_run_duration_seconds",
            "Wall time of each run",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        # The run in flight, as the terminal display shows it; all 0 between runs.
        self.progress_repositories = Gauge(
            "ecr_cleaner_run_progress_repositories",
            "Repositories of the run in flight: listed (the total once listing is done), "
            "planned, done",
            ["state"],
            registry=r,
        )
        for state in PROGRESS_STATES:
            self.progress_repositories.labels(state)
        self.progress_images = Gauge(
            "ecr_cleaner_run_progress_images_scanned",
            "Images listed so far by the run in flight",
            registry=r,
        )
        self.progress_deletions = Gauge(
            "ecr_cleaner_run_progress_deletions",
            "Images deleted plus tags removed so far by the run in flight (planned, if dry)",
            registry=r,
        )
        self.notifications_failed = Counter(
            "ecr_cleaner_notifications_failed",
            "Notifications that could not be sent (after their retries), by kind",
            ["kind"],
            registry=r,
        )
        for kind in NOTIFY_KINDS:
            self.notifications_failed.labels(kind)
        # The usual build_info idiom: join on it to see which version produced a series.
        self.build_info = Gauge(
            "ecr_cleaner_build_info", "The running ecr-cleaner's version", ["version"], registry=r
        )
        self.build_info.labels(__version__).set(1)
        self._exported = _WithoutCreated(self.registry)

    def observe(
        self,
        report: RunReport | None,
        outcome: str,
        *,
        finished: datetime,
        duration: float,
    ) -> None:
        """Count one finished run (`outcome`: see outcome_of); `report` is None when the
        run raised."""
        self.runs.labels(outcome).inc()
        self.duration.observe(duration)
        self.last_run.set(finished.timestamp())
        if outcome == "success":
            self.last_success.set(finished.timestamp())
        if report is None:
            return
        summary = report.summary()
        if report.mode != "plan":  # a plan's summary counts what it would delete
            self.images_deleted.inc(summary["images_deleted"])
            self.images_archived.inc(summary["images_archived"])
            self.tags_removed.inc(summary["tags_removed"])
            self.bytes_reclaimed.inc(summary["bytes_reclaimed"])
        self.images_scanned.set(summary["images_scanned"])
        for repository in report.repositories:
            if repository.failed:
                self.failures.labels(REPOSITORY_FAILED).inc()
            for action in repository.actions:
                if action.status is Status.FAILED:
                    self.failures.labels(action.failure_code or "Unknown").inc()

    def progress_sink(self) -> ProgressGauges:
        return ProgressGauges(self)

    def set_next_run(self, when: datetime | None) -> None:
        self.next_run.set(when.timestamp() if when is not None else 0)

    def render(self) -> bytes:
        return generate_latest(self._exported)


class ProgressGauges:
    """A progress sink: the run in flight's counts as gauges, back to 0 when it ends."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def update(self, snapshot: Snapshot) -> None:
        counts = (snapshot.repositories, snapshot.planned, snapshot.done)
        for state, value in zip(PROGRESS_STATES, counts, strict=True):
            self.metrics.progress_repositories.labels(state).set(value)
        self.metrics.progress_images.set(snapshot.images_scanned)
        self.metrics.progress_deletions.set(snapshot.deletions)

    def close(self, snapshot: Snapshot) -> None:
        self.update(Snapshot())

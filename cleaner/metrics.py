"""Prometheus metrics of `serve`, in a registry of their own.

A dedicated CollectorRegistry (not prometheus_client's global one) keeps two services
in one process — tests, mostly — from sharing counters.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from cleaner.model import Status
from cleaner.report import RunReport

CONTENT_TYPE = CONTENT_TYPE_LATEST
OUTCOMES = ("success", "failures", "limit", "stopped", "error")
# A repository that could not be listed, planned or deleted from has no per-image code.
REPOSITORY_FAILED = "RepositoryFailed"
# Runs take seconds on a small registry, up to an hour or more on 100k-image ones.
DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, float("inf"))


def outcome_of(exit_code: int | None, *, stopped: bool = False) -> str:
    """`runs_total{outcome}` for a run's exit code (None: the run raised). A run that a
    stop request cut short is `stopped` whatever else happened: it did not finish."""
    if exit_code is None:
        return "error"
    if stopped:
        return "stopped"
    return {0: "success", 1: "failures", 3: "limit"}.get(exit_code, "error")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.runs = Counter("ecr_cleaner_runs", "Cleaning runs by outcome", ["outcome"], registry=r)
        for outcome in OUTCOMES:
            self.runs.labels(outcome)  # every outcome exported from the start, at 0
        # mode="run" counts what was deleted, mode="plan" what a dry run would delete.
        self.images_deleted = Counter(
            "ecr_cleaner_images_deleted", "Images deleted", ["mode"], registry=r
        )
        self.tags_removed = Counter(
            "ecr_cleaner_tags_removed", "Tags removed from images kept", ["mode"], registry=r
        )
        self.bytes_reclaimed = Counter(
            "ecr_cleaner_bytes_reclaimed",
            "Sum of imageSizeInBytes of deleted images",
            ["mode"],
            registry=r,
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
        mode = report.mode
        self.images_deleted.labels(mode).inc(summary["images_deleted"])
        self.tags_removed.labels(mode).inc(summary["tags_removed"])
        self.bytes_reclaimed.labels(mode).inc(summary["bytes_reclaimed"])
        self.images_scanned.set(summary["images_scanned"])
        for repository in report.repositories:
            if repository.failed:
                self.failures.labels(REPOSITORY_FAILED).inc()
            for action in repository.actions:
                if action.status is Status.FAILED:
                    self.failures.labels(action.failure_code or "Unknown").inc()

    def set_next_run(self, when: datetime | None) -> None:
        self.next_run.set(when.timestamp() if when is not None else 0)

    def render(self) -> bytes:
        return generate_latest(self.registry)

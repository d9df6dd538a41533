"""`protect.in_use`: read a target's in-use sources once, and fail closed.

An image that a running workload uses must never be deleted, and the cleaner only
knows what its sources tell it. So a source that cannot be read makes the whole
target untouchable for this run (the runner reports why and exits 1), rather than
letting the cleaner delete on a partial view.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

import structlog

from cleaner.config.model import InUseSource, Target
from cleaner.core.references import Usage
from cleaner.errors import error_text
from cleaner.inuse import kubernetes, sources

log = structlog.get_logger("cleaner.inuse.reader")

LABEL_MAX = 80
# Handed to a `command` source, so one script can serve several targets.
REGION_ENV = "ECR_CLEANER_REGION"
REGISTRY_ENV = "ECR_CLEANER_REGISTRY_ID"


class TargetClients(Protocol):
    def for_target(self, service: str, target: Target, lane: str = "") -> Any: ...


class InUseUnavailable(Exception):
    """A source of the target could not be read; str() names it and says why."""


def label(source: InUseSource) -> str:
    """How the report and the log name a source: `ecs`, `command kubectl get pods ...`."""
    options = dict(source.options)
    if source.kind == "command":
        argv = options.get("argv", ())
        assert isinstance(argv, tuple)
        text = "command " + " ".join(str(a) for a in argv)
    elif source.kind == "file":
        text = f"file {options.get('path')}"
    elif source.kind == kubernetes.KIND:
        text = kubernetes.label(options)
    else:
        text = source.kind
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 3] + "..."


class InUseReader:
    """Reads sources for one run; `run` stands in for subprocess.run in tests."""

    def __init__(self, clients: TargetClients, *, run: sources.Runner = subprocess.run) -> None:
        self.clients = clients
        self.run = run

    def read(self, target: Target, wanted: Sequence[InUseSource]) -> dict[InUseSource, list[Usage]]:
        """What each source reports for `target`, each source read once; raises
        InUseUnavailable if any one of them cannot be read completely."""
        usages: dict[InUseSource, list[Usage]] = {}
        for source in dict.fromkeys(wanted):
            try:
                found = self._read(target, source)
            except Exception as exc:  # whatever went wrong, nothing is deleted on a guess
                message = f"in-use source {label(source)} could not be read: {error_text(exc)}"
                log.error(
                    "in_use_source_failed",
                    source=label(source),
                    region=target.region,
                    registry_id=target.registry_id,
                    error=message,
                )
                raise InUseUnavailable(message) from exc
            log.info(
                "in_use_source_read",
                source=label(source),
                region=target.region,
                registry_id=target.registry_id,
                references=len(found),
            )
            usages[source] = found
        return usages

    def _read(self, target: Target, source: InUseSource) -> list[Usage]:
        options = dict(source.options)
        if source.kind == "ecs":
            revisions = options.get("task_definition_revisions", 0)
            assert isinstance(revisions, int)
            client = self.clients.for_target("ecs", target)
            return sources.read_ecs(client, task_definition_revisions=revisions)
        if source.kind == "lambda":
            return sources.read_lambda(self.clients.for_target("lambda", target))
        if source.kind == "command":
            argv, timeout = options["argv"], options.get("timeout")
            assert isinstance(argv, tuple) and isinstance(timeout, timedelta | None)
            environment = {REGION_ENV: target.region, REGISTRY_ENV: target.registry_id or ""}
            return sources.read_command(
                argv, timeout=timeout, environment=environment, run=self.run
            )
        if source.kind == "file":
            return sources.read_file(str(options["path"]))
        if source.kind == kubernetes.KIND:
            return kubernetes.read_kubernetes(options)
        raise sources.SourceError(f"unknown in-use source kind {source.kind!r}")

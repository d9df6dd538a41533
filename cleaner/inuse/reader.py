"""`protect.in_use`: read a target's in-use sources once, and fail closed.

An image that a running workload uses must never be deleted, and the cleaner only
knows what its sources tell it. So a source that cannot be read makes the whole
target untouchable for this run (the runner reports why and exits 1), rather than
letting the cleaner delete on a partial view.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

import structlog

from cleaner.config.model import InUseSource, Target
from cleaner.core.references import Usage
from cleaner.errors import error_text
from cleaner.inuse import kinds
from cleaner.inuse.kinds import Runner, SourceRequest
from cleaner.inuse.kinds import TargetClients as TargetClients
from cleaner.inuse.reading import SourceError

log = structlog.get_logger("cleaner.inuse.reader")

LABEL_MAX = 80


class InUseUnavailable(Exception):
    """A source of the target could not be read; str() names it and says why."""


def label(source: InUseSource) -> str:
    """How the report and the log name a source: `ecs`, `command kubectl get pods ...`."""
    kind = kinds.named(source.kind)
    text = kind.label_of(dict(source.options)) if kind else source.kind
    return text if len(text) <= LABEL_MAX else text[: LABEL_MAX - 3] + "..."


class InUseReader:
    """Reads sources for one run; `run` stands in for subprocess.run in tests."""

    def __init__(self, clients: TargetClients, *, run: Runner = subprocess.run) -> None:
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
        kind = kinds.named(source.kind)
        if kind is None:
            raise SourceError(f"unknown in-use source kind {source.kind!r}")
        options = kind.with_defaults(dict(source.options))
        return kind.read(SourceRequest(target, options, self.clients, self.run))

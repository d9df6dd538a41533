"""The log event of each action the executor finishes: its name says what happened
(`image_deleted`, `tags_removed`, `image_archived`, `action_skipped`, ...)."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from cleaner.core.model import Action, ActionKind, Status

EVENTS: dict[tuple[ActionKind, Status], str] = {
    (ActionKind.DELETE_IMAGE, Status.DELETED): "image_deleted",
    (ActionKind.REMOVE_TAG, Status.DELETED): "tags_removed",
    (ActionKind.ARCHIVE_IMAGE, Status.ARCHIVED): "image_archived",
}


def log_action(bound: structlog.typing.FilteringBoundLogger, action: Action, dry_run: bool) -> None:
    """One event per action. What a dry run would do is its report, not its log: it is
    logged at debug level only, as `image_planned`; failures are warnings in any mode."""
    event = EVENTS.get((action.kind, action.status), f"action_{action.status.value}")
    emit: Callable[..., object] = bound.info
    if action.status is Status.FAILED:
        emit = bound.warning
    elif dry_run:
        emit = bound.debug
        event = "image_planned" if action.status is Status.PLANNED else event
    emit(
        event,
        kind=action.kind.value,
        status=action.status.value,
        digest=action.digest,
        tags=list(action.tags),
        rule=action.rule,
        reason=action.reason,
        size_bytes=action.size_bytes,
        failure_code=action.failure_code,
    )

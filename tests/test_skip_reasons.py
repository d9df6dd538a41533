"""Skip reasons are values; the report's wording is rendered from them."""

from __future__ import annotations

import pytest

from cleaner.core.model import Action, ActionKind, SkipKind, SkipReason, Status
from cleaner.run.stopping import StopRequest


@pytest.mark.parametrize(
    ("why", "text", "not_attempted"),
    [
        (SkipReason(SkipKind.STOPPED, "SIGTERM"), "not attempted: stopped by SIGTERM", True),
        (SkipReason(SkipKind.LIMIT), "not attempted: stopped by limits.max_deletions", True),
        (SkipReason(SkipKind.REPOSITORY_FAILED), "not attempted: the repository failed", True),
        (SkipReason(SkipKind.AFTER_ERROR), "not attempted", True),
        (SkipReason(SkipKind.IMAGE_GONE), "changed since inventory: image gone", False),
        (
            SkipReason(SkipKind.TAGS_CHANGED, "v1, v2"),
            "changed since inventory: tags now v1, v2",
            False,
        ),
        (SkipReason(SkipKind.STILL_REFERENCED), "still referenced by an index", False),
        (
            SkipReason(SkipKind.PARENT_NOT_DELETED, "sha256:ab"),
            "parent sha256:ab was not deleted",
            False,
        ),
        (
            SkipReason(SkipKind.PARENT_NOT_ARCHIVED, "sha256:ab"),
            "parent sha256:ab was not archived",
            False,
        ),
        (
            SkipReason(SkipKind.STORAGE_CHANGED, "now ARCHIVED"),
            "changed since inventory: now ARCHIVED",
            False,
        ),
    ],
)
def test_each_skip_reason_renders_the_reports_wording(
    why: SkipReason, text: str, not_attempted: bool
) -> None:
    assert str(why) == text
    assert why.kind.not_attempted is not_attempted


def test_a_skipped_action_keeps_its_reason_and_says_why() -> None:
    action = Action(ActionKind.DELETE_IMAGE, "sha256:1", (), "old", "pushed 9d ago", 10)
    skipped = action.skipped(SkipReason(SkipKind.LIMIT))
    assert skipped.status is Status.SKIPPED
    assert skipped.skip == SkipReason(SkipKind.LIMIT)
    assert skipped.reason == "pushed 9d ago; not attempted: stopped by limits.max_deletions"


@pytest.mark.parametrize(("cause", "detail"), [("SIGINT", "SIGINT"), (None, "shutdown")])
def test_a_stop_request_names_its_cause(cause: str | None, detail: str) -> None:
    stop = StopRequest()
    if cause is not None:
        stop.request(cause)
    assert stop.skip_reason == SkipReason(SkipKind.STOPPED, detail)
    assert stop.reason == f"stopped by {detail}"

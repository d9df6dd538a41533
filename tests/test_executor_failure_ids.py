"""Failures are matched to actions whichever half of the id the endpoint echoes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from cleaner.aws.ecr import DeleteResult
from cleaner.core.model import Action, ActionKind, Image, RepositoryPlan, RepositoryRef, Status
from cleaner.run.executor import execute

REF = RepositoryRef("us-east-1", "123456789012", "app")
PUSHED = datetime(2026, 1, 1, tzinfo=UTC)
GONE = "sha256:" + "a" * 64
UNTAG = "sha256:" + "b" * 64


class EchoingRegistry:
    """Describes images as planned; fails every id, echoing `echo` in each failure."""

    def __init__(self, echo: str) -> None:
        self.echo = echo
        self.images = {
            GONE: Image(GONE, ("old",), PUSHED),
            UNTAG: Image(UNTAG, ("stale", "keep"), PUSHED),
        }

    def describe(self, repository: str, digests: Sequence[str]) -> dict[str, Image]:
        return {d: self.images[d] for d in digests}

    def delete(self, repository: str, image_ids: Sequence[dict[str, str]]) -> DeleteResult:
        failures = []
        for image_id in image_ids:
            digest = image_id.get("imageDigest") or UNTAG
            full = {"imageDigest": digest, "imageTag": image_id.get("imageTag", "old")}
            echoed = full if self.echo == "both" else dict(image_id)
            failures.append({"imageId": echoed, "failureCode": "KmsError", "failureReason": "x"})
        return DeleteResult([], failures)


@pytest.mark.parametrize("echo", ["sent", "both"])
def test_failures_are_matched_whatever_the_endpoint_echoes(echo: str) -> None:
    actions = (
        Action(ActionKind.DELETE_IMAGE, GONE, ("old",), "r", "why", 1),
        Action(ActionKind.REMOVE_TAG, UNTAG, ("stale",), "r", "why", 0),
    )
    plan = RepositoryPlan(REF, "p", 2, actions)
    registry: Any = EchoingRegistry(echo)
    expected = {GONE: ("old",), UNTAG: ("stale", "keep")}
    result = execute(plan, registry, expected, dry_run=False)
    assert [(a.status, a.failure_code) for a in result.actions] == [
        (Status.FAILED, "KmsError"),
        (Status.FAILED, "KmsError"),
    ]

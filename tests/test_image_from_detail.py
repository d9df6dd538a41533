"""An ECR image detail (as botocore, or the compiled parser, gives it) to an Image."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cleaner.aws.ecr import image_from_detail
from cleaner.core.model import Image, ImageStatus

DIGEST = "sha256:" + "ab" * 32
PUSHED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = datetime(2026, 6, 1, tzinfo=UTC)
EARLIER = datetime(2025, 6, 1, tzinfo=UTC)
BASE = {"imageDigest": DIGEST, "imagePushedAt": PUSHED}


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        (
            BASE,
            Image(DIGEST, (), PUSHED, media_type="", status=ImageStatus.ACTIVE),
        ),
        (
            {
                **BASE,
                "imageTags": ["v1", "latest"],
                "lastRecordedPullTime": LATER,
                "imageSizeInBytes": 1234,
                "imageManifestMediaType": "application/vnd.oci.image.index.v1+json",
                "artifactMediaType": "application/vnd.dev.cosign.artifact.sig.v1+json",
                "subjectManifestDigest": "sha256:" + "cd" * 32,
            },
            Image(
                DIGEST,
                ("v1", "latest"),
                PUSHED,
                last_pulled=LATER,
                size=1234,
                media_type="application/vnd.oci.image.index.v1+json",
                artifact_media_type="application/vnd.dev.cosign.artifact.sig.v1+json",
                subject="sha256:" + "cd" * 32,
            ),
        ),
        (  # restored: counts as pushed when it was restored
            {**BASE, "lastActivatedAt": LATER, "imageStatus": "ACTIVE"},
            Image(DIGEST, (), LATER, media_type=""),
        ),
        (  # an activation before the push (a re-push since): the push
            {**BASE, "lastActivatedAt": EARLIER},
            Image(DIGEST, (), PUSHED, media_type=""),
        ),
        (
            {**BASE, "imageStatus": "ARCHIVED", "lastArchivedAt": LATER},
            Image(
                DIGEST, (), PUSHED, media_type="", status=ImageStatus.ARCHIVED, archived_at=LATER
            ),
        ),
        (
            {**BASE, "imageStatus": "ACTIVATING", "imageTags": None, "imageSizeInBytes": None},
            Image(DIGEST, (), PUSHED, media_type="", status=ImageStatus.ACTIVATING),
        ),
        (  # times without a zone are UTC
            {**BASE, "imagePushedAt": PUSHED.replace(tzinfo=None), "lastRecordedPullTime": None},
            Image(DIGEST, (), PUSHED, media_type=""),
        ),
    ],
)
def test_image_from_detail(detail: dict[str, Any], expected: Image) -> None:
    image = image_from_detail(detail)
    assert image == expected
    assert image.pushed_at.tzinfo is not None and isinstance(image.status, ImageStatus)


def test_an_unknown_status_is_an_error() -> None:
    with pytest.raises(ValueError, match="SOMETHING_NEW"):
        image_from_detail({**BASE, "imageStatus": "SOMETHING_NEW"})

"""A full-size repository (ECR's default quota: 100,000 images) stays cheap to page and edit."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import REPO, T0, error_code

from cleaner.sandbox import RepoSeeder, Sandbox

pytestmark = pytest.mark.slow  # 100,000 images: ~12 s

COUNT = 100_000


def test_page_and_delete_in_a_100k_image_repository(
    sb: Sandbox, ecr: Any, repo: RepoSeeder
) -> None:
    digests = repo.bulk(COUNT, start=T0)
    page_sizes: list[int] = []
    seen: set[str] = set()
    kwargs: dict[str, Any] = {"repositoryName": REPO, "maxResults": 1000}
    while True:
        page = ecr.describe_images(**kwargs)
        page_sizes.append(len(page["imageDetails"]))
        seen.update(d["imageDigest"] for d in page["imageDetails"])
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert page_sizes == [1000] * 100
    assert len(seen) == COUNT
    assert seen == set(digests)
    assert sb.faults.calls["DescribeImages"] == 100

    doomed = digests[40_000:40_100]
    response = ecr.batch_delete_image(
        repositoryName=REPO, imageIds=[{"imageDigest": d} for d in doomed]
    )
    assert response["failures"] == []
    assert {i["imageDigest"] for i in response["imageIds"]} == set(doomed)
    remaining = repo.snapshot()
    assert len(remaining) == COUNT - 100
    assert not remaining.keys() & set(doomed)
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName=REPO, imageIds=[{"imageDigest": doomed[0]}])
    assert error_code(excinfo) == "ImageNotFoundException"
    listed = ecr.describe_images(repositoryName=REPO, imageIds=[{"imageTag": "build-40100"}])
    assert [d["imageDigest"] for d in listed["imageDetails"]] == [digests[40_100]]

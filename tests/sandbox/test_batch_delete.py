"""BatchDeleteImage: the 100-id limit, per-image failure codes, tags vs digests, indexes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import REPO, T0, error_code

from cleaner.sandbox import RepoSeeder
from cleaner.sandbox import manifests as mf


def _delete(ecr: Any, *ids: dict[str, str]) -> dict[str, Any]:
    response: dict[str, Any] = ecr.batch_delete_image(repositoryName=REPO, imageIds=list(ids))
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    return response


def _codes(response: dict[str, Any]) -> list[str]:
    return [f["failureCode"] for f in response["failures"]]


def test_100_ids_are_allowed_101_are_not(ecr: Any, repo: RepoSeeder) -> None:
    digests = repo.bulk(101, start=T0)
    ids = [{"imageDigest": d} for d in digests]
    with pytest.raises(ClientError) as excinfo:
        ecr.batch_delete_image(repositoryName=REPO, imageIds=ids)
    assert error_code(excinfo) == "InvalidParameterException"
    assert len(repo.snapshot()) == 101
    response = _delete(ecr, *ids[:100])
    assert response["failures"] == []
    assert {i["imageDigest"] for i in response["imageIds"]} == set(digests[:100])
    assert set(repo.snapshot()) == {digests[100]}


@pytest.mark.parametrize(
    ("image_id", "code"),
    [
        ({"imageDigest": mf.digest_of("never pushed")}, "ImageNotFound"),
        ({"imageTag": "absent"}, "ImageNotFound"),
        ({"imageTag": "v1", "imageDigest": "OTHER"}, "ImageTagDoesNotMatchDigest"),
        ({"imageTag": "bad tag!"}, "InvalidImageTag"),
        ({"imageDigest": "sha256:zz"}, "InvalidImageDigest"),
        ({}, "MissingDigestAndTag"),
    ],
    ids=[
        "digest-not-found",
        "tag-not-found",
        "tag-digest-mismatch",
        "bad-tag",
        "bad-digest",
        "empty",
    ],
)
def test_failures_come_back_with_http_200(
    ecr: Any, repo: RepoSeeder, image_id: dict[str, str], code: str
) -> None:
    repo.image(["v1"], pushed_at=T0)
    other = repo.image(["v2"], pushed_at=T0)
    image_id = {k: other if v == "OTHER" else v for k, v in image_id.items()}
    before = repo.snapshot()
    response = _delete(ecr, image_id)
    assert response["imageIds"] == []
    [failure] = response["failures"]
    assert failure["failureCode"] == code
    assert failure["imageId"] == image_id
    assert failure["failureReason"]
    assert repo.snapshot() == before


def test_failures_and_deletions_in_one_call(ecr: Any, repo: RepoSeeder) -> None:
    doomed = repo.image(["old"], pushed_at=T0)
    kept = repo.image(["keep"], pushed_at=T0)
    response = _delete(ecr, {"imageTag": "nope"}, {"imageDigest": doomed}, {})
    assert response["imageIds"] == [{"imageDigest": doomed, "imageTag": "old"}]
    assert _codes(response) == ["ImageNotFound", "MissingDigestAndTag"]
    assert repo.snapshot() == {kept: ("keep",)}


def test_child_of_an_index_cannot_be_deleted(ecr: Any, repo: RepoSeeder) -> None:
    info = repo.index(["multi"], pushed_at=T0, attestations=True)
    before = repo.snapshot()
    for child in (*info.children, *info.attestations):
        response = _delete(ecr, {"imageDigest": child})
        assert response["imageIds"] == []
        assert _codes(response) == ["ImageReferencedByManifestList"]
        assert response["failures"][0]["imageId"] == {"imageDigest": child}
    assert repo.snapshot() == before


@pytest.mark.parametrize("index_first", [True, False], ids=["index-first", "child-first"])
def test_child_fails_even_when_its_index_is_deleted_in_the_same_call(
    ecr: Any, repo: RepoSeeder, index_first: bool
) -> None:
    info = repo.index(["multi"], pushed_at=T0)
    child, sibling = info.children
    ids = [{"imageDigest": info.digest}, {"imageDigest": child}]
    response = _delete(ecr, *(ids if index_first else ids[::-1]))
    assert response["imageIds"] == [{"imageDigest": info.digest, "imageTag": "multi"}]
    assert response["failures"][0]["imageId"] == {"imageDigest": child}
    assert _codes(response) == ["ImageReferencedByManifestList"]
    assert repo.snapshot() == {child: (), sibling: ()}
    # Once the index is gone, a separate call deletes the children.
    again = _delete(ecr, {"imageDigest": child}, {"imageDigest": sibling})
    assert again["failures"] == []
    assert sorted(i["imageDigest"] for i in again["imageIds"]) == sorted([child, sibling])
    assert all("imageTag" not in i for i in again["imageIds"])
    assert repo.snapshot() == {}


def test_deleted_untagged_image_is_reported(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(pushed_at=T0)
    response = _delete(ecr, {"imageDigest": digest})
    assert response["imageIds"] == [{"imageDigest": digest}]
    assert response["failures"] == []
    assert repo.snapshot() == {}


def test_delete_by_digest_removes_every_tag(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(["a", "b", "c"], pushed_at=T0)
    kept = repo.image(["d"], pushed_at=T0)
    response = _delete(ecr, {"imageDigest": digest})
    assert Counter(tuple(sorted(i.items())) for i in response["imageIds"]) == Counter(
        (("imageDigest", digest), ("imageTag", t)) for t in "abc"
    )
    assert repo.snapshot() == {kept: ("d",)}
    listed = ecr.list_images(repositoryName=REPO)["imageIds"]
    assert listed == [{"imageDigest": kept, "imageTag": "d"}]


def test_delete_by_tag_keeps_an_image_with_other_tags(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(["a", "b"], pushed_at=T0)
    response = _delete(ecr, {"imageTag": "a"})
    assert response["imageIds"] == [{"imageDigest": digest, "imageTag": "a"}]
    assert repo.snapshot() == {digest: ("b",)}
    assert ecr.describe_images(repositoryName=REPO)["imageDetails"][0]["imageTags"] == ["b"]


def test_deleting_the_last_tag_deletes_the_image(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(["a", "b"], pushed_at=T0)
    _delete(ecr, {"imageTag": "a"})
    response = _delete(ecr, {"imageTag": "b"})
    assert response["imageIds"] == [{"imageDigest": digest, "imageTag": "b"}]
    assert repo.snapshot() == {}
    assert ecr.describe_images(repositoryName=REPO)["imageDetails"] == []


def test_deleting_all_tags_in_one_call_deletes_the_image(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(["a", "b"], pushed_at=T0)
    response = _delete(ecr, {"imageTag": "a"}, {"imageTag": "b"})
    assert response["failures"] == []
    assert Counter(i["imageTag"] for i in response["imageIds"]) == Counter(["a", "b"])
    assert {i["imageDigest"] for i in response["imageIds"]} == {digest}
    assert repo.snapshot() == {}


def test_an_index_can_be_deleted_by_its_last_tag(ecr: Any, repo: RepoSeeder) -> None:
    info = repo.index(["multi"], pushed_at=T0)
    response = _delete(ecr, {"imageTag": "multi"})
    assert response["imageIds"] == [{"imageDigest": info.digest, "imageTag": "multi"}]
    assert repo.snapshot() == dict.fromkeys(info.children, ())

"""UpdateImageStorageClass and archived images: what ECR does with them, over boto3/HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import REPO, T0, all_details, detail, error_code, put

from cleaner.sandbox import RepoSeeder, Sandbox
from cleaner.sandbox import manifests as mf


class Clock:
    """The store's clock, advanced by hand: no test waits for a restore."""

    def __init__(self, sb: Sandbox) -> None:
        self.now = T0 + timedelta(days=100)
        sb.store.clock = lambda: self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def _move(ecr: Any, digest: str, target: str, **image_id: str) -> dict[str, Any]:
    response: dict[str, Any] = ecr.update_image_storage_class(
        repositoryName=REPO,
        imageId=image_id or {"imageDigest": digest},
        targetStorageClass=target,
    )
    return response


def test_archive_answers_as_ecr_and_sets_last_archived_at(
    sb: Sandbox, ecr: Any, repo: RepoSeeder
) -> None:
    clock = Clock(sb)
    digest = repo.image(["v1"], pushed_at=T0)
    response = _move(ecr, digest, "ARCHIVE")
    assert response["imageStatus"] == "ARCHIVED"
    assert response["imageId"] == {"imageDigest": digest}
    assert (response["repositoryName"], response["registryId"]) == (REPO, "123456789012")
    found = detail(ecr, digest)
    assert found["imageStatus"] == "ARCHIVED"
    assert found["lastArchivedAt"] == clock.now
    assert "lastActivatedAt" not in found
    assert found["imageTags"] == ["v1"]  # archiving keeps the tags


@pytest.mark.parametrize(
    ("image_status", "listed"),
    [(None, {"live"}), ("ACTIVE", {"live"}), ("ARCHIVED", {"old"}), ("ANY", {"live", "old"})],
)
def test_archived_images_are_listed_only_when_the_filter_asks(
    ecr: Any, repo: RepoSeeder, image_status: str | None, listed: set[str]
) -> None:
    repo.image(["live"], pushed_at=T0)
    _move(ecr, repo.image(["old"], pushed_at=T0), "ARCHIVE")
    kwargs: dict[str, Any] = {"filter": {"imageStatus": image_status}} if image_status else {}
    details = all_details(ecr, **kwargs)
    assert {d["imageTags"][0] for d in details.values()} == listed
    ids = ecr.list_images(repositoryName=REPO, **kwargs)["imageIds"]
    assert {i["imageTag"] for i in ids} == listed


def test_archive_by_tag_echoes_the_tag(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(["v1"], pushed_at=T0)
    response = _move(ecr, digest, "ARCHIVE", imageTag="v1")
    assert response["imageId"] == {"imageDigest": digest, "imageTag": "v1"}


def test_restore_goes_through_activating_on_the_store_clock(
    sb: Sandbox, ecr: Any, repo: RepoSeeder
) -> None:
    clock = Clock(sb)
    sb.store.restore_delay = timedelta(minutes=20)
    digest = repo.image(["v1"], pushed_at=T0)
    _move(ecr, digest, "ARCHIVE")
    clock.advance(timedelta(days=1))
    restored_at = clock.now
    assert _move(ecr, digest, "STANDARD")["imageStatus"] == "ACTIVATING"
    clock.advance(timedelta(minutes=19))
    assert detail(ecr, digest)["imageStatus"] == "ACTIVATING"
    assert set(all_details(ecr, filter={"imageStatus": "ACTIVATING"})) == {digest}
    assert all_details(ecr) == {}
    clock.advance(timedelta(minutes=1))
    found = detail(ecr, digest)
    assert found["imageStatus"] == "ACTIVE"
    assert found["lastActivatedAt"] == restored_at + timedelta(minutes=20)
    assert found["lastArchivedAt"] == restored_at - timedelta(days=1)
    assert set(all_details(ecr)) == {digest}


def test_restore_without_delay_is_active_at_once(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    sb.store.restore_delay = timedelta(0)
    digest = repo.image(["v1"], pushed_at=T0)
    _move(ecr, digest, "ARCHIVE")
    assert _move(ecr, digest, "STANDARD")["imageStatus"] == "ACTIVE"


def test_image_deleted_while_activating_is_simply_gone(
    sb: Sandbox, ecr: Any, repo: RepoSeeder
) -> None:
    clock = Clock(sb)
    digest = repo.image(pushed_at=T0)
    _move(ecr, digest, "ARCHIVE")
    _move(ecr, digest, "STANDARD")
    ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    clock.advance(timedelta(hours=1))
    assert all_details(ecr, filter={"imageStatus": "ANY"}) == {}


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("ARCHIVED", "ARCHIVE"),
        ("ACTIVE", "STANDARD"),
        ("ACTIVATING", "ARCHIVE"),
        ("ACTIVATING", "STANDARD"),
    ],
)
def test_a_move_that_does_not_apply_is_not_supported(
    ecr: Any, repo: RepoSeeder, start: str, target: str
) -> None:
    digest = repo.image(["v1"], pushed_at=T0)
    if start != "ACTIVE":
        _move(ecr, digest, "ARCHIVE")
    if start == "ACTIVATING":
        _move(ecr, digest, "STANDARD")
    with pytest.raises(ClientError) as excinfo:
        _move(ecr, digest, target)
    assert error_code(excinfo) == "ImageStorageClassUpdateNotSupportedException"
    assert detail(ecr, digest)["imageStatus"] == start


@pytest.mark.parametrize(
    ("image_id", "code"),
    [
        ({"imageDigest": mf.digest_of("never pushed")}, "ImageNotFoundException"),
        ({"imageTag": "nope"}, "ImageNotFoundException"),
        ({"imageDigest": "sha256:not-hex"}, "InvalidParameterException"),
        ({"imageTag": "v1", "imageDigest": mf.digest_of("other")}, "InvalidParameterException"),
        ({}, "InvalidParameterException"),
    ],
    ids=["digest-missing", "tag-missing", "bad-digest", "tag-digest-mismatch", "empty-id"],
)
def test_image_id_errors(ecr: Any, repo: RepoSeeder, image_id: dict[str, str], code: str) -> None:
    repo.image(["v1"], pushed_at=T0)
    with pytest.raises(ClientError) as excinfo:
        ecr.update_image_storage_class(
            repositoryName=REPO, imageId=image_id, targetStorageClass="ARCHIVE"
        )
    assert error_code(excinfo) == code


def test_missing_repository(ecr: Any, repo: RepoSeeder) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecr.update_image_storage_class(
            repositoryName="nope",
            imageId={"imageDigest": mf.digest_of("x")},
            targetStorageClass="ARCHIVE",
        )
    assert error_code(excinfo) == "RepositoryNotFoundException"


@pytest.mark.parametrize(
    "body",
    [
        {"imageId": {"imageTag": "v1"}, "targetStorageClass": "GLACIER"},
        {"imageId": {"imageTag": "v1"}},
        {"targetStorageClass": "ARCHIVE"},
    ],
    ids=["unknown-class", "no-class", "no-image-id"],
)
def test_request_shape_errors_are_validation_exceptions(
    unvalidated_ecr: Any, repo: RepoSeeder, body: dict[str, Any]
) -> None:
    repo.image(["v1"], pushed_at=T0)
    with pytest.raises(ClientError) as excinfo:
        unvalidated_ecr.update_image_storage_class(repositoryName=REPO, **body)
    assert error_code(excinfo) == "ValidationException"


def test_a_child_waits_for_its_index_to_be_archived(ecr: Any, repo: RepoSeeder) -> None:
    index = repo.index(["multi"], pushed_at=T0)
    child = index.children[0]
    with pytest.raises(ClientError) as excinfo:
        _move(ecr, child, "ARCHIVE")
    assert error_code(excinfo) == "InvalidParameterException"
    assert index.digest in str(excinfo.value)
    _move(ecr, index.digest, "ARCHIVE")
    assert _move(ecr, child, "ARCHIVE")["imageStatus"] == "ARCHIVED"


def test_a_child_shared_with_a_live_index_stays(ecr: Any, repo: RepoSeeder) -> None:
    first = repo.index(["a"], pushed_at=T0)
    second = repo.index(["b"], pushed_at=T0, reuse_children=first.children)
    _move(ecr, first.digest, "ARCHIVE")
    with pytest.raises(ClientError) as excinfo:
        _move(ecr, first.children[0], "ARCHIVE")
    assert second.digest in str(excinfo.value)


@pytest.mark.parametrize("status", ["ARCHIVED", "ACTIVATING"])
def test_an_image_not_active_cannot_be_pulled(
    sb: Sandbox, ecr: Any, repo: RepoSeeder, status: str
) -> None:
    sb.store.record_pulls_on_get = True
    digest = repo.image(["v1"], pushed_at=T0)
    _move(ecr, digest, "ARCHIVE")
    if status == "ACTIVATING":
        _move(ecr, digest, "STANDARD")
    for image_id in ({"imageDigest": digest}, {"imageTag": "v1"}):
        response = ecr.batch_get_image(repositoryName=REPO, imageIds=[image_id])
        assert response["images"] == []
        assert [f["failureCode"] for f in response["failures"]] == ["ImageNotFound"]
    assert "lastRecordedPullTime" not in detail(ecr, digest)


def test_archived_images_can_be_deleted(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(["v1"], pushed_at=T0)
    _move(ecr, digest, "ARCHIVE")
    response = ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    assert response["failures"] == []
    assert repo.snapshot() == {}


def test_an_archived_child_goes_after_its_archived_index(ecr: Any, repo: RepoSeeder) -> None:
    index = repo.index(["multi"], pushed_at=T0, platforms=["linux/amd64"])
    (child,) = index.children
    _move(ecr, index.digest, "ARCHIVE")
    _move(ecr, child, "ARCHIVE")
    refused = ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": child}])
    assert [f["failureCode"] for f in refused["failures"]] == ["ImageReferencedByManifestList"]
    ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": index.digest}])
    done = ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": child}])
    assert done["failures"] == []
    assert repo.snapshot() == {}


def test_pushing_an_archived_image_again_restores_it(
    sb: Sandbox, ecr: Any, repo: RepoSeeder
) -> None:
    clock = Clock(sb)
    manifest = mf.image_manifest(seed="again", layer_sizes=[10])
    digest = put(ecr, manifest, "v1")
    _move(ecr, digest, "ARCHIVE")
    clock.advance(timedelta(days=2))
    assert put(ecr, manifest, "v1") == digest
    found = detail(ecr, digest)
    assert (found["imageStatus"], found["lastActivatedAt"]) == ("ACTIVE", clock.now)


def test_each_restore_finishes_on_its_own_time(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    clock = Clock(sb)
    first, second = repo.image(["a"], pushed_at=T0), repo.image(["b"], pushed_at=T0)
    for digest in (first, second):
        _move(ecr, digest, "ARCHIVE")
    _move(ecr, first, "STANDARD")
    clock.advance(timedelta(minutes=10))
    _move(ecr, second, "STANDARD")
    clock.advance(timedelta(minutes=10))
    assert (detail(ecr, first)["imageStatus"], detail(ecr, second)["imageStatus"]) == (
        "ACTIVE",
        "ACTIVATING",
    )
    clock.advance(timedelta(minutes=10))
    assert detail(ecr, second)["imageStatus"] == "ACTIVE"

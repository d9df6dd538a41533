"""BatchGetImage: id limit, manifest bytes, index media-type negotiation, pull recording."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import ALL_TYPES, INDEX_TYPES, REPO, T0, detail, error_code, put, ref

from cleaner.sandbox import RepoSeeder, Sandbox
from cleaner.sandbox import manifests as mf


def _get(ecr: Any, *ids: dict[str, str], accepted: list[str] | None = None) -> dict[str, Any]:
    args: dict[str, Any] = {"repositoryName": REPO, "imageIds": list(ids)}
    if accepted is not None:
        args["acceptedMediaTypes"] = accepted
    response: dict[str, Any] = ecr.batch_get_image(**args)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    return response


def test_more_than_100_ids_are_rejected(ecr: Any, repo: RepoSeeder) -> None:
    ids = [{"imageDigest": d} for d in repo.bulk(101, start=T0)]
    assert len(_get(ecr, *ids[:100])["images"]) == 100
    with pytest.raises(ClientError) as excinfo:
        ecr.batch_get_image(repositoryName=REPO, imageIds=ids)
    assert error_code(excinfo) == "InvalidParameterException"


def test_get_by_digest_returns_the_stored_bytes(ecr: Any, repo: RepoSeeder) -> None:
    manifest = mf.image_manifest(seed="plain", layer_sizes=[1, 2, 3])
    digest = put(ecr, manifest, "v1")
    [image] = _get(ecr, {"imageDigest": digest})["images"]
    assert image["imageManifest"] == manifest
    assert image["imageManifestMediaType"] == mf.DOCKER_MANIFEST
    assert image["imageId"]["imageDigest"] == digest


def test_get_by_tag_returns_the_tagged_manifest(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(["v1"], pushed_at=T0)
    repo.image(["v2"], pushed_at=T0)
    [image] = _get(ecr, {"imageTag": "v1"})["images"]
    assert mf.digest_of(image["imageManifest"]) == digest
    assert image["imageId"]["imageTag"] == "v1"


def test_get_by_tag_reports_the_digest(ecr: Any, repo: RepoSeeder) -> None:
    # ECR fills in the digest: the botocore model's BatchGetImage example asks for
    # {"imageTag": "precise"} and gets imageId {"imageDigest": ..., "imageTag": "precise"}.
    digest = repo.image(["v1"], pushed_at=T0)
    [image] = _get(ecr, {"imageTag": "v1"})["images"]
    assert image["imageId"] == {"imageDigest": digest, "imageTag": "v1"}


def test_missing_images_are_failures(ecr: Any, repo: RepoSeeder) -> None:
    digest = repo.image(["v1"], pushed_at=T0)
    absent = mf.digest_of("absent")
    response = _get(ecr, {"imageDigest": digest}, {"imageDigest": absent}, {"imageTag": "nope"})
    assert [mf.digest_of(i["imageManifest"]) for i in response["images"]] == [digest]
    assert [(f["imageId"], f["failureCode"]) for f in response["failures"]] == [
        ({"imageDigest": absent}, "ImageNotFound"),
        ({"imageTag": "nope"}, "ImageNotFound"),
    ]


@pytest.mark.parametrize("oci", [True, False], ids=["oci-index", "docker-list"])
@pytest.mark.parametrize("accepted", [ALL_TYPES, INDEX_TYPES], ids=["all-types", "index-types"])
def test_seeded_index_comes_back_as_itself(
    ecr: Any, repo: RepoSeeder, oci: bool, accepted: list[str]
) -> None:
    info = repo.index(["multi"], pushed_at=T0, oci=oci)
    [image] = _get(ecr, {"imageTag": "multi"}, accepted=accepted)["images"]
    assert image["imageManifestMediaType"] == (mf.OCI_INDEX if oci else mf.DOCKER_MANIFEST_LIST)
    assert mf.digest_of(image["imageManifest"]) == info.digest


def test_pushed_index_comes_back_byte_for_byte(ecr: Any, repo: RepoSeeder) -> None:
    children = [mf.image_manifest(seed=f"c{n}", layer_sizes=[n + 1], oci=True) for n in range(2)]
    for child in children:
        put(ecr, child)
    index = mf.index_manifest(
        [ref(children[0], "linux/amd64"), ref(children[1], "linux/arm64")], oci=True
    )
    digest = put(ecr, index, "multi")
    [image] = _get(ecr, {"imageDigest": digest}, accepted=ALL_TYPES)["images"]
    assert image["imageManifest"] == index
    assert image["imageManifestMediaType"] == mf.OCI_INDEX


@pytest.mark.parametrize(
    "accepted",
    [None, [mf.DOCKER_MANIFEST, mf.OCI_MANIFEST]],
    ids=["no-accepted-types", "manifest-types-only"],
)
def test_index_is_converted_when_index_types_are_not_accepted(
    ecr: Any, repo: RepoSeeder, accepted: list[str] | None
) -> None:
    info = repo.index(["multi"], pushed_at=T0, attestations=True)
    [image] = _get(ecr, {"imageTag": "multi"}, accepted=accepted)["images"]
    assert image["imageManifestMediaType"] in mf.MANIFEST_MEDIA_TYPES
    assert mf.digest_of(image["imageManifest"]) in info.children


def test_get_does_not_record_a_pull_by_default(ecr: Any, repo: RepoSeeder) -> None:
    pulled_at = T0 + timedelta(days=2)
    pulled = repo.image(["pulled"], pushed_at=T0, last_pulled=pulled_at)
    never = repo.image(["never"], pushed_at=T0)
    _get(ecr, {"imageDigest": pulled}, {"imageTag": "never"}, accepted=ALL_TYPES)
    assert detail(ecr, pulled)["lastRecordedPullTime"] == pulled_at
    assert "lastRecordedPullTime" not in detail(ecr, never)


def test_get_records_a_pull_when_enabled(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    fixed = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    sb.store.record_pulls_on_get = True
    sb.store.clock = lambda: fixed
    pulled = repo.image(["pulled"], pushed_at=T0, last_pulled=T0 + timedelta(days=1))
    never = repo.image(["never"], pushed_at=T0)
    untouched = repo.image(["other"], pushed_at=T0)
    _get(ecr, {"imageDigest": pulled}, {"imageTag": "never"}, accepted=ALL_TYPES)
    assert detail(ecr, pulled)["lastRecordedPullTime"] == fixed
    assert detail(ecr, never)["lastRecordedPullTime"] == fixed
    assert "lastRecordedPullTime" not in detail(ecr, untouched)

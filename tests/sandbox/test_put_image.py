"""PutImage: content digests, ECR's error codes and how tags move."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import REPO, T0, all_details, error_code, put, ref

from cleaner.sandbox import RepoSeeder, Seeder
from cleaner.sandbox import manifests as mf

DOCKER = mf.image_manifest(seed="docker-image", layer_sizes=[300, 400])
OCI = mf.image_manifest(seed="oci-image", layer_sizes=[500], oci=True)
OTHER = mf.image_manifest(seed="other-image", layer_sizes=[600])


@pytest.mark.parametrize("manifest", [DOCKER, OCI], ids=["docker", "oci"])
@pytest.mark.parametrize("send_digest", [True, False], ids=["with-digest", "without-digest"])
def test_digest_is_sha256_of_the_manifest_bytes(
    ecr: Any, repo: RepoSeeder, manifest: str, send_digest: bool
) -> None:
    args: dict[str, Any] = {"repositoryName": REPO, "imageManifest": manifest, "imageTag": "t"}
    if send_digest:
        args["imageDigest"] = mf.digest_of(manifest)
    image = ecr.put_image(**args)["image"]
    assert image["imageId"] == {"imageDigest": mf.digest_of(manifest), "imageTag": "t"}
    assert image["imageManifest"] == manifest
    assert set(all_details(ecr)) == {mf.digest_of(manifest)}


@pytest.mark.parametrize("oci", [False, True], ids=["docker-list", "oci-index"])
def test_index_digest_is_sha256_of_its_bytes(ecr: Any, repo: RepoSeeder, oci: bool) -> None:
    put(ecr, DOCKER)
    put(ecr, OCI)
    index = mf.index_manifest([ref(DOCKER, "linux/amd64"), ref(OCI, "linux/arm64")], oci=oci)
    response = ecr.put_image(repositoryName=REPO, imageManifest=index, imageTag="multi")
    assert response["image"]["imageId"]["imageDigest"] == mf.digest_of(index)
    media_type = mf.OCI_INDEX if oci else mf.DOCKER_MANIFEST_LIST
    assert response["image"]["imageManifestMediaType"] == media_type


def test_wrong_image_digest_is_rejected(ecr: Any, repo: RepoSeeder) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecr.put_image(
            repositoryName=REPO,
            imageManifest=DOCKER,
            imageDigest=mf.digest_of(OTHER),
            imageTag="t",
        )
    assert error_code(excinfo) == "ImageDigestDoesNotMatchException"
    assert repo.snapshot() == {}


def test_index_with_missing_child_is_rejected(ecr: Any, repo: RepoSeeder) -> None:
    put(ecr, DOCKER)
    index = mf.index_manifest([ref(DOCKER, "linux/amd64"), ref(OCI, "linux/arm64")], oci=True)
    with pytest.raises(ClientError) as excinfo:
        put(ecr, index, "multi")
    assert error_code(excinfo) == "ReferencedImagesNotFoundException"
    assert repo.snapshot() == {mf.digest_of(DOCKER): ()}


def test_index_child_in_another_repository_does_not_count(
    ecr: Any, repo: RepoSeeder, seeder: Seeder
) -> None:
    seeder.repository("elsewhere")
    put(ecr, OCI, repo="elsewhere")
    index = mf.index_manifest([ref(OCI, "linux/arm64")], oci=True)
    with pytest.raises(ClientError) as excinfo:
        put(ecr, index, "multi")
    assert error_code(excinfo) == "ReferencedImagesNotFoundException"


@pytest.mark.parametrize("tag", ["v1", None], ids=["same-tag", "no-tag"])
def test_repushing_the_same_image_is_rejected(ecr: Any, repo: RepoSeeder, tag: str | None) -> None:
    put(ecr, DOCKER, "v1")
    with pytest.raises(ClientError) as excinfo:
        put(ecr, DOCKER, tag)
    assert error_code(excinfo) == "ImageAlreadyExistsException"
    assert repo.snapshot() == {mf.digest_of(DOCKER): ("v1",)}


def test_same_manifest_with_a_new_tag_adds_the_tag(ecr: Any, repo: RepoSeeder) -> None:
    first = put(ecr, DOCKER, "v1")
    pushed_at = all_details(ecr)[first]["imagePushedAt"]
    second = put(ecr, DOCKER, "latest")
    assert first == second
    assert repo.snapshot() == {first: ("latest", "v1")}
    assert all_details(ecr)[first]["imagePushedAt"] == pushed_at


def test_moving_a_tag_leaves_the_old_image_untagged(ecr: Any, repo: RepoSeeder) -> None:
    old = put(ecr, DOCKER, "latest")
    new = put(ecr, OTHER, "latest")
    assert repo.snapshot() == {old: (), new: ("latest",)}
    details = all_details(ecr)
    assert set(details) == {old, new}
    assert "imageTags" not in details[old]
    assert details[new]["imageTags"] == ["latest"]
    untagged = ecr.list_images(repositoryName=REPO, filter={"tagStatus": "UNTAGGED"})
    assert untagged["imageIds"] == [{"imageDigest": old}]


def test_moving_one_of_several_tags_keeps_the_others(ecr: Any, repo: RepoSeeder) -> None:
    old = repo.image(["latest", "1.0"], pushed_at=T0)
    new = put(ecr, OTHER, "latest")
    assert repo.snapshot() == {old: ("1.0",), new: ("latest",)}


def test_immutable_repository_refuses_to_move_a_tag(ecr: Any, seeder: Seeder) -> None:
    immutable = seeder.repository(REPO, tag_mutability="IMMUTABLE")
    old = put(ecr, DOCKER, "v1")
    with pytest.raises(ClientError) as excinfo:
        put(ecr, OTHER, "v1")
    assert error_code(excinfo) == "ImageTagAlreadyExistsException"
    assert immutable.snapshot() == {old: ("v1",)}


@pytest.mark.parametrize(
    ("manifest", "media_type"),
    [("not json", None), ('{"schemaVersion": 1}', None), (DOCKER, mf.OCI_MANIFEST)],
    ids=["not-json", "schema-1", "media-type-mismatch"],
)
def test_invalid_manifest_is_rejected(
    ecr: Any, repo: RepoSeeder, manifest: str, media_type: str | None
) -> None:
    args: dict[str, Any] = {"repositoryName": REPO, "imageManifest": manifest}
    if media_type is not None:
        args["imageManifestMediaType"] = media_type
    with pytest.raises(ClientError) as excinfo:
        ecr.put_image(**args)
    assert error_code(excinfo) == "InvalidParameterException"
    assert repo.snapshot() == {}

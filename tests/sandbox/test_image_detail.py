"""ImageDetail fields that moto never returns or gets wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sandbox_support import ACCOUNT, REPO, T0, all_details, detail, put, ref

from cleaner.sandbox import RepoSeeder, Sandbox
from cleaner.sandbox import manifests as mf

NOTATION = "application/vnd.cncf.notary.signature"


def test_last_recorded_pull_time_only_when_pulled(ecr: Any, repo: RepoSeeder) -> None:
    pulled_at = T0 + timedelta(days=3, hours=4)
    pulled = repo.image(["pulled"], pushed_at=T0, last_pulled=pulled_at)
    never = repo.image(["never"], pushed_at=T0)
    details = all_details(ecr)
    assert details[pulled]["lastRecordedPullTime"] == pulled_at
    assert "lastRecordedPullTime" not in details[never]


@pytest.mark.parametrize(
    "pushed_at",
    [T0, datetime(2019, 6, 30, 23, 59, 59, tzinfo=UTC), datetime(2025, 11, 2, 8, 15, tzinfo=UTC)],
)
def test_image_pushed_at_is_the_seeded_time(
    ecr: Any, repo: RepoSeeder, pushed_at: datetime
) -> None:
    digest = repo.image(["t"], pushed_at=pushed_at)
    assert detail(ecr, digest)["imagePushedAt"] == pushed_at


def test_put_image_push_time_comes_from_the_store_clock(sb: Sandbox, ecr: Any) -> None:
    fixed = datetime(2023, 3, 4, 5, 6, 7, tzinfo=UTC)
    sb.store.clock = lambda: fixed
    sb.store.create_repository(ACCOUNT, "us-east-1", REPO)
    digest = put(ecr, mf.image_manifest(seed="clocked", layer_sizes=[10]), "t")
    assert detail(ecr, digest)["imagePushedAt"] == fixed


def test_image_tags_absent_when_untagged(ecr: Any, repo: RepoSeeder) -> None:
    tagged = repo.image(["b", "a"], pushed_at=T0)
    untagged = repo.image(pushed_at=T0)
    details = all_details(ecr)
    assert sorted(details[tagged]["imageTags"]) == ["a", "b"]
    assert "imageTags" not in details[untagged]


@pytest.mark.parametrize(
    ("oci", "media_type", "artifact_type"),
    [(False, mf.DOCKER_MANIFEST, mf.DOCKER_CONFIG), (True, mf.OCI_MANIFEST, mf.OCI_CONFIG)],
    ids=["docker", "oci"],
)
def test_seeded_image_media_types(
    ecr: Any, repo: RepoSeeder, oci: bool, media_type: str, artifact_type: str
) -> None:
    found = detail(ecr, repo.image(["t"], pushed_at=T0, oci=oci))
    assert found["imageManifestMediaType"] == media_type
    assert found["artifactMediaType"] == artifact_type
    assert found["imageStatus"] == "ACTIVE"
    assert found["registryId"] == ACCOUNT
    assert found["repositoryName"] == REPO
    assert "subjectManifestDigest" not in found


def test_seeded_referrer_fields(ecr: Any, repo: RepoSeeder) -> None:
    subject = repo.image(["app"], pushed_at=T0)
    referrer = repo.referrer(subject, NOTATION, pushed_at=T0)
    found = detail(ecr, referrer)
    assert found["artifactMediaType"] == NOTATION
    assert found["subjectManifestDigest"] == subject
    assert found["imageManifestMediaType"] == mf.OCI_MANIFEST


def test_pushed_docker_image_artifact_type_is_its_config_type(ecr: Any, repo: RepoSeeder) -> None:
    digest = put(ecr, mf.image_manifest(seed="docker", layer_sizes=[5]), "d")
    found = detail(ecr, digest)
    assert found["artifactMediaType"] == mf.DOCKER_CONFIG
    assert found["imageManifestMediaType"] == mf.DOCKER_MANIFEST


def test_pushed_referrer_fields(ecr: Any, repo: RepoSeeder) -> None:
    subject_manifest = mf.image_manifest(seed="subject", layer_sizes=[5], oci=True)
    subject = put(ecr, subject_manifest, "app")
    referrer_manifest = mf.image_manifest(
        seed="sig",
        layer_sizes=[700],
        oci=True,
        config_media_type=mf.OCI_EMPTY,
        subject=(subject, mf.OCI_MANIFEST, len(subject_manifest)),
        artifact_type=NOTATION,
    )
    found = detail(ecr, put(ecr, referrer_manifest))
    assert found["artifactMediaType"] == NOTATION
    assert found["subjectManifestDigest"] == subject
    assert "imageTags" not in found


@pytest.mark.parametrize("layer_sizes", [[1], [100, 2000, 30000], [7] * 12])
def test_pushed_image_size_is_the_sum_of_its_layers(
    ecr: Any, repo: RepoSeeder, layer_sizes: list[int]
) -> None:
    digest = put(ecr, mf.image_manifest(seed="sized", layer_sizes=layer_sizes), "t")
    assert detail(ecr, digest)["imageSizeInBytes"] == sum(layer_sizes)


@pytest.mark.parametrize("oci", [False, True], ids=["docker-list", "oci-index"])
def test_pushed_index_size_is_its_largest_child(ecr: Any, repo: RepoSeeder, oci: bool) -> None:
    children = [
        mf.image_manifest(seed=f"child-{n}", layer_sizes=sizes, oci=oci)
        for n, sizes in enumerate([[100, 200], [4000, 1000], [42]])
    ]
    for child in children:
        put(ecr, child)
    platforms = ["linux/amd64", "linux/arm64", "linux/s390x"]
    index = mf.index_manifest(
        [ref(c, p) for c, p in zip(children, platforms, strict=True)], oci=oci
    )
    found = detail(ecr, put(ecr, index, "multi"))
    assert found["imageSizeInBytes"] == 5000
    assert found["imageManifestMediaType"] == (mf.OCI_INDEX if oci else mf.DOCKER_MANIFEST_LIST)


def test_seeded_index_size_is_its_largest_child(ecr: Any, repo: RepoSeeder) -> None:
    info = repo.index(["multi"], pushed_at=T0, child_size=123_456, attestations=True)
    found = detail(ecr, info.digest)
    assert found["imageSizeInBytes"] == 123_456
    assert found["imageManifestMediaType"] == mf.OCI_INDEX
    assert found["imagePushedAt"] == T0

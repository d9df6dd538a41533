"""The seeding API builds registries that look, over the ECR API, like pushed ones."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sandbox_support import ALL_TYPES, REPO, T0, all_details, detail

from cleaner.sandbox import RepoSeeder, Seeder
from cleaner.sandbox import manifests as mf


def _manifest_document(ecr: Any, digest: str) -> dict[str, Any]:
    response = ecr.batch_get_image(
        repositoryName=REPO, imageIds=[{"imageDigest": digest}], acceptedMediaTypes=ALL_TYPES
    )
    [image] = response["images"]
    assert mf.digest_of(image["imageManifest"]) == digest
    document: dict[str, Any] = json.loads(image["imageManifest"])
    return document


def test_index_with_attestations(ecr: Any, repo: RepoSeeder) -> None:
    platforms = ("linux/amd64", "linux/arm64", "linux/arm/v7")
    info = repo.index(["v1"], platforms=platforms, attestations=True, pushed_at=T0)
    assert len(info.children) == 3
    assert len(info.attestations) == 3
    details = all_details(ecr)
    assert set(details) == {info.digest, *info.children, *info.attestations}
    assert details[info.digest]["imageTags"] == ["v1"]
    for digest in (*info.children, *info.attestations):
        assert "imageTags" not in details[digest]
        assert details[digest]["imagePushedAt"] == T0
    document = _manifest_document(ecr, info.digest)
    listed = [entry["digest"] for entry in document["manifests"]]
    assert listed == [*info.children, *info.attestations]
    by_digest = {entry["digest"]: entry for entry in document["manifests"]}
    assert [
        f"{by_digest[c]['platform']['os']}/{by_digest[c]['platform']['architecture']}"
        for c in info.children
    ] == ["linux/amd64", "linux/arm64", "linux/arm/v7"]
    for child, attestation in zip(info.children, info.attestations, strict=True):
        annotations = by_digest[attestation]["annotations"]
        assert annotations["vnd.docker.reference.digest"] == child
        assert annotations["vnd.docker.reference.type"] == "attestation-manifest"


def test_index_without_attestations_lists_only_platforms(ecr: Any, repo: RepoSeeder) -> None:
    info = repo.index(["v1"], pushed_at=T0)
    assert info.attestations == ()
    listed = [entry["digest"] for entry in _manifest_document(ecr, info.digest)["manifests"]]
    assert listed == list(info.children)
    assert set(all_details(ecr)) == {info.digest, *info.children}


@pytest.mark.parametrize("kind", ["sig", "att", "sbom"])
def test_cosign_artifact_is_tagged_after_its_subject(ecr: Any, repo: RepoSeeder, kind: str) -> None:
    subject = repo.image(["app"], pushed_at=T0)
    artifact = repo.cosign(subject, kind, pushed_at=T0)
    hex_part = subject.removeprefix("sha256:")
    found = detail(ecr, artifact)
    assert found["imageTags"] == [f"sha256-{hex_part}.{kind}"]
    assert "subjectManifestDigest" not in found
    tagged = ecr.describe_images(
        repositoryName=REPO, imageIds=[{"imageTag": f"sha256-{hex_part}.{kind}"}]
    )
    assert [d["imageDigest"] for d in tagged["imageDetails"]] == [artifact]


def test_referrer_carries_its_subject(ecr: Any, repo: RepoSeeder) -> None:
    subject = repo.image(["app"], pushed_at=T0)
    referrer = repo.referrer(subject, pushed_at=T0)
    found = detail(ecr, referrer)
    assert found["subjectManifestDigest"] == subject
    assert "imageTags" not in found
    assert _manifest_document(ecr, referrer)["subject"]["digest"] == subject


def test_reused_child_is_shared_by_two_indexes(ecr: Any, repo: RepoSeeder) -> None:
    first = repo.index(["v1"], pushed_at=T0)
    shared = first.children[0]
    second = repo.index(["v2"], pushed_at=T0, reuse_children=[shared])
    assert second.children[0] == shared
    assert second.children[1] not in first.children
    for info in (first, second):
        listed = [entry["digest"] for entry in _manifest_document(ecr, info.digest)["manifests"]]
        assert shared in listed
    # The shared child stays referenced until both indexes are gone.
    response = ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": first.digest}])
    assert response["failures"] == []
    response = ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": shared}])
    assert [f["failureCode"] for f in response["failures"]] == ["ImageReferencedByManifestList"]
    ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": second.digest}])
    response = ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": shared}])
    assert response["imageIds"] == [{"imageDigest": shared}]


def test_bulk_tags_push_times_and_pulls(ecr: Any, repo: RepoSeeder) -> None:
    step = timedelta(hours=1)
    digests = repo.bulk(10, start=T0, step=step, tag_every=3, tag_prefix="b-", pulled_every=5)
    assert len(set(digests)) == 10
    details = all_details(ecr)
    for n, digest in enumerate(digests):
        found = details[digest]
        assert found["imagePushedAt"] == T0 + n * step
        assert found.get("imageTags") == ([f"b-{n}"] if n % 3 == 0 else None)
        expected_pull = T0 + n * step + timedelta(days=1) if n % 5 == 0 else None
        assert found.get("lastRecordedPullTime") == expected_pull


def test_tag_moves_like_ecr_and_snapshot_shows_it(repo: RepoSeeder) -> None:
    a = repo.image(["latest", "1.0"], pushed_at=T0)
    b = repo.image(pushed_at=T0)
    repo.tag("latest", b)
    assert repo.snapshot() == {a: ("1.0",), b: ("latest",)}
    repo.untag("1.0")
    assert repo.snapshot() == {a: (), b: ("latest",)}


def test_repositories_are_per_account_and_region(ecr: Any, seeder: Seeder) -> None:
    seeder.repository(REPO).image(["home"], pushed_at=T0)
    seeder.repository(REPO, region="eu-west-1").image(["away"], pushed_at=T0)
    seeder.repository("elsewhere", account="210987654321")
    tags = [d.get("imageTags") for d in ecr.describe_images(repositoryName=REPO)["imageDetails"]]
    assert tags == [["home"]]
    names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    assert names == [REPO]

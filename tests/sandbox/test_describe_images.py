"""DescribeImages: page sizes, nextToken paging, filters and imageIds lookups."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import REPO, T0, error_code, flat, pages

from cleaner.sandbox import RepoSeeder
from cleaner.sandbox import manifests as mf


def test_default_page_size_is_100(ecr: Any, repo: RepoSeeder) -> None:
    repo.bulk(150, start=T0)
    first = ecr.describe_images(repositoryName=REPO)
    assert len(first["imageDetails"]) == 100
    assert "nextToken" in first
    rest = ecr.describe_images(repositoryName=REPO, nextToken=first["nextToken"])
    assert len(rest["imageDetails"]) == 50
    assert "nextToken" not in rest


@pytest.mark.parametrize("max_results", [1, 2, 999, 1000])
def test_max_results_bounds_the_page(ecr: Any, repo: RepoSeeder, max_results: int) -> None:
    repo.bulk(1001, start=T0)
    page = ecr.describe_images(repositoryName=REPO, maxResults=max_results)
    assert len(page["imageDetails"]) == max_results
    assert "nextToken" in page


def test_max_results_1001_is_rejected(ecr: Any, repo: RepoSeeder) -> None:
    repo.bulk(3, start=T0)
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName=REPO, maxResults=1001)
    assert error_code(excinfo) == "InvalidParameterException"


@pytest.mark.parametrize("max_results", [0, -1, 1001, 5000])
def test_server_rejects_out_of_range_max_results(
    unvalidated_ecr: Any, repo: RepoSeeder, max_results: int
) -> None:
    repo.bulk(3, start=T0)
    with pytest.raises(ClientError) as excinfo:
        unvalidated_ecr.describe_images(repositoryName=REPO, maxResults=max_results)
    assert error_code(excinfo) == "InvalidParameterException"


@pytest.mark.parametrize(("count", "page_size"), [(25, 1), (25, 4), (25, 25), (25, 100), (0, 5)])
def test_paging_returns_every_image_exactly_once(
    ecr: Any, repo: RepoSeeder, count: int, page_size: int
) -> None:
    digests = repo.bulk(count, start=T0)
    got = pages(ecr.describe_images, "imageDetails", repositoryName=REPO, maxResults=page_size)
    seen = [d["imageDigest"] for d in flat(got)]
    assert Counter(seen) == Counter(digests)
    assert all(len(page) <= page_size for page in got)


def test_paging_survives_deletions_between_pages(ecr: Any, repo: RepoSeeder) -> None:
    digests = repo.bulk(30, start=T0)
    first = ecr.describe_images(repositoryName=REPO, maxResults=10)
    seen = [d["imageDigest"] for d in first["imageDetails"]]
    # Delete half of what was seen and some images not reached yet.
    deleted_unseen = [d for d in digests if d not in seen][::3]
    doomed = seen[::2] + deleted_unseen
    response = ecr.batch_delete_image(
        repositoryName=REPO, imageIds=[{"imageDigest": d} for d in doomed]
    )
    assert response["failures"] == []
    rest = pages(
        ecr.describe_images,
        "imageDetails",
        repositoryName=REPO,
        maxResults=10,
        nextToken=first["nextToken"],
    )
    seen += [d["imageDigest"] for d in flat(rest)]
    assert len(seen) == len(set(seen))
    assert set(seen) == set(digests) - set(deleted_unseen)


def test_paging_survives_mass_deletion_between_pages(ecr: Any, repo: RepoSeeder) -> None:
    # BatchDeleteImage compacts the repository's push-order list once enough images are
    # gone; tokens must survive that. The cleaner's own pattern (read a page, delete what
    # it selected, read the next page) depends on it.
    digests = repo.bulk(2500, start=T0)
    seen: list[str] = []
    kwargs: dict[str, Any] = {"repositoryName": REPO, "maxResults": 1000}
    while True:
        page = ecr.describe_images(**kwargs)
        batch = [d["imageDigest"] for d in page["imageDetails"]]
        seen += batch
        for start in range(0, len(batch), 100):
            ids = [{"imageDigest": d} for d in batch[start : start + 100]]
            assert ecr.batch_delete_image(repositoryName=REPO, imageIds=ids)["failures"] == []
        if "nextToken" not in page:
            break
        kwargs["nextToken"] = page["nextToken"]
    assert len(seen) == len(set(seen))
    missed = set(digests) - set(seen)
    assert not missed, f"{len(missed)} of {len(digests)} images were never listed"


def _tagged_and_untagged(repo: RepoSeeder) -> tuple[set[str], set[str]]:
    tagged = {repo.image([f"v{n}"], pushed_at=T0) for n in range(3)}
    untagged = {repo.image(pushed_at=T0) for _ in range(2)}
    return tagged, untagged


@pytest.mark.parametrize("status", ["TAGGED", "UNTAGGED", "ANY", None])
def test_tag_status_filter(ecr: Any, repo: RepoSeeder, status: str | None) -> None:
    tagged, untagged = _tagged_and_untagged(repo)
    expected = {"TAGGED": tagged, "UNTAGGED": untagged}.get(status or "ANY", tagged | untagged)
    kwargs: dict[str, Any] = {"repositoryName": REPO, "maxResults": 2}
    if status is not None:
        kwargs["filter"] = {"tagStatus": status}
    seen = [d["imageDigest"] for d in flat(pages(ecr.describe_images, "imageDetails", **kwargs))]
    assert Counter(seen) == Counter(expected)


@pytest.mark.parametrize(
    ("image_status", "shows_active", "shows_archived"),
    [(None, True, False), ("ACTIVE", True, False), ("ARCHIVED", False, True), ("ANY", True, True)],
)
def test_image_status_filter(
    ecr: Any,
    repo: RepoSeeder,
    image_status: str | None,
    shows_active: bool,
    shows_archived: bool,
) -> None:
    active = repo.image(["live"], pushed_at=T0)
    archived = repo.image(["old"], pushed_at=T0, status="ARCHIVED")
    kwargs: dict[str, Any] = {"repositoryName": REPO}
    if image_status is not None:
        kwargs["filter"] = {"imageStatus": image_status}
    found = {d["imageDigest"]: d for d in ecr.describe_images(**kwargs)["imageDetails"]}
    assert (active in found) is shows_active
    assert (archived in found) is shows_archived
    if shows_archived:
        assert found[archived]["imageStatus"] == "ARCHIVED"


def test_image_ids_by_tag_and_by_digest(ecr: Any, repo: RepoSeeder) -> None:
    a = repo.image(["a1", "a2"], pushed_at=T0)
    b = repo.image(pushed_at=T0)
    repo.image(["other"], pushed_at=T0)
    response = ecr.describe_images(
        repositoryName=REPO, imageIds=[{"imageTag": "a2"}, {"imageDigest": b}]
    )
    found = {d["imageDigest"]: d for d in response["imageDetails"]}
    assert set(found) == {a, b}
    assert sorted(found[a]["imageTags"]) == ["a1", "a2"]
    assert "nextToken" not in response


@pytest.mark.parametrize(
    "missing",
    [{"imageTag": "nope"}, {"imageDigest": mf.digest_of("not pushed")}],
    ids=["tag", "digest"],
)
def test_one_missing_image_id_fails_the_whole_call(
    ecr: Any, repo: RepoSeeder, missing: dict[str, str]
) -> None:
    present = repo.image(["here"], pushed_at=T0)
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName=REPO, imageIds=[{"imageDigest": present}, missing])
    assert error_code(excinfo) == "ImageNotFoundException"


@pytest.mark.parametrize(
    "extra", [{"maxResults": 10}, {"nextToken": "x"}], ids=["maxResults", "nextToken"]
)
def test_paging_arguments_with_image_ids_are_rejected(
    ecr: Any, repo: RepoSeeder, extra: dict[str, Any]
) -> None:
    digest = repo.image(pushed_at=T0)
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName=REPO, imageIds=[{"imageDigest": digest}], **extra)
    assert error_code(excinfo) == "InvalidParameterException"


def test_more_than_100_image_ids_are_rejected(ecr: Any, repo: RepoSeeder) -> None:
    digests = repo.bulk(101, start=T0)
    ids = [{"imageDigest": d} for d in digests]
    assert len(ecr.describe_images(repositoryName=REPO, imageIds=ids[:100])["imageDetails"]) == 100
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName=REPO, imageIds=ids)
    assert error_code(excinfo) == "InvalidParameterException"


def test_foreign_next_token_is_rejected(ecr: Any, repo: RepoSeeder) -> None:
    repo.bulk(5, start=T0)
    token = ecr.list_images(repositoryName=REPO, maxResults=1)["nextToken"]
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName=REPO, nextToken=token)
    assert error_code(excinfo) == "InvalidParameterException"


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("describe_images", {}),
        ("describe_images", {"imageIds": [{"imageTag": "x"}]}),
        ("list_images", {}),
        ("batch_get_image", {"imageIds": [{"imageTag": "x"}]}),
        ("batch_delete_image", {"imageIds": [{"imageTag": "x"}]}),
        ("put_image", {"imageManifest": mf.image_manifest(seed="s", layer_sizes=[1])}),
    ],
)
def test_unknown_repository(
    ecr: Any, repo: RepoSeeder, operation: str, kwargs: dict[str, Any]
) -> None:
    """`repo` exists; the call names another repository."""
    with pytest.raises(ClientError) as excinfo:
        getattr(ecr, operation)(repositoryName="no-such-repo", **kwargs)
    assert error_code(excinfo) == "RepositoryNotFoundException"

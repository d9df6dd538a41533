"""ListImages and DescribeRepositories: the same page-size rules and nextToken paging."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import REPO, T0, error_code, flat, pages

from cleaner.sandbox import RepoSeeder, Seeder

# -- ListImages -------------------------------------------------------------------------


def test_list_images_default_page_size_is_100(ecr: Any, repo: RepoSeeder) -> None:
    repo.bulk(150, start=T0)
    first = ecr.list_images(repositoryName=REPO)
    assert len(first["imageIds"]) == 100
    assert "nextToken" in first
    rest = ecr.list_images(repositoryName=REPO, nextToken=first["nextToken"])
    assert len(rest["imageIds"]) == 50
    assert "nextToken" not in rest


@pytest.mark.parametrize("max_results", [1, 1000])
def test_list_images_max_results_bounds_the_page(
    ecr: Any, repo: RepoSeeder, max_results: int
) -> None:
    repo.bulk(1001, start=T0)
    page = ecr.list_images(repositoryName=REPO, maxResults=max_results)
    assert len(page["imageIds"]) == max_results
    assert "nextToken" in page


@pytest.mark.parametrize("max_results", [0, 1001])
def test_list_images_rejects_out_of_range_max_results(
    unvalidated_ecr: Any, repo: RepoSeeder, max_results: int
) -> None:
    repo.bulk(2, start=T0)
    with pytest.raises(ClientError) as excinfo:
        unvalidated_ecr.list_images(repositoryName=REPO, maxResults=max_results)
    assert error_code(excinfo) == "InvalidParameterException"


def test_list_images_has_one_entry_per_tag(ecr: Any, repo: RepoSeeder) -> None:
    multi = repo.image(["a", "b", "c"], pushed_at=T0)
    single = repo.image(["solo"], pushed_at=T0)
    untagged = repo.image(pushed_at=T0)
    ids = ecr.list_images(repositoryName=REPO)["imageIds"]
    entries = Counter((i["imageDigest"], i.get("imageTag")) for i in ids)
    assert entries == Counter(
        [(multi, "a"), (multi, "b"), (multi, "c"), (single, "solo"), (untagged, None)]
    )
    [bare] = [i for i in ids if i["imageDigest"] == untagged]
    assert bare == {"imageDigest": untagged}


@pytest.mark.parametrize("page_size", [1, 3, 7])
def test_list_images_paging_returns_every_id_once(
    ecr: Any, repo: RepoSeeder, page_size: int
) -> None:
    tagged = repo.bulk(10, start=T0)
    untagged = repo.bulk(5, start=T0, tag_every=0)
    got = pages(ecr.list_images, "imageIds", repositoryName=REPO, maxResults=page_size)
    seen = [(i["imageDigest"], i.get("imageTag")) for i in flat(got)]
    expected = [(d, f"build-{n}") for n, d in enumerate(tagged)] + [(d, None) for d in untagged]
    assert Counter(seen) == Counter(expected)


def test_list_images_page_counts_image_ids_not_images(ecr: Any, repo: RepoSeeder) -> None:
    # A page of images with several tags still holds at most maxResults imageIds. The model:
    # "ListImages only returns maxResults results in a single page" (imageIds entries).
    for n in range(3):
        repo.image([f"x{n}", f"y{n}"], pushed_at=T0)
    got = pages(ecr.list_images, "imageIds", repositoryName=REPO, maxResults=2)
    assert [len(page) for page in got if len(page) > 2] == []
    seen = [(i["imageDigest"], i["imageTag"]) for i in flat(got)]
    assert len(seen) == len(set(seen)) == 6


@pytest.mark.parametrize(
    ("status", "expected_tags"),
    [("TAGGED", {"t1", "t2"}), ("UNTAGGED", {None}), ("ANY", {"t1", "t2", None})],
)
def test_list_images_tag_status_filter(
    ecr: Any, repo: RepoSeeder, status: str, expected_tags: set[str | None]
) -> None:
    repo.image(["t1", "t2"], pushed_at=T0)
    repo.image(pushed_at=T0)
    ids = ecr.list_images(repositoryName=REPO, filter={"tagStatus": status})["imageIds"]
    assert {i.get("imageTag") for i in ids} == expected_tags


# -- DescribeRepositories ---------------------------------------------------------------


def _repositories(seeder: Seeder, count: int) -> set[str]:
    names = {f"team/app-{n:03d}" for n in range(count)}
    for name in names:
        seeder.repository(name)
    return names


def test_describe_repositories_pages_of_two(ecr: Any, seeder: Seeder) -> None:
    names = _repositories(seeder, 5)
    got = pages(ecr.describe_repositories, "repositories", maxResults=2)
    assert [len(page) for page in got] == [2, 2, 1]
    seen = [r["repositoryName"] for r in flat(got)]
    assert Counter(seen) == Counter(names)


def test_describe_repositories_default_page_size_is_100(ecr: Any, seeder: Seeder) -> None:
    names = _repositories(seeder, 150)
    first = ecr.describe_repositories()
    assert len(first["repositories"]) == 100
    rest = ecr.describe_repositories(nextToken=first["nextToken"])
    assert len(rest["repositories"]) == 50
    assert "nextToken" not in rest
    seen = {r["repositoryName"] for r in first["repositories"] + rest["repositories"]}
    assert seen == names


@pytest.mark.parametrize("change", ["delete-seen", "create-before"])
def test_describe_repositories_paging_survives_changes_between_pages(
    ecr: Any, seeder: Seeder, change: str
) -> None:
    # Deleting a repository already returned must not skip one that was not, and creating
    # one that sorts earlier must not repeat one. The model: "Pagination continues from the end of
    # the previous results that returned the nextToken value."
    names = _repositories(seeder, 5)
    first = ecr.describe_repositories(maxResults=2)
    seen = [r["repositoryName"] for r in first["repositories"]]
    if change == "delete-seen":
        ecr.delete_repository(repositoryName=seen[0])
    else:
        ecr.create_repository(repositoryName="team/aaa")
    rest = pages(
        ecr.describe_repositories, "repositories", maxResults=2, nextToken=first["nextToken"]
    )
    seen += [r["repositoryName"] for r in flat(rest)]
    counts = Counter(seen)
    skipped = sorted(names - set(counts))
    repeated = sorted(name for name, count in counts.items() if count > 1)
    assert (skipped, repeated) == ([], [])


@pytest.mark.parametrize("max_results", [0, 1001])
def test_describe_repositories_rejects_out_of_range_max_results(
    unvalidated_ecr: Any, seeder: Seeder, max_results: int
) -> None:
    _repositories(seeder, 2)
    with pytest.raises(ClientError) as excinfo:
        unvalidated_ecr.describe_repositories(maxResults=max_results)
    assert error_code(excinfo) == "InvalidParameterException"


def test_describe_repositories_by_name(ecr: Any, seeder: Seeder) -> None:
    _repositories(seeder, 3)
    found = ecr.describe_repositories(repositoryNames=["team/app-001"])["repositories"]
    assert [r["repositoryName"] for r in found] == ["team/app-001"]
    assert found[0]["repositoryUri"] == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app-001"
    )
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories(repositoryNames=["team/app-001", "team/missing"])
    assert error_code(excinfo) == "RepositoryNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_repositories(repositoryNames=["team/app-001"], maxResults=5)
    assert error_code(excinfo) == "InvalidParameterException"

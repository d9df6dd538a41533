"""Fault injection per operation: latency, throttling, transient errors, registry changes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import ACCOUNT, REGION, REPO, T0, error_code

from cleaner.sandbox import RepoSeeder, Sandbox, Store


def _describe_digests(ecr: Any) -> list[str]:
    return [d["imageDigest"] for d in ecr.describe_images(repositoryName=REPO)["imageDetails"]]


@pytest.mark.parametrize(
    ("operation", "delayed", "not_delayed"),
    [
        ("DescribeImages", "describe_images", "list_images"),
        ("ListImages", "list_images", "describe_images"),
    ],
)
def test_latency_sleeps_for_the_configured_delay(
    sb: Sandbox, ecr: Any, repo: RepoSeeder, operation: str, delayed: str, not_delayed: str
) -> None:
    slept: list[float] = []
    sb.faults.sleep = slept.append
    sb.faults.add_latency(operation, 0.05)
    repo.image(["v1"], pushed_at=T0)
    getattr(ecr, not_delayed)(repositoryName=REPO)
    assert slept == []
    getattr(ecr, delayed)(repositoryName=REPO)
    assert slept == [0.05]


def test_latency_for_every_operation(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    slept: list[float] = []
    sb.faults.sleep = slept.append
    sb.faults.add_latency("*", 0.25)
    sb.faults.add_latency("ListImages", 0.5)
    ecr.describe_images(repositoryName=REPO)
    ecr.list_images(repositoryName=REPO)
    ecr.describe_repositories()
    assert slept == [0.25, 0.5, 0.25]


def test_throttling_with_a_frozen_clock(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    sb.faults.clock = lambda: 1_000.0
    sb.faults.throttle("BatchDeleteImage", rate=1.0, burst=2)
    digests = repo.bulk(3, start=T0)
    for digest in digests[:2]:
        ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": digest}])
    with pytest.raises(ClientError) as excinfo:
        ecr.batch_delete_image(repositoryName=REPO, imageIds=[{"imageDigest": digests[2]}])
    assert error_code(excinfo) == "ThrottlingException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert set(repo.snapshot()) == {digests[2]}
    assert sb.faults.calls["BatchDeleteImage"] == 2
    assert sb.faults.injected["BatchDeleteImage"] == 1
    # Other operations have their own (absent) limit.
    assert _describe_digests(ecr) == [digests[2]]


def test_throttle_bucket_refills_with_the_fake_clock(
    sb: Sandbox, ecr: Any, repo: RepoSeeder
) -> None:
    now = [500.0]
    sb.faults.clock = lambda: now[0]
    sb.faults.throttle("DescribeImages", rate=2.0, burst=1)
    ecr.describe_images(repositoryName=REPO)
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName=REPO)
    assert error_code(excinfo) == "ThrottlingException"
    now[0] += 0.5  # one token at 2 calls a second
    ecr.describe_images(repositoryName=REPO)
    assert sb.faults.calls["DescribeImages"] == 2
    assert sb.faults.injected["DescribeImages"] == 1


@pytest.mark.parametrize("status", [500, 503])
def test_retrying_client_survives_transient_errors(
    sb: Sandbox, retrying_ecr: Any, repo: RepoSeeder, status: int
) -> None:
    digest = repo.image(["v1"], pushed_at=T0)
    sb.faults.fail_next("DescribeImages", 2, status=status)
    response = retrying_ecr.describe_images(repositoryName=REPO)
    assert [d["imageDigest"] for d in response["imageDetails"]] == [digest]
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert sb.faults.injected["DescribeImages"] == 2
    assert sb.faults.calls["DescribeImages"] == 1


@pytest.mark.parametrize("status", [500, 503])
def test_single_attempt_client_sees_the_injected_error(
    sb: Sandbox, ecr: Any, repo: RepoSeeder, status: int
) -> None:
    sb.faults.fail_next("ListImages", 1, status=status)
    with pytest.raises(ClientError) as excinfo:
        ecr.list_images(repositoryName=REPO)
    assert error_code(excinfo) == "ServerException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert ecr.list_images(repositoryName=REPO)["imageIds"] == []
    assert sb.faults.injected["ListImages"] == 1
    assert sb.faults.calls["ListImages"] == 1


def test_fail_every_third_call(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    sb.faults.fail_every("DescribeImages", 3)
    outcomes = []
    for _ in range(7):
        try:
            ecr.describe_images(repositoryName=REPO)
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(str(exc.response["ResponseMetadata"]["HTTPStatusCode"]))
    assert outcomes == ["ok", "ok", "503", "ok", "ok", "503", "ok"]
    assert sb.faults.injected["DescribeImages"] == 2
    assert sb.faults.calls["DescribeImages"] == 5


def test_fault_for_every_operation(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    sb.faults.fail_next("*", 1)
    with pytest.raises(ClientError):
        ecr.describe_repositories()
    ecr.describe_repositories()
    assert sb.faults.injected["DescribeRepositories"] == 1


def test_after_call_hook_changes_the_registry_between_calls(
    sb: Sandbox, ecr: Any, repo: RepoSeeder
) -> None:
    old = repo.image(["v1"], pushed_at=T0)
    new = repo.image(["candidate"], pushed_at=T0)

    def hook(store: Store) -> None:
        stored = store.repository(ACCOUNT, REGION, REPO)
        assert stored is not None
        stored.set_tag("v1", new)

    sb.faults.after_call("DescribeImages", 1, hook)
    by_tag = {"repositoryName": REPO, "imageIds": [{"imageTag": "v1"}]}
    first = ecr.describe_images(**by_tag)["imageDetails"]
    assert [d["imageDigest"] for d in first] == [old]
    second = ecr.describe_images(**by_tag)["imageDetails"]
    assert [d["imageDigest"] for d in second] == [new]
    assert sorted(second[0]["imageTags"]) == ["candidate", "v1"]
    assert repo.snapshot()[old] == ()

"""Call accounting, the HTTP control endpoints, and the services moto still answers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import ACCOUNT, REPO, T0, error_code

from cleaner.sandbox import RepoSeeder, Sandbox


def _http(sb: Sandbox, path: str, method: str = "GET") -> tuple[int, Any]:
    request = urllib.request.Request(sb.endpoint_url + path, method=method, data=b"")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _make_calls(sb: Sandbox, ecr: Any) -> None:
    sb.faults.fail_next("ListImages", 1)
    ecr.describe_images(repositoryName=REPO)
    ecr.describe_images(repositoryName=REPO, maxResults=5)
    with pytest.raises(ClientError):
        ecr.list_images(repositoryName=REPO)  # injected: not answered by the handler
    ecr.list_images(repositoryName=REPO)
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName="missing")  # an ECR error is still answered
    assert error_code(excinfo) == "RepositoryNotFoundException"


def test_calls_count_each_answered_operation(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    _make_calls(sb, ecr)
    assert dict(sb.faults.calls) == {"DescribeImages": 3, "ListImages": 1}
    assert dict(sb.faults.injected) == {"ListImages": 1}


def test_calls_over_http(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    _make_calls(sb, ecr)
    status, body = _http(sb, "/_sandbox/calls")
    assert status == 200
    assert body["calls"] == dict(sb.faults.calls) == {"DescribeImages": 3, "ListImages": 1}
    assert body["injected"] == {"ListImages": 1}
    assert body["peak"] == {"DescribeImages": 1, "ListImages": 1}  # one call at a time


def test_control_reset_over_http(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    repo.image(["v1"], pushed_at=T0)
    ecr.describe_images(repositoryName=REPO)
    status, _ = _http(sb, "/_sandbox/reset", method="POST")
    assert status == 200
    assert _http(sb, "/_sandbox/calls")[1] == {"calls": {}, "injected": {}, "peak": {}}
    assert ecr.describe_repositories()["repositories"] == []


def test_unknown_control_is_404(sb: Sandbox) -> None:
    assert _http(sb, "/_sandbox/nonsense")[0] == 404


def test_moto_reset_clears_the_sandbox_ecr(sb: Sandbox, ecr: Any, repo: RepoSeeder) -> None:
    repo.image(["v1"], pushed_at=T0)
    sb.faults.fail_every("DescribeImages", 1)
    status, _ = _http(sb, "/moto-api/reset", method="POST")
    assert status == 200
    assert ecr.describe_repositories()["repositories"] == []
    with pytest.raises(ClientError) as excinfo:
        ecr.describe_images(repositoryName=REPO)
    assert error_code(excinfo) == "RepositoryNotFoundException"
    assert sb.faults.injected["DescribeImages"] == 0


def test_repository_created_over_the_api(ecr: Any, sb: Sandbox) -> None:
    created = ecr.create_repository(repositoryName="team/new")["repository"]
    assert created["registryId"] == ACCOUNT
    assert created["repositoryArn"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/new"
    with pytest.raises(ClientError) as excinfo:
        ecr.create_repository(repositoryName="team/new")
    assert error_code(excinfo) == "RepositoryAlreadyExistsException"
    assert sb.store.repository(ACCOUNT, "us-east-1", "team/new") is not None


def test_other_services_go_to_moto(sb: Sandbox) -> None:
    sts = sb.client("sts")
    assert sts.get_caller_identity()["Account"] == ACCOUNT
    assert sb.faults.calls == {}

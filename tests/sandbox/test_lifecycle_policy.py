"""Put/Get/DeleteLifecyclePolicy: ECR's request and response shapes and errors.

moto refuses valid archive-era policies and answers errors as ECR does not, so the
sandbox answers these calls itself: a policy is stored as given, validated as ECR
validates it, and a repository without one says LifecyclePolicyNotFoundException.
"""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sandbox_support import REPO, error_code

from cleaner.sandbox import RepoSeeder

EXPIRE_UNTAGGED = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "description": "Keep only one untagged image, expire all others",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "imageCountMoreThan",
                    "countNumber": 1,
                },
                "action": {"type": "expire"},
            }
        ]
    },
    indent=4,
)
# Archive the images not pulled in 90 days, then expire what was archived a year ago:
# ECR accepts it; moto's validator does not.
ARCHIVE_ERA = json.dumps(
    {
        "rules": [
            {
                "rulePriority": 1,
                "selection": {
                    "tagStatus": "any",
                    "countType": "sinceImagePulled",
                    "countUnit": "days",
                    "countNumber": 90,
                },
                "action": {"type": "transition", "targetStorageClass": "archive"},
            },
            {
                "rulePriority": 2,
                "selection": {
                    "tagStatus": "any",
                    "storageClass": "archive",
                    "countType": "sinceImageTransitioned",
                    "countUnit": "days",
                    "countNumber": 365,
                },
                "action": {"type": "expire"},
            },
        ]
    }
)


@pytest.mark.parametrize("text", [EXPIRE_UNTAGGED, ARCHIVE_ERA], ids=["expire", "archive-era"])
def test_put_then_get_returns_the_text_as_given(ecr: Any, repo: RepoSeeder, text: str) -> None:
    put = ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=text)
    assert {k: put[k] for k in ("registryId", "repositoryName", "lifecyclePolicyText")} == {
        "registryId": repo.repo.registry_id,
        "repositoryName": REPO,
        "lifecyclePolicyText": text,
    }
    got = ecr.get_lifecycle_policy(repositoryName=REPO)
    assert got["lifecyclePolicyText"] == text
    assert got["repositoryName"] == REPO and got["registryId"] == repo.repo.registry_id


def test_get_without_a_policy_is_lifecycle_policy_not_found(ecr: Any, repo: RepoSeeder) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecr.get_lifecycle_policy(repositoryName=REPO)
    assert error_code(excinfo) == "LifecyclePolicyNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_delete_returns_the_policy_and_removes_it(ecr: Any, repo: RepoSeeder) -> None:
    ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=EXPIRE_UNTAGGED)
    deleted = ecr.delete_lifecycle_policy(repositoryName=REPO)
    assert deleted["lifecyclePolicyText"] == EXPIRE_UNTAGGED
    for call in (ecr.get_lifecycle_policy, ecr.delete_lifecycle_policy):
        with pytest.raises(ClientError) as excinfo:
            call(repositoryName=REPO)
        assert error_code(excinfo) == "LifecyclePolicyNotFoundException"


def test_put_replaces_the_previous_policy(ecr: Any, repo: RepoSeeder) -> None:
    ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=EXPIRE_UNTAGGED)
    ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=ARCHIVE_ERA)
    assert ecr.get_lifecycle_policy(repositoryName=REPO)["lifecyclePolicyText"] == ARCHIVE_ERA


@pytest.mark.parametrize(
    "call",
    ["put_lifecycle_policy", "get_lifecycle_policy", "delete_lifecycle_policy"],
)
def test_unknown_repository_is_repository_not_found(ecr: Any, sb: Any, call: str) -> None:
    extra = {"lifecyclePolicyText": EXPIRE_UNTAGGED} if call.startswith("put") else {}
    with pytest.raises(ClientError) as excinfo:
        getattr(ecr, call)(repositoryName="nope", **extra)
    assert error_code(excinfo) == "RepositoryNotFoundException"


@pytest.mark.parametrize(
    ("rules", "says"),
    [
        pytest.param(
            [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}},
             {"rulePriority": 2, "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}],
            "a tagStatus any rule must have the highest rulePriority",
            id="any-not-last",
        ),
        pytest.param(
            [{"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPatternList": ["a*b*c*d*e*f"], "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}],
            "at most 4 '*' wildcards per pattern",
            id="five-wildcards",
        ),
        pytest.param(
            [{"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 9}, "action": {"type": "expire"}}],
            "sinceImagePulled only with action type transition",
            id="pulled-expire",
        ),
    ],
)  # fmt: skip
def test_put_refuses_what_ecr_refuses(
    ecr: Any, repo: RepoSeeder, rules: list[dict[str, Any]], says: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=json.dumps({"rules": rules}))  # fmt: skip
    assert error_code(excinfo) == "InvalidParameterException"
    message = excinfo.value.response["Error"]["Message"]
    assert "Lifecycle policy validation failure" in message and says in message
    with pytest.raises(ClientError):
        ecr.get_lifecycle_policy(repositoryName=REPO)  # nothing was stored


@pytest.mark.parametrize("length", [99, 30_721])
def test_put_enforces_the_text_length_the_api_allows(
    unvalidated_ecr: Any, repo: RepoSeeder, length: int
) -> None:
    text = EXPIRE_UNTAGGED.ljust(length) if length > 100 else "x" * length
    with pytest.raises(ClientError) as excinfo:
        unvalidated_ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=text)
    assert error_code(excinfo) == "InvalidParameterException"
    assert "length between 100 and 30720" in excinfo.value.response["Error"]["Message"]


def test_reset_and_deleted_repositories_forget_policies(ecr: Any, sb: Any, repo: RepoSeeder) -> None:  # fmt: skip
    ecr.put_lifecycle_policy(repositoryName=REPO, lifecyclePolicyText=EXPIRE_UNTAGGED)
    ecr.delete_repository(repositoryName=REPO, force=True)
    ecr.create_repository(repositoryName=REPO)
    with pytest.raises(ClientError) as excinfo:
        ecr.get_lifecycle_policy(repositoryName=REPO)
    assert error_code(excinfo) == "LifecyclePolicyNotFoundException"


def test_seeding_api_sets_a_policy_get_returns(ecr: Any, repo: RepoSeeder) -> None:
    repo.lifecycle_policy(ARCHIVE_ERA)
    assert ecr.get_lifecycle_policy(repositoryName=REPO)["lifecyclePolicyText"] == ARCHIVE_ERA

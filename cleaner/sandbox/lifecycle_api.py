"""ECR's PutLifecyclePolicy, GetLifecyclePolicy and DeleteLifecyclePolicy for the sandbox.

moto's own lifecycle validator accepts only expire rules with imageCountMoreThan or
sinceImagePushed (it refuses archive-era policies ECR accepts, and accepts some ECR
refuses), so the sandbox answers these itself, validating with the validator the
cleaner uses for ECR's rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cleaner.config.lifecycle_source import policy_from_text

if TYPE_CHECKING:
    from cleaner.sandbox.ecr_api import EcrApi
    from cleaner.sandbox.store import StoredRepository

Body = dict[str, Any]
MIN_TEXT, MAX_TEXT = 100, 30_720  # lifecyclePolicyText's length, in ECR's API model


def handlers(api: EcrApi) -> dict[str, Callable[[str, str, Body], Body]]:
    def put(account: str, region: str, body: Body) -> Body:
        repo = api._repo(account, region, body)
        text = body.get("lifecyclePolicyText")
        check_text(text)
        repo.lifecycle_policy = text
        return _answer(repo)

    def get(account: str, region: str, body: Body) -> Body:
        return _answer(_with_policy(api._repo(account, region, body)))

    def delete(account: str, region: str, body: Body) -> Body:
        answer = _answer(_with_policy(api._repo(account, region, body)))
        api._repo(account, region, body).lifecycle_policy = None
        return answer

    return {
        "PutLifecyclePolicy": put,
        "GetLifecyclePolicy": get,
        "DeleteLifecyclePolicy": delete,
    }


def check_text(text: object) -> None:
    """Raise ApiError as ECR would for a lifecycle policy text it does not accept."""
    from cleaner.sandbox.ecr_api import ApiError

    where = "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint"
    if not isinstance(text, str) or not MIN_TEXT <= len(text) <= MAX_TEXT:
        size = len(text) if isinstance(text, str) else 0
        raise ApiError(
            "InvalidParameterException",
            f"{where}: 'Member must have length between {MIN_TEXT} and {MAX_TEXT}' (got {size})",
        )
    try:
        policy_from_text(text)
    except ValueError as exc:
        raise ApiError(
            "InvalidParameterException", f"{where}: 'Lifecycle policy validation failure: {exc}'"
        ) from None


def _with_policy(repo: StoredRepository) -> StoredRepository:
    from cleaner.sandbox.ecr_api import ApiError

    if repo.lifecycle_policy is None:
        raise ApiError(
            "LifecyclePolicyNotFoundException",
            f"Lifecycle policy does not exist for the repository with name '{repo.name}' in "
            f"the registry with id '{repo.registry_id}'",
        )
    return repo


def _answer(repo: StoredRepository) -> Body:
    # No lastEvaluatedAt: the sandbox stores lifecycle policies but never runs them.
    return {
        "registryId": repo.registry_id,
        "repositoryName": repo.name,
        "lifecyclePolicyText": repo.lifecycle_policy,
    }

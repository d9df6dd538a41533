"""Shared constants and helpers for the sandbox conformance tests (fixtures live in conftest)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cleaner.sandbox import manifests as mf

ACCOUNT = "123456789012"
REGION = "us-east-1"
REPO = "repo"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
INDEX_TYPES = [mf.OCI_INDEX, mf.DOCKER_MANIFEST_LIST]
ALL_TYPES = [*INDEX_TYPES, mf.OCI_MANIFEST, mf.DOCKER_MANIFEST]


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def pages(call: Callable[..., Any], key: str, **kwargs: Any) -> list[list[Any]]:
    """Every page of a paginated call, following nextToken by hand."""
    out: list[list[Any]] = []
    while True:
        response = call(**kwargs)
        out.append(response[key])
        token = response.get("nextToken")
        if token is None:
            return out
        kwargs["nextToken"] = token


def flat(page_list: list[list[Any]]) -> list[Any]:
    return [item for page in page_list for item in page]


def put(ecr: Any, manifest: str, tag: str | None = None, repo: str = REPO) -> str:
    """PutImage with the digest ECR must compute; returns the digest ECR reported."""
    args: dict[str, Any] = {
        "repositoryName": repo,
        "imageManifest": manifest,
        "imageDigest": mf.digest_of(manifest),
    }
    if tag is not None:
        args["imageTag"] = tag
    return str(ecr.put_image(**args)["image"]["imageId"]["imageDigest"])


def ref(manifest: str, platform: str | None = None) -> mf.ChildRef:
    """The index descriptor of `manifest` (a docker or OCI image manifest)."""
    media_type = json.loads(manifest)["mediaType"]
    plat = None
    if platform is not None:
        os_name, _, arch = platform.partition("/")
        plat = {"architecture": arch, "os": os_name}
    return mf.ChildRef(mf.digest_of(manifest), media_type, len(manifest), plat)


def detail(ecr: Any, digest: str, repo: str = REPO) -> dict[str, Any]:
    """DescribeImages for one digest."""
    found = ecr.describe_images(repositoryName=repo, imageIds=[{"imageDigest": digest}])
    [only] = found["imageDetails"]
    return dict(only)


def all_details(ecr: Any, repo: str = REPO, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """digest -> ImageDetail over every page of DescribeImages."""
    found = flat(pages(ecr.describe_images, "imageDetails", repositoryName=repo, **kwargs))
    return {d["imageDigest"]: d for d in found}

"""The fast path of the hot ECR calls against botocore's own, over HTTP on the sandbox:
for random registries and random calls (listings followed page by page, re-describes,
manifest reads, deletions, missing images among them), the same answers or errors, the
same registry left behind, the same calls answered, and the same Images."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cleaner.aws.clients import Clients
from cleaner.aws.ecr import ACCEPTED_MEDIA_TYPES, ManifestCache, Registry
from cleaner.core.model import RepositoryRef
from cleaner.sandbox import Sandbox, Seeder

pytestmark = pytest.mark.slow  # a property test over the sandbox: ~10 s

NOW = datetime(2027, 1, 1, tzinfo=UTC)
REGION = "us-east-1"
REPOSITORY = RepositoryRef(REGION, "123456789012", "app")
TAGS = ["v1.0.0", "v1.2.0", "latest", "build-1", "build-2", "feature-a-1", "x" * 128]
MISSING = "sha256:" + "0" * 64

Spec = list[tuple[str, int, int | None, list[str]]]
image_spec = st.tuples(
    st.sampled_from(["plain", "index", "signed", "archived"]),
    st.integers(min_value=0, max_value=400),  # pushed days ago
    st.one_of(st.none(), st.integers(min_value=0, max_value=400)),  # pulled days ago
)


@st.composite
def registries(draw: st.DrawFn) -> Spec:
    specs = draw(st.lists(image_spec, min_size=1, max_size=15))
    owners = draw(st.lists(st.integers(0, len(specs)), min_size=len(TAGS), max_size=len(TAGS)))
    return [
        (kind, pushed, pulled, [t for t, owner in zip(TAGS, owners, strict=True) if owner == i])
        for i, (kind, pushed, pulled) in enumerate(specs)
    ]


def seed(sb: Sandbox, spec: Spec) -> dict[str, tuple[str, ...]]:
    """The registry of `spec`, the same digests every time (after a reset)."""
    sb.reset()
    repo = Seeder(sb.store).repository(REPOSITORY.name)
    for kind, pushed, pulled, tags in spec:
        at = NOW - timedelta(days=pushed, seconds=pushed * 7.125)
        last = None if pulled is None else NOW - timedelta(days=pulled)
        if kind == "index":
            repo.index(tags, pushed_at=at, last_pulled=last, attestations=pushed % 2 == 0)
            continue
        digest = repo.image(tags, pushed_at=at, last_pulled=last, oci=pushed % 3 == 0)
        if kind == "signed":
            repo.cosign(digest, pushed_at=at)
        elif kind == "archived":
            repo.archive(digest, at=at + timedelta(days=1))
    return repo.snapshot()


@st.composite
def calls(draw: st.DrawFn, held: dict[str, tuple[str, ...]]) -> tuple[str, dict[str, Any]]:
    """A hot call on the seeded registry: ids of images it holds, and some it does not."""
    digests = sorted(held)
    held_ids = st.one_of(
        st.builds(lambda d: {"imageDigest": d}, st.sampled_from(digests)),
        st.builds(lambda t: {"imageTag": t}, st.sampled_from(TAGS)),
    )
    missing = st.sampled_from([{"imageDigest": MISSING}, {"imageTag": "absent"}])
    ids = st.lists(held_ids, min_size=1, max_size=12) | st.lists(
        held_ids | missing, min_size=1, max_size=12
    )
    operation = draw(st.sampled_from(["list", "inventory", "describe", "get", "delete"]))
    params: dict[str, Any] = {"repositoryName": REPOSITORY.name}
    if draw(st.booleans()):
        params["registryId"] = REPOSITORY.registry_id
    if operation == "list":
        params["maxResults"] = draw(st.integers(1, 12))
        status = draw(st.sampled_from([None, "ACTIVE", "ARCHIVED", "ANY"]))
        tagged = draw(st.sampled_from([None, "TAGGED", "UNTAGGED", "ANY"]))
        if status or tagged:
            params["filter"] = {
                **({"imageStatus": status} if status else {}),
                **({"tagStatus": tagged} if tagged else {}),
            }
    elif operation in ("describe", "get", "delete"):
        params["imageIds"] = draw(ids)
        if operation == "get" and draw(st.booleans()):
            params["acceptedMediaTypes"] = ACCEPTED_MEDIA_TYPES
    return operation, params


def answer(client: Any, operation: str, params: dict[str, Any]) -> object:
    """What the call gave, without what differs between any two answers (request ids)."""
    try:
        if operation == "inventory":
            inventory = Registry(client, REGION).inventory(REPOSITORY, ManifestCache())
            return inventory
        if operation == "list":
            pages, token = [], None
            while True:
                page = client.describe_images(**params, **({"nextToken": token} if token else {}))
                pages.append(without_metadata(page))
                token = page.get("nextToken")
                if not token:
                    return pages
        method = {
            "describe": client.describe_images,
            "get": client.batch_get_image,
            "delete": client.batch_delete_image,
        }[operation]
        return without_metadata(method(**params))
    except ClientError as exc:
        return ("error", exc.response["Error"], exc.response["ResponseMetadata"]["HTTPStatusCode"])


def without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


@pytest.fixture
def both_paths(sb: Sandbox) -> dict[str, Any]:
    return {
        "botocore": Clients(fast_calls=False).ecr(REGION),
        "fast": Clients().ecr(REGION),
    }


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=registries(), data=st.data())
def test_the_fast_path_answers_as_botocore_does(
    sb: Sandbox, both_paths: dict[str, Any], spec: Spec, data: st.DataObject
) -> None:
    operation, params = data.draw(calls(seed(sb, spec)))
    seen = {}
    for name, client in both_paths.items():
        seed(sb, spec)  # the same registry for each path: deletions change it
        got = answer(client, operation, params)
        seen[name] = (got, dict(sb.faults.calls), seed_state(sb))
    assert seen["fast"] == seen["botocore"]
    event(f"{operation}: {got[0] if isinstance(got, tuple) else 'answered'}")


def seed_state(sb: Sandbox) -> dict[str, tuple[str, ...]]:
    repo = sb.store.repository(REPOSITORY.registry_id, REGION, REPOSITORY.name)
    assert repo is not None
    return {d: tuple(sorted(i.tags)) for d, i in repo.images.items()}


def test_the_fast_path_is_what_the_cleaner_uses(sb: Sandbox) -> None:
    client = Clients().ecr(REGION)
    for method in ("describe_images", "batch_get_image", "batch_delete_image"):
        assert getattr(client, method).__module__ == "cleaner.aws.fast_calls"
    Seeder(sb.store).repository(REPOSITORY.name).image(["v1"], pushed_at=NOW)
    assert len(Registry(client, REGION).inventory(REPOSITORY, ManifestCache()).images) == 1
    assert dict(sb.faults.calls) == {"DescribeImages": 1}

"""Image references: how they are read, and which images of an inventory they name."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cleaner.core.model import Image, Inventory, RepositoryRef
from cleaner.core.references import (
    ImageReference,
    Usage,
    UsageIndex,
    describe_workloads,
    parse_reference,
    resolve_in_use,
)

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
OTHER_ACCOUNT = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
OTHER_REGION = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
PUSHED = datetime(2026, 1, 1, tzinfo=UTC)

# fmt: off
PARSED = [
    # text, registry, repository, tag, digest
    ("app", None, "app", "latest", None),
    ("team-a/api:v1.2.0", None, "team-a/api", "v1.2.0", None),
    (f"{ECR}/team-a/api:v1", ECR, "team-a/api", "v1", None),
    (f"{ECR}/team-a/api@{D1}", ECR, "team-a/api", None, D1),
    (f"{ECR}/team-a/api:v1@{D1}", ECR, "team-a/api", "v1", D1),
    (f"docker-pullable://{ECR}/api@{D1}", ECR, "api", None, D1),
    (D1, None, None, None, D1),
    ("localhost:5000/app:1", "localhost:5000", "app", "1", None),
    ("localhost/app", "localhost", "app", "latest", None),
    ("docker.io/library/nginx:1.27", "docker.io", "library/nginx", "1.27", None),
    ("  app:1  ", None, "app", "1", None),
    ("123456789012.DKR.ECR.us-east-1.amazonaws.com/app:1", ECR, "app", "1", None),
]
# fmt: on


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), PARSED)
def test_references_are_read_like_docker_reads_them(
    text: str, registry: str | None, repository: str | None, tag: str | None, digest: str | None
) -> None:
    assert parse_reference(text) == ImageReference(text, registry, repository, tag, digest)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "'' is not a valid repository name"),
        ("App:1", "'App' is not a valid repository name"),
        ("app:", "'' is not a valid tag"),
        ("app:-x", "'-x' is not a valid tag"),
        ("app@sha256:short", "'sha256:short' is not a digest"),
        ("app@", "'' is not a digest"),
        ("team//api", "'team//api' is not a valid repository name"),
        (f"{ECR}/", "'' is not a valid repository name"),
    ],
)
def test_what_is_not_a_reference_says_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="^" + repr(text).replace("(", r"\(")) as caught:
        parse_reference(text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", ("123456789012", "us-east-1")),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            ("123456789012", "us-gov-west-1"),
        ),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", ("123456789012", "cn-north-1")),
        ("123456789012.dkr-ecr.eu-west-1.on.aws", ("123456789012", "eu-west-1")),
        ("public.ecr.aws", None),
        ("ghcr.io", None),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example", None),
    ],
)
def test_ecr_hosts_name_their_account_and_region(
    registry: str, expected: tuple[str, str] | None
) -> None:
    assert parse_reference(f"{registry}/app:1").ecr == expected


def inventory(
    name: str = "team-a/api", registry: str = "123456789012", region: str = "us-east-1"
) -> Inventory:
    images = {
        D1: Image(D1, ("v1", "latest"), PUSHED),
        D2: Image(D2, ("v2",), PUSHED),
        D3: Image(D3, (), PUSHED),
    }
    return Inventory(RepositoryRef(region, registry, name), images)


def in_use(*references: str, repo: Inventory | None = None) -> dict[str, str]:
    usages = [Usage(parse_reference(r), f"workload {i}") for i, r in enumerate(references)]
    return resolve_in_use(repo or inventory(), UsageIndex(usages))


# fmt: off
RESOLVED = [
    pytest.param([f"{ECR}/team-a/api:v2"], {D2}, id="tag"),
    pytest.param([f"{ECR}/team-a/api"], {D1}, id="no-tag-means-latest"),
    pytest.param([f"{ECR}/team-a/api@{D3}"], {D3}, id="digest-only-untagged"),
    pytest.param([f"{ECR}/team-a/api:v2@{D3}"], {D3}, id="digest-wins-over-tag"),
    pytest.param(["team-a/api:v2"], {D2}, id="no-registry-any-registry"),
    pytest.param([D3], {D3}, id="bare-digest-anywhere"),
    pytest.param([f"{ECR}/team-a/api:v9"], set(), id="unknown-tag"),
    pytest.param([f"{ECR}/team-a/api@{'sha256:' + '9' * 64}"], set(), id="digest-elsewhere"),
    pytest.param([f"{ECR}/team-a/web:v2"], set(), id="other-repository"),
    pytest.param([f"{OTHER_ACCOUNT}/team-a/api:v2"], set(), id="other-account"),
    pytest.param([f"{OTHER_REGION}/team-a/api:v2"], set(), id="other-region"),
    pytest.param(["ghcr.io/team-a/api:v2"], set(), id="other-registry"),
    pytest.param([f"{ECR}/team-a/api:v1", f"{ECR}/team-a/api@{D2}"], {D1, D2}, id="several"),
]
# fmt: on


@pytest.mark.parametrize(("references", "digests"), RESOLVED)
def test_a_reference_names_its_digest_or_its_tags_digest_in_the_same_registry(
    references: list[str], digests: set[str]
) -> None:
    assert set(in_use(*references)) == digests


def test_each_image_names_every_workload_that_uses_it() -> None:
    usages = [
        Usage(parse_reference(f"{ECR}/team-a/api:v1"), "ecs task t-1 (cluster prod)"),
        Usage(parse_reference(f"{ECR}/team-a/api@{D1}"), "lambda fn:3"),
        Usage(parse_reference("team-a/api:latest"), "lambda fn:3"),
    ]
    assert resolve_in_use(inventory(), UsageIndex(usages)) == {
        D1: "ecs task t-1 (cluster prod); lambda fn:3"
    }


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "w0"),
        (3, "w0; w1; w2"),
        (5, "w0; w1; w2; and 2 more"),
    ],
)
def test_many_workloads_are_summed_up(count: int, expected: str) -> None:
    assert describe_workloads(f"w{i}" for i in reversed(range(count))) == expected


def test_the_index_only_offers_a_repository_the_references_that_can_name_it() -> None:
    usages = [Usage(parse_reference(t), t) for t in ("a:1", "b:1", D1, f"{ECR}/a:2")]
    index = UsageIndex(usages)
    assert len(index) == 4
    found = index.candidates(RepositoryRef("us-east-1", "123456789012", "a"))
    assert sorted(u.workload for u in found) == sorted(["a:1", D1, f"{ECR}/a:2"])
    other = index.candidates(RepositoryRef("eu-west-1", "123456789012", "a"))
    assert sorted(u.workload for u in other) == sorted(["a:1", D1])

"""Sharding: shards 0..N-1 partition the repositories exactly, and where K/N comes from."""
# ruff: noqa: E501  (one row per line keeps the tables readable)

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleaner.core.model import RepositoryRef, Shard, shard_of
from cleaner.run.shard import ShardError, parse_shard, resolve_shard

repositories = st.builds(
    RepositoryRef,
    region=st.sampled_from(["us-east-1", "eu-west-1", "ap-south-1"]),
    registry_id=st.from_regex(r"[0-9]{12}", fullmatch=True),
    name=st.from_regex(r"[a-z0-9]{1,8}(/[a-z0-9-]{1,8}){0,2}", fullmatch=True),
)


@pytest.mark.slow  # property tests at full size
@given(refs=st.lists(repositories, unique=True, max_size=60), count=st.integers(1, 12))
def test_shards_partition_the_repositories_exactly(refs: list[RepositoryRef], count: int) -> None:
    shards = [Shard(k, count) for k in range(count)]
    owned = [[r for r in refs if s.owns(r)] for s in shards]
    flat = [r for part in owned for r in part]
    assert sorted(flat) == sorted(refs)  # none missed, none twice
    for ref in refs:
        assert sum(s.owns(ref) for s in shards) == 1


@pytest.mark.slow
@given(ref=repositories, count=st.integers(1, 50))
def test_a_repository_always_lands_in_the_same_shard(ref: RepositoryRef, count: int) -> None:
    copy = RepositoryRef(ref.region, ref.registry_id, ref.name)
    assert shard_of(ref, count) == shard_of(copy, count)
    assert 0 <= shard_of(ref, count) < count


def test_the_hash_is_stable_across_processes_and_releases() -> None:
    # Pinned: changing the key or the hash would move repositories between shards of
    # machines running different versions at once.
    ref = RepositoryRef("us-east-1", "123456789012", "team-a/api")
    assert [shard_of(ref, n) for n in (1, 2, 3, 4, 10)] == [0, 1, 1, 1, 7]


def test_the_same_name_in_another_registry_or_region_is_another_repository() -> None:
    names = [
        RepositoryRef(r, a, "app") for r in ("us-east-1", "eu-west-1") for a in ("1" * 12, "2" * 12)
    ]
    assert len({shard_of(ref, 1000) for ref in names}) == 4


# fmt: off
RESOLVED = [
    # --shard, --shard-count, environment, expected
    pytest.param(None, None, {}, None, id="nothing"),
    pytest.param("1/4", None, {}, Shard(1, 4), id="flag"),
    pytest.param(None, None, {"ECR_CLEANER_SHARD": "2/3"}, Shard(2, 3), id="env"),
    pytest.param("0/2", None, {"ECR_CLEANER_SHARD": "2/3"}, Shard(0, 2), id="flag-beats-env"),
    pytest.param(None, "5", {"JOB_COMPLETION_INDEX": "4"}, Shard(4, 5), id="count-flag-and-index"),
    pytest.param(None, None, {"ECR_CLEANER_SHARD_COUNT": "5", "JOB_COMPLETION_INDEX": "3"}, Shard(3, 5), id="count-env-and-index"),
    pytest.param(None, "5", {"ECR_CLEANER_SHARD": "0/2", "JOB_COMPLETION_INDEX": "1"}, Shard(1, 5), id="count-flag-beats-shard-env"),
    pytest.param(None, None, {"ECR_CLEANER_SHARD": "0/2", "ECR_CLEANER_SHARD_COUNT": "5", "JOB_COMPLETION_INDEX": "1"}, Shard(0, 2), id="shard-env-beats-count-env"),
    pytest.param(None, None, {"JOB_COMPLETION_INDEX": "3"}, None, id="index-alone-ignored"),
    pytest.param(None, None, {"ECR_CLEANER_SHARD": ""}, None, id="empty-env-unset"),
    pytest.param("0/1", None, {}, Shard(0, 1), id="one-shard"),
]
# fmt: on


@pytest.mark.parametrize(("flag", "count", "environ", "expected"), RESOLVED)
def test_the_shard_comes_from_flags_then_environment(
    flag: str | None, count: str | None, environ: dict[str, str], expected: Shard | None
) -> None:
    assert resolve_shard(flag, count, environ) == expected


# fmt: off
INVALID = [
    pytest.param("4/4", None, {}, "--shard '4/4': K must be from 0 to 3 (shards count from 0)", id="k-too-big"),
    pytest.param("0/0", None, {}, "--shard '0/0': the shard count N must be at least 1", id="n-zero"),
    pytest.param("-1/4", None, {}, "--shard '-1/4': K and N must be whole numbers (K/N, e.g. 0/4)", id="negative"),
    pytest.param("1", None, {}, "--shard '1': give K/N, e.g. 0/4 (shard K of N, from 0)", id="no-slash"),
    pytest.param("a/b", None, {}, "--shard 'a/b': K and N must be whole numbers (K/N, e.g. 0/4)", id="words"),
    pytest.param("1/٣", None, {}, "--shard '1/٣': K and N must be whole numbers (K/N, e.g. 0/4)", id="unicode-digit"),
    pytest.param("1/4", "4", {}, "give --shard K/N or --shard-count N, not both", id="both-flags"),
    pytest.param(None, "4", {}, "--shard-count 4: needs $JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job) for this process's shard; outside one, use --shard K/N", id="count-without-index"),
    pytest.param(None, "4", {"JOB_COMPLETION_INDEX": "4"}, "--shard-count '4' with $JOB_COMPLETION_INDEX='4': K must be from 0 to 3 (shards count from 0)", id="index-too-big"),
    pytest.param(None, None, {"ECR_CLEANER_SHARD": "3/2"}, "$ECR_CLEANER_SHARD '3/2': K must be from 0 to 1 (shards count from 0)", id="env-invalid"),
    pytest.param(None, None, {"ECR_CLEANER_SHARD_COUNT": "x", "JOB_COMPLETION_INDEX": "0"}, "$ECR_CLEANER_SHARD_COUNT 'x' with $JOB_COMPLETION_INDEX='0': K and N must be whole numbers (K/N, e.g. 0/4)", id="count-env-invalid"),
]
# fmt: on


@pytest.mark.parametrize(("flag", "count", "environ", "message"), INVALID)
def test_invalid_shard_settings_say_what_is_wrong(
    flag: str | None, count: str | None, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ShardError) as caught:
        resolve_shard(flag, count, environ)
    assert str(caught.value) == message


def test_a_shard_prints_as_k_of_n() -> None:
    assert str(parse_shard("3/8")) == "3/8"

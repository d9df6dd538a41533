"""Which shard this process runs, from --shard / --shard-count and the environment.

N processes started with shards 0/N ... N-1/N split the repositories among themselves
with no coordination; `Shard` (cleaner.core.model) says which repositories it owns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cleaner.core.model import Shard

SHARD_ENV = "ECR_CLEANER_SHARD"
SHARD_COUNT_ENV = "ECR_CLEANER_SHARD_COUNT"
# Set by Kubernetes in each pod of an Indexed Job (completionMode: Indexed).
JOB_INDEX_ENV = "JOB_COMPLETION_INDEX"
_NUMBER = re.compile(r"[0-9]+")


class ShardError(ValueError):
    """An invalid shard setting: a usage error (exit 2)."""


def parse_shard(text: str, where: str = "--shard") -> Shard:
    index, slash, count = text.strip().partition("/")
    if not slash:
        raise ShardError(f"{where} {text!r}: give K/N, e.g. 0/4 (shard K of N, from 0)")
    return make_shard(index, count, f"{where} {text!r}")


def make_shard(index: str, count: str, context: str) -> Shard:
    """`context` starts each error message: what was given, and where."""
    if not (_NUMBER.fullmatch(index.strip()) and _NUMBER.fullmatch(count.strip())):
        raise ShardError(f"{context}: K and N must be whole numbers (K/N, e.g. 0/4)")
    k, n = int(index), int(count)
    if n < 1:
        raise ShardError(f"{context}: the shard count N must be at least 1")
    if k >= n:
        raise ShardError(f"{context}: K must be from 0 to {n - 1} (shards count from 0)")
    return Shard(k, n)


def resolve_shard(
    shard: str | None, shard_count: str | None, environ: Mapping[str, str]
) -> Shard | None:
    """The shard this process runs, or None for all repositories. First match wins:

    1. `--shard K/N`;
    2. `--shard-count N` with the index from $JOB_COMPLETION_INDEX (Kubernetes);
    3. $ECR_CLEANER_SHARD=K/N;
    4. $ECR_CLEANER_SHARD_COUNT=N with the index from $JOB_COMPLETION_INDEX.

    A count without an index is an error (each process would otherwise clean
    everything); an index without a count is ignored (every Indexed Job sets it).
    """
    if shard is not None:
        if shard_count is not None:
            raise ShardError("give --shard K/N or --shard-count N, not both")
        return parse_shard(shard)
    if shard_count is not None:
        return _indexed(shard_count, "--shard-count", environ)
    if environ.get(SHARD_ENV):
        return parse_shard(environ[SHARD_ENV], f"${SHARD_ENV}")
    if environ.get(SHARD_COUNT_ENV):
        return _indexed(environ[SHARD_COUNT_ENV], f"${SHARD_COUNT_ENV}", environ)
    return None


def _indexed(count: str, where: str, environ: Mapping[str, str]) -> Shard:
    index = environ.get(JOB_INDEX_ENV)
    if not index:
        raise ShardError(
            f"{where} {count}: needs ${JOB_INDEX_ENV} (set by a Kubernetes Indexed Job) "
            "for this process's shard; outside one, use --shard K/N"
        )
    return make_shard(index, count, f"{where} {count!r} with ${JOB_INDEX_ENV}={index!r}")

"""Client CPU per hot ECR call, through the cleaner's own Registry and Clients, against
the sandbox in a process of its own with no injected latency (so this process's CPU
time is the client's alone): one DescribeImages listing page of about 1,000 images
(an inventory with a warm manifest cache), a re-describe of 100 images by imageIds,
a BatchGetImage of 100 index manifests, a BatchDeleteImage of 100 digests (each batch
fresh: the sandbox seeds enough images to delete). Each path's calls are timed in
rounds of `calls` calls, rounds interleaved between the paths, best round kept; the
paths are botocore's own calls (Clients(fast_calls=False)) and the cleaner's fast path
for the hot calls (cleaner/aws/fast_calls.py).
Usage: python -m bench.call_cost [calls] [rounds]
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from bench.common import NOW, quiet_logs, table, write_result
from cleaner.aws.clients import Clients
from cleaner.aws.ecr import BATCH_SIZE, ManifestCache, Registry
from cleaner.core.model import RepositoryRef

REGION = "us-east-1"
LISTING = "bench/listing"  # one page: at most 1,000 images, indexes among them
MANIFESTS = "bench/manifests"  # more than 100 indexes
DELETING = "bench/deleting"  # single-platform images, 100 deleted by each call
TARGET = 0.25  # of the client CPU per re-describe and per delete, saved by the fast path
# Each path: how its Clients are made.
PATHS: dict[str, Callable[[], Clients]] = {
    "botocore": lambda: Clients(fast_calls=False),
    "fast": Clients,
}


def serve(deletable: int) -> None:
    """The sandbox process: seed, print READY and the endpoint, serve until stdin closes."""
    from datetime import timedelta

    from cleaner.sandbox import Sandbox, Seeder, bulk

    with Sandbox() as sandbox:
        seeder = Seeder(sandbox.store, region=REGION)
        bulk.seed_repository(seeder.repository(LISTING), 996, NOW)  # adds at most 4 more
        bulk.seed_repository(seeder.repository(MANIFESTS), 2000, NOW)
        seeder.repository(DELETING).bulk(
            deletable, start=NOW - timedelta(days=100), step=timedelta(minutes=1)
        )
        print(f"READY {sandbox.endpoint_url}", flush=True)
        sys.stdin.read()


@contextmanager
def sandbox_process(deletable: int) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.call_cost", "--serve", str(deletable)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        _, endpoint = proc.stdout.readline().split()
        yield endpoint
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
        proc.stdout.close()


class Calls:
    """One path's four calls, ready to repeat."""

    def __init__(self, clients: Clients, deletable: Sequence[str]) -> None:
        client = clients.ecr(REGION)
        self.registry = Registry(
            client, REGION, delete_client=clients.client("ecr", REGION, lane="delete")
        )
        self.listing = RepositoryRef(REGION, "123456789012", LISTING)
        self.cache = ManifestCache()
        inventory = self.registry.inventory(self.listing, self.cache)  # warms the cache
        assert len(inventory.images) <= 1000
        self.digests = sorted(inventory.images)[:BATCH_SIZE]
        self.manifests = RepositoryRef(REGION, "123456789012", MANIFESTS)
        held = self.registry.inventory(self.manifests, ManifestCache()).images
        self.indexes = sorted(d for d, image in held.items() if image.is_index)[:BATCH_SIZE]
        assert len(self.indexes) == BATCH_SIZE
        # Batches of 100 fresh digests; slicing the whole list each call would cost more
        # than the call.
        self.batches = iter(
            [list(deletable[n : n + BATCH_SIZE]) for n in range(0, len(deletable), BATCH_SIZE)]
        )

    def list_page(self) -> None:
        self.registry.inventory(self.listing, self.cache)

    def describe(self) -> None:
        found = self.registry.describe(LISTING, self.digests)
        assert len(found) == BATCH_SIZE

    def batch_get(self) -> None:
        children = self.registry.index_children(self.manifests, self.indexes, ManifestCache())
        assert len(children) == BATCH_SIZE

    def delete(self) -> None:
        batch = next(self.batches)
        result = self.registry.delete(DELETING, [{"imageDigest": d} for d in batch])
        assert len(result.deleted) == BATCH_SIZE and not result.failures, result.failures


OPERATIONS = {
    "DescribeImages page (1,000 images)": Calls.list_page,
    "DescribeImages by 100 imageIds": Calls.describe,
    "BatchGetImage (100 index manifests)": Calls.batch_get,
    "BatchDeleteImage (100 digests)": Calls.delete,
}


def cpu_per_call(call: Callable[[], None], calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        call()
    return (time.process_time() - started) / calls


def deletable_digests() -> list[str]:
    registry = Registry(Clients().ecr(REGION), REGION)
    inventory = registry.inventory(RepositoryRef(REGION, "123456789012", DELETING), ManifestCache())
    return sorted(inventory.images)


def measure(calls: int = 40, rounds: int = 5) -> dict[str, Any]:
    # Each path deletes `calls` batches a round, plus one to warm up.
    per_path = (calls * rounds + 1) * BATCH_SIZE
    with sandbox_process(per_path * len(PATHS)) as endpoint:
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": REGION,
            }
        )
        quiet_logs()
        everything = deletable_digests()
        paths = {
            name: Calls(make(), everything[n * per_path : (n + 1) * per_path])
            for n, (name, make) in enumerate(PATHS.items())
        }
        best: dict[str, dict[str, float]] = {p: {} for p in paths}
        for path in paths.values():  # warm up: connections, first-call caches
            for operation in OPERATIONS.values():
                operation(path)
        for _ in range(rounds):
            for name, path in paths.items():
                for label, operation in OPERATIONS.items():
                    cost = cpu_per_call(partial(operation, path), calls)
                    best[name][label] = min(best[name].get(label, float("inf")), cost)
    return {
        "calls_per_round": calls,
        "rounds": rounds,
        "cpu_ms_per_call": {
            p: {op: round(ms * 1000, 3) for op, ms in costs.items()} for p, costs in best.items()
        },
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def savings(costs: dict[str, dict[str, float]]) -> dict[str, float]:
    """The share of botocore's client CPU per call that the fast path saves."""
    return {op: round(1 - costs["fast"][op] / costs["botocore"][op], 3) for op in OPERATIONS}


def main(calls: int = 40, rounds: int = 5) -> dict[str, Any]:
    result = measure(calls, rounds)
    costs = result["cpu_ms_per_call"]
    saved = result["saved"] = savings(costs)
    targets = ("DescribeImages by 100 imageIds", "BatchDeleteImage (100 digests)")
    result["target_saved"] = TARGET
    result["meets_target"] = all(saved[op] >= TARGET for op in targets)
    rows = [
        [op, f"{costs['botocore'][op]:.2f}", f"{costs['fast'][op]:.2f}", f"{saved[op]:.0%}"]
        for op in OPERATIONS
    ]
    print(
        table(
            f"client CPU per call, ms (best of {rounds} rounds of {calls} calls; load "
            f"{result['load_average']}); target: re-describe and delete >= {TARGET:.0%} saved",
            ["call", "botocore", "fast path", "saved"],
            rows,
        )
    )
    write_result("call_cost", result)
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve(int(sys.argv[2]))
    else:
        main(*(int(a) for a in sys.argv[1:]))

"""The sandbox in a process of its own, so that its CPU (JSON for thousands of images)
does not compete with the cleaner's for one interpreter's GIL. Benchmarks that measure
wall time use it; the cleaner reaches it over HTTP like any ECR endpoint.

    python -m bench.sandbox_process REPOSITORIES IMAGES [--latency S] [--throttle OP=RATE]...
        [--plain]

prints `READY <endpoint>` once seeded, serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from bench.sandbox_run import index_batches
from bench.seeding import seed_plain, seed_registry
from cleaner.sandbox import Sandbox


def serve(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("repositories", type=int)
    parser.add_argument("images", type=int)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--throttle", action="append", default=[])
    parser.add_argument("--burst", type=float, default=1.0)
    parser.add_argument("--plain", action="store_true", help="single-platform images only")
    args = parser.parse_args(argv)
    with Sandbox() as sandbox:
        if args.plain:
            total = seed_plain(sandbox.store, args.repositories, args.images)
        else:
            total = seed_registry(sandbox.store, args.repositories, args.images)
        if args.latency:
            sandbox.faults.add_latency("*", args.latency)
        for spec in args.throttle:
            operation, _, rate = spec.partition("=")
            sandbox.faults.throttle(operation, rate=float(rate), burst=args.burst)
        sandbox.faults.record_times = True
        batches = index_batches(sandbox)
        cpu = time.process_time()
        print(f"READY {sandbox.endpoint_url} {total} {cpu:.3f} {batches}", flush=True)
        sys.stdin.read()  # until the parent closes it
        busy = time.process_time()
    print(f"CPU {busy:.3f}", flush=True)


@contextmanager
def sandbox_process(
    repositories: int, images: int, *extra: str
) -> Iterator[tuple[str, int, dict[str, float]]]:
    """(endpoint, images seeded, stats); stats["serve_cpu_s"] is the CPU time the sandbox
    spent answering (seeding excluded), filled in when the block ends; stats["pid"] its
    process; stats["index_batches"] the BatchGetImage calls a cold cache needs."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.sandbox_process", str(repositories), str(images), *extra],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    stats: dict[str, float] = {}
    try:
        _, endpoint, total, seeded_cpu, batches = proc.stdout.readline().split()
        stats.update(pid=proc.pid, index_batches=int(batches))
        yield endpoint, int(total), stats
    finally:
        proc.stdin.close()
        line = proc.stdout.readline().split()
        if line[:1] == ["CPU"]:
            stats["serve_cpu_s"] = float(line[1]) - float(seeded_cpu)
        proc.wait(timeout=60)
        proc.stdout.close()


def calls(endpoint: str) -> dict[str, dict[str, int]]:
    with urllib.request.urlopen(f"{endpoint}/_sandbox/calls") as response:
        return dict(json.load(response))


if __name__ == "__main__":
    serve(sys.argv[1:])

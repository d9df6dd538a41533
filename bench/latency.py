"""Latency-bound wall time: every ECR call takes 50 ms more; 200 repositories x 2,000
images at concurrency 16. The lower bound: rounds of repositories (200 / 16, rounded
up) x the sequential calls one repository needs x 50 ms, plus the repository listing.
Target: <= 1.3 x that bound. The sandbox runs in a process of its own; the client's
CPU time is reported too, because on a 2-core machine it can exceed the bound.
A second, CPU-light registry (200 x 200 images) shows the concurrency itself.
The run uses limits.processes (default: its default, the usable cores): client CPU is
the sum of every process's (the workers' from RUSAGE_CHILDREN once they have ended).
The machine's load average is recorded: other work slows wall time.
Usage: python -m bench.latency [scale] [processes]
"""

from __future__ import annotations

import math
import os
import sys
import time
from typing import Any

from bench.common import NOW, children_cpu_s, point_env_at, policy, table, write_result
from bench.sandbox_process import calls, sandbox_process
from cleaner.aws.clients import Clients
from cleaner.config.load import load_config_text
from cleaner.run.options import RunOptions
from cleaner.run.parallel import process_count
from cleaner.run.pipeline import run_once

LATENCY = 0.05
CONCURRENCY = 16
TARGET = 1.3


def measure(repositories: int, per_repository: int, processes: int | None = None) -> dict[str, Any]:
    server = sandbox_process(repositories, per_repository, "--latency", str(LATENCY))
    with server as (endpoint, images, sandbox_stats):
        point_env_at(endpoint)
        config = load_config_text(policy(CONCURRENCY, processes))
        load = os.getloadavg()[0]
        started, cpu, workers_cpu = time.perf_counter(), time.process_time(), children_cpu_s()
        result = run_once(config, Clients(), NOW, RunOptions(dry_run=False))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        # The worker processes' CPU is the client's too (they have ended by now).
        workers_cpu = children_cpu_s() - workers_cpu
        answered = calls(endpoint)["calls"]
    total = sum(answered.values())
    listing = answered.get("DescribeRepositories", 0)
    per_repo_calls = (total - listing) / repositories
    rounds = math.ceil(repositories / CONCURRENCY)
    bound = (listing + rounds * per_repo_calls) * LATENCY
    return {
        "repositories": repositories,
        "images": images,
        "concurrency": CONCURRENCY,
        "latency_s": LATENCY,
        "calls": answered,
        "sequential_calls_per_repository": round(per_repo_calls, 2),
        "lower_bound_s": round(bound, 2),
        "processes": process_count(config, repositories),
        "wall_s": round(seconds, 2),
        "client_cpu_s": round(cpu + workers_cpu, 2),
        "client_cpu_workers_s": round(workers_cpu, 2),
        "client_cpu_ms_per_1000_images": round(1000 * (cpu + workers_cpu) / (images / 1000), 1),
        "load_average_at_start": round(load, 2),
        "sandbox_cpu_s": round(sandbox_stats.get("serve_cpu_s", 0.0), 2),
        "ratio": round(seconds / bound, 3),
        "target_ratio": TARGET,
        "meets_target": seconds / bound <= TARGET,
        "exit_code": result.exit_code,
    }


def main(scale: float = 1.0, processes: int | None = None) -> dict[str, Any]:
    repositories = max(CONCURRENCY, int(200 * scale))
    main_run = measure(repositories, 2_000, processes)
    light = measure(repositories, 200, processes) if scale == 1.0 else None
    rows = [
        [
            f"{r['repositories']} x {r['images'] // r['repositories']}",
            r["processes"],
            sum(r["calls"].values()),
            f"{r['lower_bound_s']:.1f} s",
            f"{r['wall_s']:.1f} s",
            f"{r['client_cpu_s']:.1f} s",
            f"{r['sandbox_cpu_s']:.1f} s",
            f"{r['ratio']:.2f}",
        ]
        for r in (main_run, light)
        if r is not None
    ]
    print(
        table(
            f"latency-bound run: +{int(LATENCY * 1000)} ms a call, concurrency "
            f"{CONCURRENCY} (target: wall <= {TARGET} x bound)",
            [
                "registry",
                "processes",
                "calls",
                "lower bound",
                "wall",
                "client CPU",
                "sandbox CPU",
                "ratio",
            ],
            rows,
        )
    )
    name = "latency" if scale == 1.0 else "latency_smoke"
    if processes is not None:
        name += f"_processes_{processes}"
    write_result(name, {**main_run, "cpu_light": light})
    return main_run


if __name__ == "__main__":
    main(
        float(sys.argv[1]) if len(sys.argv) > 1 else 1.0,
        int(sys.argv[2]) if len(sys.argv) > 2 else None,
    )

"""What a second process costs or gains on small runs, where starting it (a fresh
interpreter's imports and clients, about half a second of CPU) is a large share of the
run: 3 repositories x 200 images, and 200 x 200 (the latency benchmark's CPU-light
registry), every call +50 ms, concurrency 16, with limits.processes 1 and 2 in turn.
The runs are dry runs (`plan`: every call but the deletions), so one seeded sandbox
serves them all; the median of `repeats` is reported, with client CPU (every process)
and the load average.
Usage: python -m bench.small_runs [repeats]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any

from bench.common import NOW, children_cpu_s, point_env_at, policy, table, write_result
from bench.sandbox_process import sandbox_process
from cleaner.aws.clients import Clients
from cleaner.config.load import load_config_text
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once

LATENCY = 0.05
CONCURRENCY = 16
REGISTRIES = [(3, 200), (200, 200)]


def measure(repositories: int, per_repository: int, repeats: int) -> dict[str, Any]:
    server = sandbox_process(repositories, per_repository, "--latency", str(LATENCY))
    with server as (endpoint, images, _):
        point_env_at(endpoint)
        runs: dict[int, list[tuple[float, float, float]]] = {1: [], 2: []}
        for _ in range(repeats):
            for processes in (1, 2):  # in turn: the machine's load changes meanwhile
                config = load_config_text(policy(CONCURRENCY, processes))
                load = os.getloadavg()[0]
                started, cpu, children = time.perf_counter(), time.process_time(), children_cpu_s()
                result = run_once(config, Clients(), NOW, RunOptions(dry_run=True))
                assert result.exit_code == 0
                wall = time.perf_counter() - started
                cpu = time.process_time() - cpu + children_cpu_s() - children
                runs[processes].append((wall, cpu, load))
    return {
        "repositories": repositories,
        "images": images,
        "by_processes": {
            str(p): {
                "wall_s_median": round(statistics.median(r[0] for r in rs), 2),
                "wall_s": [round(r[0], 2) for r in rs],
                "client_cpu_s_median": round(statistics.median(r[1] for r in rs), 2),
                "load_average": [round(r[2], 2) for r in rs],
            }
            for p, rs in runs.items()
        },
    }


def main(repeats: int = 5) -> dict[str, Any]:
    results = [measure(r, i, repeats) for r, i in REGISTRIES]
    rows = []
    for result in results:
        one, two = result["by_processes"]["1"], result["by_processes"]["2"]
        rows.append(
            [
                f"{result['repositories']} x {result['images'] // result['repositories']}",
                f"{one['wall_s_median']:.2f} s",
                f"{two['wall_s_median']:.2f} s",
                f"{two['wall_s_median'] / one['wall_s_median']:.2f}",
                f"{one['client_cpu_s_median']:.2f} s",
                f"{two['client_cpu_s_median']:.2f} s",
            ]
        )
    print(
        table(
            f"small dry runs, +{int(LATENCY * 1000)} ms a call, concurrency {CONCURRENCY}: "
            f"median of {repeats}",
            ["registry", "wall, 1 process", "2 processes", "ratio", "CPU, 1", "CPU, 2"],
            rows,
        )
    )
    out = {"latency_s": LATENCY, "concurrency": CONCURRENCY, "repeats": repeats, "runs": results}
    write_result("small_runs", out)
    return out


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)

"""Planning under concurrency: the CPU time to plan 32 synthetic repositories of 2,000
images on one thread, on 8 threads at once, and on 8 threads through the run's
planning lock (cleaner/run/scan.py: one plan at a time per process). Pure planning,
no I/O; best of `repeats`.
Usage: python -m bench.planning_threads [repeats]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from bench.common import NOW, policy, table, write_result
from bench.synthetic import inventories
from cleaner.config.load import load_config_text
from cleaner.core.model import Inventory
from cleaner.core.planner import plan_repository
from cleaner.run.scan import PLANNING
from cleaner.tuning import tune_gc


def main(repeats: int = 3, *, repositories: int = 32, images: int = 2000) -> dict[str, Any]:
    tune_gc()
    config = load_config_text(policy())
    rules = config.policies[0]
    work = list(inventories(repositories, images))

    def planner(guard: AbstractContextManager[Any]) -> Callable[[Inventory], object]:
        def plan(inventory: Inventory) -> object:
            with guard:
                return plan_repository(inventory, rules, config.limits, NOW)

        return plan

    def serial() -> None:
        for inventory in work:
            plan_repository(inventory, rules, config.limits, NOW)

    def threads(guard: AbstractContextManager[Any]) -> Callable[[], None]:
        def run() -> None:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(planner(guard), work))

        return run

    ways: dict[str, Callable[[], None]] = {
        "1 thread": serial,
        "8 threads": threads(nullcontext()),
        "8 threads, planning lock": threads(PLANNING),
    }
    best = dict.fromkeys(ways, float("inf"))
    for _ in range(repeats):
        for name, way in ways.items():
            started = time.process_time()
            way()
            best[name] = min(best[name], time.process_time() - started)
    result = {"images": sum(len(i.images) for i in work), "cpu_s": best}
    print(
        table(
            f"CPU to plan {result['images']} images (best of {repeats})",
            ["how", "CPU", "vs 1 thread"],
            [[k, f"{v:.2f} s", f"{v / best['1 thread']:.2f}x"] for k, v in best.items()],
        )
    )
    write_result("planning_threads", result)
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)

"""Client CPU per 1,000 images listed and planned: inventory every repository of a
sandbox registry (DescribeImages pages, index manifests) and plan it, on one thread, and
divide this process's CPU time by the images. One thread and CPU time, not wall time:
the number says what the client spends per image, whatever else runs on the machine.
The sandbox runs in a process of its own. Best of `repeats` passes.
Usage: python -m bench.list_plan_cpu [repositories] [repeats]
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from bench.common import NOW, point_env_at, policy, table, write_result
from bench.sandbox_process import sandbox_process
from cleaner.aws.clients import Clients
from cleaner.aws.ecr import ManifestCache, Registry
from cleaner.config.load import load_config_text
from cleaner.core.planner import plan_repository

PER_REPOSITORY = 2000


def one_pass(registry: Registry, config: Any) -> tuple[float, int]:
    cpu = time.process_time()
    images = 0
    for ref in registry.repositories():
        inventory = registry.inventory(ref, ManifestCache())  # cold: manifests read too
        policy_ = config.policy_for(ref.name)
        plan_repository(inventory, policy_, config.limits, NOW)
        images += len(inventory.images)
    return time.process_time() - cpu, images


def main(repositories: int = 20, repeats: int = 3) -> dict[str, Any]:
    with sandbox_process(repositories, PER_REPOSITORY) as (endpoint, _, _stats):
        point_env_at(endpoint)
        config = load_config_text(policy())
        registry = Registry(Clients().ecr("us-east-1"), "us-east-1")
        runs = [one_pass(registry, config) for _ in range(repeats)]
    best, images = min(runs)
    result = {
        "repositories": repositories,
        "images": images,
        "repeats": repeats,
        "cpu_s_per_pass": [round(cpu, 3) for cpu, _ in runs],
        "cpu_ms_per_1000_images": round(1000 * best / (images / 1000), 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(
        table(
            f"client CPU to list and plan {images} images on one thread (best of {repeats})",
            ["CPU per pass", "per 1,000 images"],
            [[f"{best:.2f} s", f"{result['cpu_ms_per_1000_images']} ms"]],
        )
    )
    write_result("list_plan_cpu", result)
    return result


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)

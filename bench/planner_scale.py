"""Pure planner CPU and memory: plan 100k and 1M synthetic images (1,000 images per
repository) with no I/O; each size in its own process so peak RSS is its own.

Targets: 1M images in <= 10 s and <= 1.5 GiB peak RSS; 10x the images <= 11x the time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.common import NOW, peak_rss_mib, policy, table, write_result
from bench.synthetic import inventories
from cleaner.config.load import load_config_text
from cleaner.core.planner import plan_repository
from cleaner.tuning import tune_gc

PER_REPOSITORY = 1000


def measure(total: int) -> dict[str, float]:
    config = load_config_text(policy())
    pol = config.policies[0]
    tune_gc()  # as the CLI does
    planning = 0.0
    deleted = images = 0
    plans = []  # the runner holds every plan until max_deletions is checked: so do we
    for inv in inventories(total // PER_REPOSITORY, PER_REPOSITORY):
        started = time.perf_counter()
        plan = plan_repository(inv, pol, config.limits, NOW)
        planning += time.perf_counter() - started
        plans.append(plan)
        images += len(inv.images)
        deleted += sum(1 for a in plan.actions if a.kind == "delete_image")
    return {
        "images": images,
        "seconds": planning,
        "peak_rss_mib": peak_rss_mib(),
        "deleted_share": deleted / images,
    }


def main(sizes: list[int]) -> None:
    runs = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "bench.planner_scale", "--one", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(out.stdout))
    small, large = runs[0], runs[-1]
    growth = (large["seconds"] / small["seconds"]) / (large["images"] / small["images"])
    rows = [
        [
            r["images"],
            f"{r['seconds']:.2f} s",
            f"{r['peak_rss_mib']:.0f} MiB",
            f"{100 * r['deleted_share']:.0f}%",
        ]
        for r in runs
    ]
    print(table("planner: pure planning, no I/O", ["images", "time", "peak RSS", "deleted"], rows))
    print(f"  time per image, largest vs smallest: {growth:.2f}x (target <= 1.1)")
    if large["images"] >= 1_000_000:
        print(
            f"  1M images: {large['seconds']:.2f} s (target <= 10 s), "
            f"{large['peak_rss_mib']:.0f} MiB (target <= 1536 MiB)"
        )
    write_result(
        "planner_scale",
        {
            "runs": runs,
            "growth_per_image": growth,
            "targets": {"seconds": 10, "peak_rss_mib": 1536, "growth": 1.1},
        },
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])

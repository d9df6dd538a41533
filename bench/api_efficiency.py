"""API efficiency: calls per operation vs the minimum for the registry, on the sandbox.

Registries: 1 repository x 100,000 images and 200 repositories x 2,000 images, ~30%
expired, multi-arch indexes included. Target: every operation <= 1.05 x the minimum;
a second run with the warm manifest cache reads no index manifests again.
Usage: python -m bench.api_efficiency [scale]  (scale 1.0 = full size)
"""

from __future__ import annotations

import sys

from bench.common import table, write_result
from bench.sandbox_run import point_at, run
from bench.seeding import seed_registry
from cleaner.aws.ecr import ManifestCache
from cleaner.sandbox import Sandbox

TARGET = 1.05


def scenario(name: str, repositories: int, images: int) -> dict[str, object]:
    with Sandbox() as sandbox:
        point_at(sandbox)
        total = seed_registry(sandbox.store, repositories, images)
        cache = ManifestCache()
        first = run(sandbox, cache=cache)
        warm = run(sandbox, cache=cache, dry_run=True)
    ratios = {op: first.calls.get(op, 0) / n for op, n in first.minimum.items() if n}
    deleted = sum(1 for p in first.plans for a in p.actions if a.kind == "delete_image")
    return {
        "scenario": name,
        "images": total,
        "deleted": deleted,
        "seconds": round(first.seconds, 2),
        "calls": first.calls,
        "minimum": first.minimum,
        "ratio": {op: round(r, 3) for op, r in ratios.items()},
        "warm_cache_batch_get_image": warm.calls.get("BatchGetImage", 0),
        "meets_target": all(r <= TARGET for r in ratios.values())
        and warm.calls.get("BatchGetImage", 0) == 0,
    }


def main(scale: float = 1.0) -> list[dict[str, object]]:
    results = [
        scenario("1 x 100k", 1, int(100_000 * scale)),
        scenario("200 x 2k", max(1, int(200 * scale)), 2_000),
    ]
    rows = []
    for r in results:
        calls, minimum, ratio = r["calls"], r["minimum"], r["ratio"]
        assert isinstance(calls, dict) and isinstance(minimum, dict) and isinstance(ratio, dict)
        for op in sorted(minimum):
            rows.append([r["scenario"], op, calls.get(op, 0), minimum[op], ratio.get(op, "-")])
        rows.append(
            [r["scenario"], "BatchGetImage, warm cache", r["warm_cache_batch_get_image"], 0, ""]
        )
    print(
        table(
            f"API calls vs minimum (target <= {TARGET} x)",
            ["registry", "operation", "calls", "minimum", "ratio"],
            rows,
        )
    )
    for r in results:
        print(
            f"  {r['scenario']}: {r['images']} images, {r['deleted']} deleted, "
            f"{r['seconds']} s, target met: {r['meets_target']}"
        )
    write_result(
        "api_efficiency" if scale == 1.0 else "api_efficiency_smoke",
        {"scale": scale, "target_ratio": TARGET, "results": results},
    )
    return results


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)

"""Throttling: the sandbox allows DescribeImages and BatchDeleteImage a fixed rate each
(ThrottlingException beyond it). The run must finish with nothing lost or failed and
sustain >= 80% of the allowed rate of BatchDeleteImage over its deletion phase.
Usage: python -m bench.throttling [scale]
"""

from __future__ import annotations

import sys

from bench.common import table, write_result
from bench.sandbox_run import point_at, run
from bench.seeding import seed_registry
from cleaner.core.model import Status
from cleaner.sandbox import Sandbox

RATE = 20.0  # calls a second, each throttled operation
TARGET = 0.8


def sustained(times: list[float]) -> float:
    """Calls a second between the first and the last call."""
    if len(times) < 2:
        return 0.0
    return (len(times) - 1) / (times[-1] - times[0])


def main(scale: float = 1.0) -> dict[str, object]:
    repositories = max(2, int(20 * scale))
    with Sandbox() as sandbox:
        point_at(sandbox)
        images = seed_registry(sandbox.store, repositories, 2_000)
        for operation in ("DescribeImages", "BatchDeleteImage"):
            sandbox.faults.throttle(operation, rate=RATE, burst=2)
        sandbox.faults.record_times = True
        outcome = run(sandbox, concurrency=8)
        times = {op: sorted(t) for op, t in sandbox.faults.times.items()}
        throttled = dict(sandbox.faults.injected)
        remaining = sum(
            len(r.images) for reg in sandbox.store._registries.values() for r in reg.values()
        )
    actions = [a for p in outcome.plans for a in p.actions]
    lost = [a for a in actions if a.status is not Status.DELETED]
    deleted = sum(1 for a in actions if a.kind == "delete_image")
    rates = {op: sustained(times.get(op, [])) for op in ("DescribeImages", "BatchDeleteImage")}
    share = rates["BatchDeleteImage"] / RATE
    result = {
        "repositories": repositories,
        "images": images,
        "allowed_rate": RATE,
        "calls": outcome.calls,
        "throttled": throttled,
        "sustained_rate": {op: round(r, 2) for op, r in rates.items()},
        "share_of_allowed_delete_rate": round(share, 3),
        "not_deleted": len(lost),
        "images_left": remaining,
        "images_expected_left": images - deleted,
        "wall_s": round(outcome.seconds, 2),
        "exit_code": outcome.exit_code,
        "meets_target": share >= TARGET and not lost and remaining == images - deleted,
    }
    print(
        table(
            f"throttled at {RATE:.0f} calls/s (DescribeImages, BatchDeleteImage)",
            ["operation", "calls", "throttled", "sustained/s", "share of allowed"],
            [
                [
                    op,
                    outcome.calls.get(op, 0),
                    throttled.get(op, 0),
                    f"{rates[op]:.1f}",
                    f"{rates[op] / RATE:.0%}",
                ]
                for op in rates
            ],
        )
    )
    print(
        f"  {len(actions)} actions, {len(lost)} not deleted, exit {outcome.exit_code}; "
        f"target: BatchDeleteImage >= {TARGET:.0%} of allowed, nothing lost"
    )
    write_result("throttling" if scale == 1.0 else "throttling_smoke", result)
    return result


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1.0)

"""`make bench`: every benchmark at full size, each result next to its target; JSON in
bench/results/, a summary in bench/results/SUMMARY.md."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bench import api_efficiency, call_cost, latency, lifecycle_eval, planner_scale, throttling
from bench.common import RESULTS, machine


def main() -> None:
    started = time.perf_counter()
    lines = [
        "# Benchmark results",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d} on {machine()}.",
        "Command: `make bench`.",
        "",
    ]
    print("== 1. API efficiency")
    for r in api_efficiency.main():
        lines.append(
            f"- API efficiency, {r['scenario']} ({r['images']} images): calls / minimum "
            f"{r['ratio']} (target <= 1.05), warm-cache BatchGetImage "
            f"{r['warm_cache_batch_get_image']} (target 0): "
            f"{'met' if r['meets_target'] else 'MISSED'}"
        )
    print("\n== 2. Planning CPU and memory")
    planner_scale.main([100_000, 1_000_000])
    import json

    plan = json.loads((RESULTS / "planner_scale.json").read_text())
    big = plan["runs"][-1]
    lines.append(
        f"- Planner, {big['images']} images: {big['seconds']:.2f} s (target <= 10), "
        f"{big['peak_rss_mib']:.0f} MiB peak RSS (target <= 1536), 10x images = "
        f"{plan['growth_per_image'] * 10:.2f}x time (target <= 11)"
    )
    print("\n== 3. Latency-bound wall time")
    lat = latency.main()
    lines.append(
        f"- Latency 50 ms, {lat['repositories']} x 2,000 images, concurrency 16: "
        f"{lat['wall_s']} s vs lower bound {lat['lower_bound_s']} s = {lat['ratio']}x "
        f"(target <= 1.3): {'met' if lat['meets_target'] else 'MISSED'}"
    )
    print("\n== 4. Throttling")
    thr = throttling.main()
    lines.append(
        f"- Throttled to {thr['allowed_rate']}/s: BatchDeleteImage sustained "
        f"{thr['share_of_allowed_delete_rate']:.0%} of allowed (target >= 80%), "
        f"{thr['not_deleted']} actions not deleted: "
        f"{'met' if thr['meets_target'] else 'MISSED'}"
    )
    print("\n== 5. ECR lifecycle evaluation")
    life = lifecycle_eval.main()
    lines.append(
        f"- Lifecycle, a 10-rule policy over {life['images']} images: evaluation "
        f"{life['evaluate_cpu_seconds']:.2f} s CPU, {life['evaluate_seconds']:.2f} s wall "
        f"(target <= {life['target_seconds']} s)"
    )
    print("\n== 6. Client CPU per hot ECR call")
    cost = call_cost.main()
    ms = cost["cpu_ms_per_call"]
    per_call = ", ".join(
        f"{op} {ms['botocore'][op]} -> {ms['fast'][op]} ms" for op in call_cost.OPERATIONS
    )
    lines.append(
        f"- Client CPU per call, botocore -> fast path: {per_call} (target: re-describe and "
        f"delete >= 25% less): {'met' if cost['meets_target'] else 'MISSED'}"
    )
    lines += ["", f"Total benchmark time: {time.perf_counter() - started:.0f} s."]
    (RESULTS / "SUMMARY.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()

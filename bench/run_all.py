"""`make bench`: every benchmark at full size, each result next to its target; JSON in
bench/results/, a summary in bench/results/SUMMARY.md. Wall times depend on what else
the machine runs: each result records the load average (bench.common.machine)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench import (
    api_efficiency,
    call_cost,
    latency,
    lifecycle_eval,
    list_plan_cpu,
    parse_cost,
    planner_scale,
    serve_soak,
    small_runs,
    throttling,
)
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
        f"(target <= 1.3), {lat['processes']} processes, client CPU {lat['client_cpu_s']} s "
        f"({lat['client_cpu_ms_per_1000_images']} ms per 1,000 images), sandbox CPU "
        f"{lat['sandbox_cpu_s']} s, load average {lat['load_average_at_start']}: "
        f"{'met' if lat['meets_target'] else 'MISSED'}"
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
    print("\n== 6. A million images, end to end")
    # In a process of its own: peak RSS is a process's high-water mark, and this one
    # has held the in-process sandboxes of the benchmarks above.
    subprocess.run([sys.executable, "-m", "bench.million"], check=True)
    big = json.loads((RESULTS / "million.json").read_text())
    lines.append(
        f"- End to end, {big['images']} images in {big['repositories']} repositories "
        f"({big['expired_share']:.0%} expired), {big['processes']} processes: "
        f"{big['wall_s']} s, client CPU {big['client_cpu_s']} s, peak RSS of the cleaner's "
        f"processes {big['peak_rss_mib_cleaner_total']:.0f} MiB together (target <= 1536; "
        f"by process {big['peak_rss_mib']}), calls / minimum {big['ratio']} (target <= 1.05): "
        f"{'met' if big['meets_target'] else 'MISSED'}"
    )
    print("\n== 7. Small runs, 1 and 2 processes")
    for run in small_runs.main()["runs"]:
        one, two = run["by_processes"]["1"], run["by_processes"]["2"]
        lines.append(
            f"- Small dry run, {run['repositories']} x {run['images'] // run['repositories']} "
            f"images, +50 ms a call: median wall {one['wall_s_median']} s with 1 process, "
            f"{two['wall_s_median']} s with 2"
        )
    print("\n== 8. Client CPU per hot ECR call")
    cost = call_cost.main()
    ms = cost["cpu_ms_per_call"]
    per_call = ", ".join(
        f"{op} {ms['botocore'][op]} -> {ms['fast'][op]} ms" for op in call_cost.OPERATIONS
    )
    lines.append(
        f"- Client CPU per call, botocore -> fast path: {per_call} (target: re-describe and "
        f"delete >= 25% less): {'met' if cost['meets_target'] else 'MISSED'}"
    )
    print("\n== 9. Client CPU per 1,000 images listed and planned, one thread")
    listed = list_plan_cpu.main(10, 3)
    lines.append(
        f"- Listing and planning {listed['images']} images on one thread: "
        f"{listed['cpu_ms_per_1000_images']} ms of client CPU per 1,000 images (best of 3)"
    )
    print("\n== 10. Parsing one DescribeImages page")
    parsed = parse_cost.main()
    lines.append(
        f"- One page of 1,000 images into Images: botocore's parser {parsed['botocore_ms']} ms, "
        f"the compiled one {parsed['compiled_ms']} ms"
    )
    print("\n== 11. serve over 200 runs with churn")
    soak = serve_soak.main()
    lines.append(
        f"- serve, 200 runs with churn: RSS spread after warm-up "
        f"{soak['rss_spread_after_warmup']:.1%} (target <= 10%), cache entries "
        f"{soak['cache_entries_after_warmup']}: {'met' if soak['meets_target'] else 'MISSED'}"
    )
    lines += ["", f"Total benchmark time: {time.perf_counter() - started:.0f} s."]
    (RESULTS / "SUMMARY.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()

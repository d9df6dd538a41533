"""Archiving and restoring 10,000 images: every ECR call takes 50 ms more, the cleaner
runs at its default concurrency (limits.concurrency 8) with no rate cap.

UpdateImageStorageClass takes one image a call, so an archive needs 100x the calls of a
deletion. The lower bound: the listing pages, then for each group of 100 images one
re-describe and ceil(100 / concurrency) rounds of calls, each 50 ms. A restore: one
describe per 100 images, then ceil(images / concurrency) rounds of calls. The sandbox
runs in a process of its own; the machine's load average is recorded with the result.
Usage: python -m bench.archive [images]
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import NOW, point_env_at, table, write_result
from bench.sandbox_process import calls, sandbox_process
from cleaner.aws.clients import Clients
from cleaner.config.load import load_config_text
from cleaner.config.model import Limits
from cleaner.report.render import to_json
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.run.restore import from_report, restore

LATENCY = 0.05
CONCURRENCY = Limits().concurrency  # the default
PAGE, GROUP = 1000, 100
POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: quarantine
    protect: {keep_at_least: 0}
    rules:
      - name: stale
        expire: {pushed_before: 7d}
        action: archive
limits: {max_deletions: 10000000}
"""


def load_average() -> str:
    """`uptime`'s three load averages: the machine is shared, so timings vary with it."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def _delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0)}


def measure(images: int) -> dict[str, Any]:
    server = sandbox_process(1, images, "--plain", "--latency", str(LATENCY))
    with server as (endpoint, seeded, sandbox_stats), tempfile.TemporaryDirectory() as tmp:
        point_env_at(endpoint)
        config = load_config_text(POLICY)
        load_before = load_average()
        started, cpu = time.perf_counter(), time.process_time()
        result = run_once(config, Clients(), NOW, RunOptions(dry_run=False))
        archive_s, archive_cpu = time.perf_counter() - started, time.process_time() - cpu
        after_archive = calls(endpoint)
        report = Path(tmp) / "report.json"
        report.write_text(to_json(result.report))

        started, cpu = time.perf_counter(), time.process_time()
        restored = restore(from_report(config, str(report)), Clients(), config)
        restore_s, restore_cpu = time.perf_counter() - started, time.process_time() - cpu
        after_restore = calls(endpoint)
        load_after = load_average()
    archived = result.report.summary()["images_archived"]
    groups = math.ceil(archived / GROUP)
    rounds = (
        math.ceil(GROUP / CONCURRENCY) if archived >= GROUP else math.ceil(archived / CONCURRENCY)
    )
    archive_bound = (1 + math.ceil(seeded / PAGE) + groups * (1 + rounds)) * LATENCY
    restore_bound = (groups + math.ceil(len(restored) / CONCURRENCY)) * LATENCY
    return {
        "images": seeded,
        "concurrency": CONCURRENCY,
        "latency_s": LATENCY,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "archive": {
            "images_archived": archived,
            "exit_code": result.exit_code,
            "calls": after_archive["calls"],
            "peak_calls_in_flight": after_archive.get("peak", {}).get("UpdateImageStorageClass"),
            "wall_s": round(archive_s, 2),
            "client_cpu_s": round(archive_cpu, 2),
            "lower_bound_s": round(archive_bound, 2),
            "images_per_s": round(archived / archive_s, 1),
        },
        "restore": {
            "images_restored": sum(r.result == "restored" for r in restored),
            "failed": sum(r.result == "failed" for r in restored),
            "calls": _delta(after_archive["calls"], after_restore["calls"]),
            "wall_s": round(restore_s, 2),
            "client_cpu_s": round(restore_cpu, 2),
            "lower_bound_s": round(restore_bound, 2),
            "images_per_s": round(len(restored) / restore_s, 1),
        },
        "sandbox_cpu_s": round(sandbox_stats.get("serve_cpu_s", 0.0), 2),
    }


def main(images: int = 10_000) -> dict[str, Any]:
    r = measure(images)
    rows = [
        [
            step,
            sum(r[step]["calls"].values()),
            r[step]["calls"].get("UpdateImageStorageClass", 0),
            f"{r[step]['lower_bound_s']:.1f} s",
            f"{r[step]['wall_s']:.1f} s",
            f"{r[step]['images_per_s']:.0f}/s",
            f"{r[step]['client_cpu_s']:.1f} s",
        ]
        for step in ("archive", "restore")
    ]
    print(
        table(
            f"{r['images']} images, +{int(LATENCY * 1000)} ms a call, concurrency "
            f"{CONCURRENCY}; load average {r['load_average_before']} -> {r['load_average_after']}",
            ["step", "calls", "UpdateImageStorageClass", "lower bound", "wall", "rate", "CPU"],
            rows,
        )
    )
    write_result("archive" if images == 10_000 else "archive_smoke", r)
    return r


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

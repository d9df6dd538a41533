"""Shared pieces of the benchmarks: results files, tables, the machine, the policy."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Tests run the benchmarks small and point this elsewhere, so results here stay the real ones.
RESULTS = Path(
    os.environ.get("ECR_CLEANER_BENCH_RESULTS", Path(__file__).resolve().parent / "results")
)
NOW = datetime(2027, 1, 1, tzinfo=UTC)

# Expires roughly 30% of the registries the benchmarks seed (see each benchmark).
POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: bench
    protect: {tags: [latest]}
    rules:
      - name: features
        select: {tag_status: tagged, tags: ["feature-*"]}
        keep: {most_recent: 3, group_by: "^feature-([a-z0-9]+)-"}
        expire: {pushed_before: 120d}
      - name: releases
        select: {tag_status: tagged, tags: ["re:^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$"]}
        keep: {most_recent: 10, order_by: semver}
        expire: {pushed_before: 180d}
      - name: untagged
        select: {tag_status: untagged}
        expire: {pushed_before: 1d}
limits: {max_deletions: 10000000LIMITS}
"""


def policy(concurrency: int | None = None, processes: int | None = None) -> str:
    """The benchmarks' policy; limits.processes left out means its default (the cores)."""
    extra = "" if concurrency is None else f", concurrency: {concurrency}"
    extra += "" if processes is None else f", processes: {processes}"
    return POLICY.replace("LIMITS", extra)


def quiet_logs() -> None:
    """Benchmarks print tables; the cleaner's own events would drown them. Also apply
    the process settings the CLI applies, so a benchmark runs what users run."""
    from cleaner.logs import configure
    from cleaner.tuning import tune_gc

    configure("json", "error")
    tune_gc()


def machine() -> dict[str, Any]:
    from cleaner.run.cores import usable_cores

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "usable_cores": usable_cores(),
        # Other work on the machine slows every wall time here: the 1, 5 and 15 minute
        # load averages when the result was written.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def children_cpu_s() -> float:
    """CPU time of this process's children that have ended and been waited for: a run's
    worker processes (limits.processes), once the run has ended them."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    """This process's peak resident memory. Linux keeps ru_maxrss across exec, so a
    child started by a big parent would report the parent's peak: read VmHWM instead."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **result}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [list(map(str, header)), *[list(map(str, r)) for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [title]
    for row in cells:
        lines.append("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def point_env_at(endpoint: str) -> None:
    """Send this process's AWS calls (and its workers', which inherit the environment)
    to a sandbox at `endpoint`, with test credentials; logs quiet."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    quiet_logs()

"""End to end at a million images: 1,000 repositories x 1,000 images on the sandbox (in
a process of its own, seeded like every benchmark: multi-arch indexes, signatures,
releases), then one `run` with the benchmarks' policy (about a third of the images
expire) and limits.processes at its default (the usable cores) unless given.

Reported: wall time; the peak resident memory of every process — this one, each worker,
the sandbox — sampled every 0.1 s (target: the cleaner's processes <= 1.5 GiB
together); the API calls against the fewest that can list, read and delete what the
run did (target: <= 1.05x for every operation); client CPU (every cleaner process) and
the sandbox's CPU; the load average at the start.
Usage: python -m bench.million [scale] [processes]   (scale 1.0: 1,000 repositories)
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import NOW, children_cpu_s, point_env_at, policy, table, write_result
from bench.sandbox_process import calls, sandbox_process
from bench.sandbox_run import minimum_calls
from cleaner.aws.clients import Clients
from cleaner.config.load import load_config_text
from cleaner.core.model import ActionKind
from cleaner.run.options import RunOptions
from cleaner.run.parallel import process_count
from cleaner.run.pipeline import run_once

PER_REPOSITORY = 1000
TARGET_RSS_MIB = 1536
TARGET_RATIO = 1.05


class PeakMemory:
    """The peak RSS (VmHWM) of this process and of each of its children, sampled (a
    worker's high-water mark is lost once it exits, so it is read while it runs)."""

    def __init__(self) -> None:
        self.peaks: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read_all()

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            self._read_all()

    def _read_all(self) -> None:
        me = os.getpid()
        for pid in [me, *_children(me)]:
            peak = _vm_hwm_mib(pid)
            if peak is not None:
                role = "cleaner" if pid == me else _role(pid)
                self.peaks[pid] = (role, max(peak, self.peaks.get(pid, ("", 0.0))[1]))


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _role(pid: int) -> str:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "other"
    if b"cleaner.run.worker" in cmdline:
        return "worker"
    return "sandbox" if b"bench.sandbox_process" in cmdline else "other"


def _vm_hwm_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main(scale: float = 1.0, processes: int | None = None) -> dict[str, Any]:
    repositories = max(2, int(1000 * scale))
    with sandbox_process(repositories, PER_REPOSITORY) as (endpoint, images, sandbox):
        point_env_at(endpoint)
        config = load_config_text(policy(processes=processes))
        load = os.getloadavg()[0]
        with PeakMemory() as memory:
            started, cpu, workers_cpu = time.perf_counter(), time.process_time(), children_cpu_s()
            result = run_once(config, Clients(), NOW, RunOptions(dry_run=False))
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            workers_cpu = children_cpu_s() - workers_cpu
        answered = calls(endpoint)["calls"]
    plans = list(result.report.repositories)
    minimum = minimum_calls(plans, int(sandbox["index_batches"]))
    ratio = {op: round(answered.get(op, 0) / n, 3) for op, n in minimum.items() if n}
    deleted = sum(1 for p in plans for a in p.actions if a.kind is ActionKind.DELETE_IMAGE)
    peaks: dict[str, list[float]] = {r: [] for r in ("cleaner", "worker", "sandbox", "other")}
    for role, peak in memory.peaks.values():
        peaks[role].append(round(peak, 1))
    rss_cleaner = sum(peaks["cleaner"]) + sum(peaks["worker"])
    out = {
        "repositories": repositories,
        "images": images,
        "expired_share": round(deleted / images, 3),
        "processes": process_count(config, repositories),
        "wall_s": round(seconds, 2),
        "client_cpu_s": round(cpu + workers_cpu, 2),
        "client_cpu_workers_s": round(workers_cpu, 2),
        "sandbox_cpu_s": round(sandbox.get("serve_cpu_s", 0.0), 2),
        "peak_rss_mib": {role: sorted(v) for role, v in peaks.items() if v},
        "peak_rss_mib_cleaner_total": round(rss_cleaner, 1),
        "calls": answered,
        "minimum": minimum,
        "ratio": ratio,
        "load_average_at_start": round(load, 2),
        "exit_code": result.exit_code,
        "targets": {"peak_rss_mib_cleaner_total": TARGET_RSS_MIB, "ratio": TARGET_RATIO},
        "meets_target": rss_cleaner <= TARGET_RSS_MIB
        and all(r <= TARGET_RATIO for r in ratio.values())
        and result.exit_code == 0,
    }
    print(
        table(
            f"end to end: {images} images in {repositories} repositories, `run`, "
            f"{out['processes']} processes, load {load:.1f}",
            ["wall", "client CPU", "sandbox CPU", "peak RSS (MiB)", "expired"],
            [
                [
                    f"{seconds:.1f} s",
                    f"{cpu + workers_cpu:.1f} s",
                    f"{out['sandbox_cpu_s']:.1f} s",
                    f"cleaner {rss_cleaner:.0f} {out['peak_rss_mib']}",
                    f"{out['expired_share']:.0%}",
                ]
            ],
        )
    )
    print(
        table(
            f"API calls vs minimum (target <= {TARGET_RATIO} x)",
            ["operation", "calls", "minimum", "ratio"],
            [[op, answered.get(op, 0), n, ratio.get(op, "-")] for op, n in sorted(minimum.items())],
        )
    )
    name = "million" if scale == 1.0 else "million_smoke"
    write_result(name if processes is None else f"{name}_processes_{processes}", out)
    return out


if __name__ == "__main__":
    main(
        float(sys.argv[1]) if len(sys.argv) > 1 else 1.0,
        int(sys.argv[2]) if len(sys.argv) > 2 else None,
    )

"""serve's memory over many runs: its run function (Service.run_pass) called RUNS times on
the sandbox while the registry churns as CI makes it churn — every run, each repository
gets new multi-arch indexes, and between runs its oldest index is deleted by hand; the
policy deletes builds beyond the newest 20. The service runs in a process of its own
(the one whose memory is measured); this process holds the sandbox and churns it.

Reported every 10 runs: the service's resident memory (VmRSS) and the manifest cache's
entries. Target: RSS flat within 10% after warm-up (the first WARMUP runs).
Usage: python -m bench.serve_soak [runs]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from typing import Any

from bench.common import NOW, table, write_result

REPOSITORIES = 10
PUSHED_PER_RUN = 5  # new indexes per repository per run
KEEP = 20  # the policy keeps the newest 20 builds
WARMUP = 50
EVERY = 10
TARGET = 0.10

POLICY = f"""
version: 1
targets: [{{region: us-east-1}}]
policies:
  - name: soak
    rules:
      - name: builds
        select: {{tag_status: tagged, tags: ["build-*"]}}
        keep: {{most_recent: {KEEP}}}
        expire: {{pushed_before: 1h}}
limits: {{max_deletions: 1000000}}
"""


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def serve_side() -> None:
    """The service: one run per line on stdin (the policy's clock in ISO 8601)."""
    from bench.common import quiet_logs
    from cleaner.config.load import load_config_text
    from cleaner.serve.service import ServeOptions, Service

    quiet_logs()
    now = NOW
    service = Service(load_config_text(POLICY), ServeOptions(), clock=lambda: now)
    for line in sys.stdin:
        now = datetime.fromisoformat(line.strip())
        code = service.run_pass()
        print(json.dumps({"exit": code, "rss_kib": rss_kib(), "cache": len(service.cache)}))
        sys.stdout.flush()


def main(runs: int = 200) -> dict[str, Any]:
    from cleaner.sandbox import Sandbox, Seeder

    readings: list[dict[str, Any]] = []
    codes: set[int | None] = set()
    with Sandbox() as sandbox:
        seeder = Seeder(sandbox.store)
        repos = [seeder.repository(f"ci/app-{n:02d}") for n in range(REPOSITORIES)]
        indexes: list[list[str]] = [[] for _ in repos]
        build = 0

        def push(at: datetime) -> None:
            nonlocal build
            for repo, held in zip(repos, indexes, strict=True):
                for _ in range(PUSHED_PER_RUN):
                    build += 1
                    held.append(repo.index([f"build-{build}"], pushed_at=at).digest)

        push(NOW - timedelta(days=1))
        env = {**os.environ, **sandbox.environment()}
        service = subprocess.Popen(
            [sys.executable, "-m", "bench.serve_soak", "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert service.stdin is not None and service.stdout is not None
        try:
            for run in range(1, runs + 1):
                now = NOW + timedelta(hours=run)
                service.stdin.write(now.isoformat() + "\n")
                service.stdin.flush()
                answer = json.loads(service.stdout.readline())
                codes.add(answer["exit"])
                if run % EVERY == 0:
                    readings.append({"run": run, **answer})
                # Churn: CI pushes new builds; someone deletes the oldest index by hand.
                for repo, held in zip(repos, indexes, strict=True):
                    present = repo.snapshot()
                    held[:] = [d for d in held if d in present]
                    if held:
                        _delete_index(repo, held.pop(0))
                push(now + timedelta(minutes=1))
        finally:
            service.stdin.close()
            service.wait(timeout=60)
    return _result(runs, readings, codes)


def _delete_index(repo: Any, digest: str) -> None:
    children = repo.repo.images[digest].children
    repo.delete(digest)
    for child in children:
        if child in repo.repo.images:
            repo.delete(child)


def _result(runs: int, readings: list[dict[str, Any]], codes: set[int | None]) -> dict[str, Any]:
    settled = [r for r in readings if r["run"] >= min(WARMUP, runs // 2)] or readings
    rss = [r["rss_kib"] for r in settled]
    growth = (max(rss) - min(rss)) / min(rss) if rss else 0.0
    cache = [r["cache"] for r in settled]
    result = {
        "runs": runs,
        "repositories": REPOSITORIES,
        "indexes_pushed_per_run": REPOSITORIES * PUSHED_PER_RUN,
        "warmup_runs": WARMUP,
        "readings": readings,
        "rss_spread_after_warmup": round(growth, 4),
        "cache_entries_after_warmup": [min(cache), max(cache)] if cache else [],
        "exit_codes": sorted(c if c is not None else -1 for c in codes),
        "target_spread": TARGET,
        "meets_target": growth <= TARGET and codes == {0},
    }
    print(
        table(
            f"serve soak: {runs} runs, {REPOSITORIES * PUSHED_PER_RUN} indexes pushed a run "
            f"(target: RSS within {TARGET:.0%} after {WARMUP} runs)",
            ["run", "RSS", "cache entries", "exit"],
            [[r["run"], f"{r['rss_kib'] / 1024:.1f} MiB", r["cache"], r["exit"]] for r in readings],
        )
    )
    print(f"  RSS spread after warm-up: {growth:.1%}; target met: {result['meets_target']}")
    write_result("serve_soak" if runs >= 200 else "serve_soak_smoke", result)
    return result


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve_side()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)

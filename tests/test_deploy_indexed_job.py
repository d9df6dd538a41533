"""deploy/kubernetes/indexed-job.yaml: N pods, each one shard of N, covering everything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cleaner.cli import build_parser
from cleaner.run.shard import resolve_shard

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes" / "indexed-job.yaml"


def job_spec() -> dict[str, Any]:
    (cron,) = yaml.safe_load_all(EXAMPLE.read_text())
    assert cron["kind"] == "CronJob"
    spec: dict[str, Any] = cron["spec"]["jobTemplate"]["spec"]
    return spec


def test_every_index_runs_its_own_shard_and_together_they_run_all() -> None:
    job = job_spec()
    assert job["completionMode"] == "Indexed"
    count = job["completions"]
    assert job["parallelism"] == count
    (container,) = job["template"]["spec"]["containers"]
    args = build_parser().parse_args(container["args"])
    assert args.command == "run" and args.config == "/etc/ecr-cleaner/policy.yaml"
    shards = [
        resolve_shard(args.shard_arg, args.shard_count_arg, {"JOB_COMPLETION_INDEX": str(k)})
        for k in range(count)
    ]
    assert [(s.index, s.count) for s in shards if s] == [(k, count) for k in range(count)]


def test_a_shard_that_fails_for_good_fails_alone() -> None:
    job = job_spec()
    (rule,) = job["podFailurePolicy"]["rules"]
    assert rule["action"] == "FailIndex" and rule["onExitCodes"]["values"] == [2, 3]
    assert job["backoffLimitPerIndex"] >= 0  # FailIndex needs per-index backoff
    assert job["template"]["spec"]["restartPolicy"] == "Never"

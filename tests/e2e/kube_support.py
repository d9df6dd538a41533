"""Helpers for the kubernetes in-use tests: manifests, a policy reading a kubeconfig,
and what a run kept and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cleaner.config.load import parse_config
from cleaner.config.model import Config
from cleaner.run.pipeline import RunResult

ACCOUNT = "123456789012"
HOST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
NOW = datetime(2027, 1, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=30)


def deployment(name: str, image: str, namespace: str = "prod", replicas: int = 1) -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  template:
    spec:
      containers: [{{name: main, image: "{image}"}}]
"""


def cronjob(name: str, image: str, namespace: str = "batch") -> str:
    return f"""
apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{{name: main, image: "{image}"}}]
"""


def replica_set(name: str, image: str, replicas: int, namespace: str = "prod") -> str:
    return f"""
apiVersion: apps/v1
kind: ReplicaSet
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  template:
    spec:
      containers: [{{name: main, image: "{image}"}}]
"""


def source(kubeconfig: Path, **options: Any) -> dict[str, Any]:
    return {"kubernetes": {"kubeconfig": str(kubeconfig), **options}}


def config(*sources: Any) -> Config:
    """Everything older than a day goes (keep_at_least 0), unless a source says it is
    in use."""
    return parse_config(
        {
            "version": 1,
            "targets": [{"region": "us-east-1"}],
            "policies": [
                {
                    "name": "guarded",
                    "protect": {"keep_at_least": 0, "in_use": {"sources": list(sources)}},
                    "rules": [{"name": "old", "expire": {"pushed_before": "1d"}}],
                }
            ],
        }
    )


def kept(result: RunResult) -> dict[str, str]:
    """digest -> reason, over every repository of the report."""
    return {k.digest: k.reason for plan in result.report.repositories for k in plan.kept}


def deleted(result: RunResult) -> set[str]:
    return {
        a.digest
        for plan in result.report.repositories
        for a in plan.actions
        if a.status.value == "deleted"
    }

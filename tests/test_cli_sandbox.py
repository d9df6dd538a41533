"""`ecr-cleaner sandbox` as a user runs it: a real process, real HTTP, stopped by a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import boto3
import pytest

from cleaner.inuse.kinds.kubernetes import read_kubernetes


@pytest.mark.slow  # a subprocess stopped by SIGTERM
@pytest.mark.parametrize(
    ("seed", "repositories"),
    [
        ("demo", {"team-a/api", "team-a/web", "team-a/base-images"}),
        ("bulk:3x25", {"team/service-0000", "team/service-0001", "team/service-0002"}),
    ],
)
def test_sandbox_command_serves_a_seeded_registry_and_stops_on_sigterm(
    seed: str, repositories: set[str]
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cleaner", "sandbox", "--port", "0", "--seed", seed],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        env: dict[str, str] = {}
        for line in proc.stdout:
            if line.startswith("export "):
                name, _, value = line[len("export ") :].strip().partition("=")
                env[name] = value
            if line.startswith("Press Ctrl-C"):
                break
        assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        ecr = boto3.client(
            "ecr",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        names = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
        assert repositories <= names
        if seed == "demo":
            # ... and the demo cluster, through the kubeconfig it printed.
            usages = read_kubernetes({}, environ={"KUBECONFIG": env["KUBECONFIG"]})
            assert {u.workload for u in usages} >= {
                "deployment batch/legacy-batch template (cluster demo)"
            }
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_version_flag() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "cleaner", "--version"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    )
    assert out.stdout.startswith("ecr-cleaner ")

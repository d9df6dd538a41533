"""An endpoint that cannot be reached, or no credentials at all: one line naming the
target and the cause within 15 s, each retry logged with its attempt number."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cleaner.sandbox import Sandbox

# A subprocess each; the first waits out two real connection retries.
pytestmark = pytest.mark.slow

POLICY = """
version: 1
targets: [{region: eu-west-1, registry_id: "123456789012"}]
policies:
  - name: leftovers
    rules: [{name: untagged, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]
"""
BOUND_SECONDS = 15


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def plan(tmp_path: Path, env: dict[str, str]) -> tuple[int, list[dict[str, Any]], float]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    argv = [sys.executable, "-m", "cleaner", "plan", "--config", str(policy)]
    started = time.monotonic()
    done = subprocess.run(
        [*argv, "--log-format", "json"], capture_output=True, text=True, env=env, timeout=60
    )
    elapsed = time.monotonic() - started
    events = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")]
    return done.returncode, events, elapsed


def offline_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # No instance metadata service and no shared files: nothing beyond 127.0.0.1.
    env.update(
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        **extra,
    )
    return env


def test_an_unreachable_endpoint_is_reported_within_the_bound(tmp_path: Path) -> None:
    env = offline_env(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
    )
    code, events, elapsed = plan(tmp_path, env)
    assert code == 1
    assert elapsed < BOUND_SECONDS
    retries = [e for e in events if e["event"] == "aws_call_retried"]
    assert [e["attempt"] for e in retries] == [1, 2]
    assert all(e["level"] == "warning" and "Could not connect" in e["cause"] for e in retries)
    (failed,) = [e for e in events if e["event"] == "target_failed"]
    assert failed["target"] == "eu-west-1/123456789012"
    assert "Could not connect to the endpoint URL" in failed["error"]


def test_missing_credentials_are_reported_at_once(sb: Sandbox, tmp_path: Path) -> None:
    env = offline_env(AWS_ENDPOINT_URL=sb.endpoint_url)
    code, events, elapsed = plan(tmp_path, env)
    assert code == 1
    assert elapsed < BOUND_SECONDS
    (failed,) = [e for e in events if e["event"] == "target_failed"]
    assert failed["target"] == "eu-west-1/123456789012"
    assert "NoCredentialsError" in failed["error"]
    assert sum(sb.faults.calls.values()) == 0

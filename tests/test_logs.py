"""Log lines: one JSON object per line, UTC timestamps, and no secrets, ever."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from cleaner import logs


def lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def test_json_lines_have_timestamp_level_event(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("json", "info")
    structlog.get_logger("t").info("image_deleted", repository="team-a/api", tags=["a"])
    structlog.get_logger("t").debug("not_shown")
    (event,) = lines(capsys.readouterr().err)
    assert event["event"] == "image_deleted"
    assert event["level"] == "info"
    assert isinstance(event["timestamp"], str) and event["timestamp"].endswith("Z")
    assert event["repository"] == "team-a/api"


def test_secrets_are_redacted_at_any_depth_and_the_environment_dropped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("json", "debug")
    structlog.get_logger("t").info(
        "assumed",
        aws_secret_access_key="wJalrXUtnFEMI",
        aws_session_token="FwoGZXIvYXdzE",
        SessionToken="IQoJb3JpZ2lu",
        password="hunter2",
        token="abc",
        authorization="AWS4-HMAC-SHA256 Credential=AKIA/...",
        response={"Credentials": {"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": "s3cr3t"}},
        headers=[{"Authorization": "Bearer x", "Accept": "json"}],
        environment={"AWS_SECRET_ACCESS_KEY": "leak"},
        env={"HOME": "/root"},
        repository="team-a/api",
        digest="sha256:abc",
    )
    err = capsys.readouterr().err
    for secret in (
        "wJalrXUtnFEMI",
        "FwoGZXIvYXdzE",
        "IQoJb3JpZ2lu",
        "hunter2",
        "AKIA",
        "s3cr3t",
        "Bearer",
        "leak",
        "/root",
    ):
        assert secret not in err
    (event,) = lines(err)
    assert event["aws_secret_access_key"] == logs.REDACTED
    assert event["SessionToken"] == logs.REDACTED
    assert event["response"] == {"Credentials": logs.REDACTED}
    assert event["headers"] == [{"Authorization": logs.REDACTED, "Accept": "json"}]
    assert "environment" not in event and "env" not in event
    assert (event["repository"], event["digest"]) == ("team-a/api", "sha256:abc")


def test_library_warnings_join_the_same_stream(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("json", "info")
    logging.getLogger("apscheduler.scheduler").warning("Run time of job %s was missed", "x")
    logging.getLogger("apscheduler.scheduler").info("Added job")  # below WARNING: dropped
    (event,) = lines(capsys.readouterr().err)
    assert event["event"] == "Run time of job x was missed"
    assert event["level"] == "warning"
    assert event["logger"] == "apscheduler.scheduler"


def test_configuring_twice_does_not_duplicate_library_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.configure("json", "info")
    logs.configure("json", "info")
    logging.getLogger("apscheduler").warning("once")
    assert len(lines(capsys.readouterr().err)) == 1

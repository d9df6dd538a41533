"""Notifications end to end: `run` and `serve` send them (webhooks on 127.0.0.1, SNS in
the sandbox), `plan` never does, a failure never changes the exit code, an unset
url_env stops the command before any AWS call; CI gets the markdown summary."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from notify_support import Receiver, closed_port_url, webhook_receiver

from cleaner.cli import main
from cleaner.config.load import load_config_text
from cleaner.notify.send import Notifier
from cleaner.sandbox import RepoSeeder, Sandbox
from cleaner.serve.service import ServeOptions, Service

NOW = datetime(2027, 1, 1, tzinfo=UTC)
POLICY = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: leftovers
    protect: {keep_at_least: 0}
    rules: [{name: untagged, select: {tag_status: untagged}, expire: {pushed_before: 1d}}]
report: {storage_price_per_gb_month: 0.10}
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture
def seeded(repo: RepoSeeder) -> list[str]:
    return [repo.image(pushed_at=NOW - timedelta(days=30), size=3 * 2**30) for _ in range(2)]


def policy_with(tmp_path: Path, notify: str) -> str:
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY + notify)
    return str(path)


def cli(*args: str) -> int:
    return main([*args, "--now", NOW.isoformat(), "--log-format", "json"])


def test_run_posts_the_summary_to_a_webhook_from_url_env(
    sb: Sandbox,
    seeded: list[str],
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLEANER_HOOK", receiver.url)
    policy = policy_with(
        tmp_path, "notify: [{kind: webhook, url_env: CLEANER_HOOK, 'on': [deletions]}]\n"
    )
    assert cli("run", "--config", policy) == 0
    (body,) = receiver.received
    assert body["mode"] == "run" and body["outcome"] == "success"
    assert body["summary"]["images_deleted"] == 2
    assert body["summary"]["bytes_reclaimed"] == 6 * 2**30
    assert body["summary"]["estimated_monthly_savings_usd"] == 0.6


def test_plan_never_notifies(
    sb: Sandbox, seeded: list[str], receiver: Receiver, tmp_path: Path
) -> None:
    policy = policy_with(tmp_path, f"notify: [{{kind: webhook, url: '{receiver.url}'}}]\n")
    assert cli("plan", "--config", policy) == 0
    assert receiver.received == []


def test_a_dry_run_sends_always_but_not_deletions(
    sb: Sandbox, seeded: list[str], receiver: Receiver, tmp_path: Path
) -> None:
    policy = policy_with(
        tmp_path,
        f"notify:\n  - {{kind: webhook, url: '{receiver.url}', 'on': always}}\n"
        f"  - {{kind: webhook, url: '{receiver.url}', 'on': deletions}}\n",
    )
    assert cli("run", "--dry-run", "--config", policy) == 0
    (body,) = receiver.received
    assert body["mode"] == "plan"


@pytest.mark.parametrize("status", ["down", "500"])
def test_a_failed_notification_never_changes_the_exit_code(
    sb: Sandbox,
    repo: RepoSeeder,
    seeded: list[str],
    receiver: Receiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    status: str,
) -> None:
    monkeypatch.setattr("cleaner.notify.webhook.BACKOFF", 0.0)
    url = closed_port_url() if status == "down" else receiver.url
    receiver.statuses = [500] * 3
    policy = policy_with(tmp_path, f"notify: [{{kind: webhook, url: '{url}', format: slack}}]\n")
    assert cli("run", "--config", policy) == 0
    assert not set(repo.snapshot()) & set(seeded)  # the deletions happened all the same
    logged = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    (failed,) = [e for e in logged if e["event"] == "notification_failed"]
    assert failed["level"] == "error" and "after 3 attempts" in failed["error"]


def test_an_unset_url_env_is_a_usage_error_before_any_aws_call(
    sb: Sandbox,
    seeded: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLEANER_HOOK", raising=False)
    policy = policy_with(tmp_path, "notify: [{kind: webhook, url_env: CLEANER_HOOK}]\n")
    for command in (["run"], ["serve", "--once"]):
        args = [*command, "--config", policy]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err == (
            f"ecr-cleaner: error: {policy}: notify[0].url_env: "
            "environment variable CLEANER_HOOK is not set\n"
        )
    assert sum(sb.faults.calls.values()) == 0
    # A plan sends nothing, so it does not need the variable.
    assert cli("plan", "--config", policy) == 0


def sns_topic_with_queue(sb: Sandbox) -> tuple[str, Any, str]:
    name = f"cleaner-{uuid.uuid4().hex[:8]}"
    sns, sqs = sb.client("sns"), sb.client("sqs")
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])
    return topic, sqs, queue


def test_run_publishes_to_sns_and_a_subscribed_queue_receives_the_summary(
    sb: Sandbox, seeded: list[str], tmp_path: Path
) -> None:
    topic, sqs, queue = sns_topic_with_queue(sb)
    policy = policy_with(tmp_path, f"notify: [{{kind: sns, topic_arn: '{topic}'}}]\n")
    assert cli("run", "--config", policy) == 0
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["TopicArn"] == topic
    assert envelope["Subject"] == "ecr-cleaner run: success (exit 0)"
    body = json.loads(envelope["Message"])  # the queue gets the JSON document
    assert body["summary"]["images_deleted"] == 2
    assert body["largest_repositories"][0]["repository"] == "app"


def test_serve_counts_notifications_that_could_not_be_sent(
    sb: Sandbox, seeded: list[str], receiver: Receiver
) -> None:
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    config = load_config_text(
        POLICY
        + f"notify:\n  - {{kind: webhook, url: '{closed_port_url()}'}}\n"
        + f"  - {{kind: sns, topic_arn: '{missing}'}}\n"
        + f"  - {{kind: webhook, url: '{receiver.url}'}}\n"
    )
    notifier = Notifier.from_config(config.notify, {}, sleep=lambda _: None)
    service = Service(config, ServeOptions(once=True), notifier=notifier)
    assert service.run_pass() == 0
    metrics = service.metrics.render().decode()
    assert 'ecr_cleaner_notifications_failed_total{kind="webhook"} 1.0' in metrics
    assert 'ecr_cleaner_notifications_failed_total{kind="sns"} 1.0' in metrics
    assert len(receiver.received) == 1  # the others' failures did not stop it


def test_github_step_summary_gets_the_markdown_summary(
    sb: Sandbox, seeded: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    policy = policy_with(tmp_path, "")
    assert cli("plan", "--config", policy) == 0
    assert cli("run", "--config", policy) == 0
    text = summary.read_text()
    assert text.count("### ecr-cleaner ") == 2
    assert "would delete 2 images" in text and "deleted 2 images" in text
    assert "| us-east-1 | 123456789012 | app | 2 | 2 | 0 | 6.0 GiB |  |" in text

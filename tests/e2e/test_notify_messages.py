"""Notifications: what each format says, when each is sent, and that a notification
that cannot be sent is logged and retried, never raised."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from notify_support import HANG, Receiver, closed_port_url, webhook_receiver
from structlog.testing import capture_logs

from cleaner.config.notify_model import Notification, NotifyKind, NotifyOn, WebhookFormat
from cleaner.core.model import Action, ActionKind, RepositoryPlan, RepositoryRef, Status
from cleaner.notify.message import RunOutcome, json_payload, slack_payload, text_message
from cleaner.notify.send import Notifier, NotifyConfigError, Ready, resolve
from cleaner.notify.webhook import WebhookError, post_json
from cleaner.report.model import RunReport

NOW = datetime(2027, 1, 1, tzinfo=UTC)
GIB = 2**30


def action(
    n: int, status: Status, code: str | None = None, kind: ActionKind = ActionKind.DELETE_IMAGE
) -> Action:
    return Action(
        kind, f"sha256:{n:064x}", (f"b-{n}",), "old", "old", GIB, status=status, failure_code=code
    )


def report(mode: str = "run", *, failed: int = 0, deleted: int = 3) -> RunReport:
    done = Status.PLANNED if mode == "plan" else Status.DELETED
    big = RepositoryPlan(
        RepositoryRef("us-east-1", "123456789012", "team/big"),
        "p",
        10,
        actions=tuple(action(n, done) for n in range(deleted))
        + tuple(action(100 + n, Status.FAILED, "KmsError") for n in range(failed)),
    )
    small = RepositoryPlan(
        RepositoryRef("us-east-1", "123456789012", "team/small"),
        "p",
        4,
        actions=(action(50, done),),
    )
    idle = RepositoryPlan(RepositoryRef("us-east-1", "123456789012", "team/idle"), "p", 2)
    return RunReport(mode, NOW, NOW, NOW, [big, small, idle])


def webhook(
    url: str, fmt: WebhookFormat = WebhookFormat.JSON, on: tuple[NotifyOn, ...] = (NotifyOn.ALWAYS,)
) -> Ready:
    return Ready(Notification(NotifyKind.WEBHOOK, on, url=url, format=fmt), "notify[0]", url)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as r:
        yield r


def quick(*ready: Ready, timeout: float = 5.0) -> Notifier:
    return Notifier(ready, timeout=timeout, sleep=lambda _: None)


def test_json_webhook_receives_the_summary_object(receiver: Receiver) -> None:
    run = RunOutcome(report(failed=2), 1)
    assert quick(webhook(receiver.url)).send(run) == []
    (body,) = receiver.received
    assert body["summary"] == dict(run.report.summary())  # type: ignore[union-attr]
    assert body["summary"]["images_deleted"] == 4 and body["summary"]["failures"] == 2
    assert body["summary"]["estimated_monthly_savings_usd"] == 0.4
    assert body["outcome"] == "failures" and body["exit_code"] == 1 and body["mode"] == "run"
    assert body["failures_by_code"] == {"KmsError": 2}
    assert [r["repository"] for r in body["largest_repositories"]] == ["team/big", "team/small"]
    assert "upper bound" in body["savings_note"]
    assert receiver.headers[0]["Content-Type"] == "application/json"


def test_slack_webhook_receives_text_and_blocks(receiver: Receiver) -> None:
    quick(webhook(receiver.url, WebhookFormat.SLACK)).send(RunOutcome(report(failed=1), 1))
    (body,) = receiver.received
    assert body["text"].startswith("ecr-cleaner run: failures (exit 1): 3 repositories")
    kinds = [b["type"] for b in body["blocks"]]
    assert kinds[:4] == ["header", "section", "section", "context"]
    fields = {
        f["text"].split("\n")[0]: f["text"].split("\n")[1] for f in body["blocks"][2]["fields"]
    }
    assert fields["*Deleted*"] == "4 images, 0 tags"
    assert fields["*Savings (upper bound)*"] == "$0.40 a month"
    assert "layers shared with images that stay are not freed" in str(body["blocks"][3])
    texts = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section" and "text" in b]
    assert any(t.startswith("*Failures by code*\n• `KmsError`: 1") for t in texts)
    assert any(t.startswith("*Largest repositories*\n• team/big (us-east-1)") for t in texts)


def test_text_message_for_email_subscribers() -> None:
    text = text_message(RunOutcome(report(failed=1), 1))
    assert "Failures by code:\n  KmsError: 1" in text
    assert "Largest repositories:\n  team/big (us-east-1): 3 images, 0 tags, 3.0 GiB" in text
    assert "team/idle" not in text


def test_a_crashed_run_still_says_so() -> None:
    run = RunOutcome(None, None, error="boom")
    assert run.failed and json_payload(run)["summary"] is None
    assert "boom" in slack_payload(run)["text"] and "boom" in text_message(run)


@pytest.mark.parametrize(
    ("run", "on", "sent"),
    [
        (RunOutcome(report(), 0), (NotifyOn.ALWAYS,), True),
        (RunOutcome(report(), 0), (NotifyOn.FAILURE,), False),
        (RunOutcome(report(), 1), (NotifyOn.FAILURE,), True),
        (RunOutcome(report(), 3), (NotifyOn.FAILURE,), True),
        (RunOutcome(report(), 143, stopped_by="SIGTERM"), (NotifyOn.FAILURE,), True),
        (RunOutcome(None, None, error="boom"), (NotifyOn.FAILURE,), True),
        (RunOutcome(report(), 0), (NotifyOn.DELETIONS,), True),
        (RunOutcome(report(deleted=0), 0), (NotifyOn.DELETIONS,), True),  # team/small
        (RunOutcome(report("plan"), 0), (NotifyOn.DELETIONS,), False),  # a dry run deletes nothing
        (RunOutcome(report("plan"), 0), (NotifyOn.FAILURE, NotifyOn.DELETIONS), False),
        (RunOutcome(report(), 0), (NotifyOn.FAILURE, NotifyOn.DELETIONS), True),
    ],
)
def test_on_decides_when_to_send(
    receiver: Receiver, run: RunOutcome, on: tuple[NotifyOn, ...], sent: bool
) -> None:
    quick(webhook(receiver.url, on=on)).send(run)
    assert receiver.attempts == (1 if sent else 0)


def test_untagging_alone_counts_as_deletions() -> None:
    untag = RepositoryPlan(
        RepositoryRef("us-east-1", "1", "r"),
        "p",
        1,
        actions=(action(1, Status.DELETED, kind=ActionKind.REMOVE_TAG),),
    )
    run = RunOutcome(RunReport("run", NOW, NOW, NOW, [untag]), 0)
    assert run.changed and run.wanted_by((NotifyOn.DELETIONS,))


def test_http_500_is_retried_then_logged_and_returned(receiver: Receiver) -> None:
    receiver.statuses = [500, 500, 500]
    slept: list[float] = []
    notifier = Notifier((webhook(receiver.url),), sleep=slept.append)
    with capture_logs() as logs:
        failed = notifier.send(RunOutcome(report(), 0))
    assert [n.kind for n in failed] == [NotifyKind.WEBHOOK]
    assert receiver.attempts == 3 and slept == [2.0, 4.0]
    (event,) = [e for e in logs if e["event"] == "notification_failed"]
    assert event["error"] == "HTTP 500 Internal Server Error (after 3 attempts)"
    assert event["notification"] == "notify[0]" and "secret" not in str(event)


def test_a_500_then_success_is_delivered(receiver: Receiver) -> None:
    receiver.statuses = [503]
    assert quick(webhook(receiver.url)).send(RunOutcome(report(), 0)) == []
    assert receiver.attempts == 2


def test_a_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.statuses = [404]
    with pytest.raises(WebhookError, match=r"HTTP 404 Not Found \(after 1 attempt\)"):
        post_json(receiver.url, {}, sleep=lambda _: None)
    assert receiver.attempts == 1


def test_receiver_down() -> None:
    with capture_logs() as logs:
        failed = quick(webhook(closed_port_url())).send(RunOutcome(report(), 0))
    assert len(failed) == 1
    (event,) = [e for e in logs if e["event"] == "notification_failed"]
    assert "Connection refused" in event["error"] and "after 3 attempts" in event["error"]


def test_a_receiver_that_never_answers_times_out(receiver: Receiver) -> None:
    receiver.statuses = [HANG, HANG, HANG]
    with pytest.raises(WebhookError, match=r"no answer within 0.1s \(after 3 attempts\)"):
        post_json(receiver.url, {}, timeout=0.1, sleep=lambda _: None)
    assert receiver.attempts == 3


@pytest.mark.parametrize(
    ("environ", "error"),
    [
        ({}, "notify[0].url_env: environment variable HOOK is not set"),
        ({"HOOK": "  "}, "notify[0].url_env: environment variable HOOK is not set"),
        (
            {"HOOK": "hooks.example.com/x"},
            "notify[0].url_env: environment variable HOOK does not hold an http:// or https:// URL",
        ),
    ],
)
def test_url_env_must_be_set(environ: dict[str, str], error: str) -> None:
    n = Notification(NotifyKind.WEBHOOK, url_env="HOOK")
    with pytest.raises(NotifyConfigError) as raised:
        resolve([n], environ)
    assert str(raised.value) == error


def test_url_env_is_read_once() -> None:
    n = Notification(NotifyKind.WEBHOOK, url_env="HOOK")
    (ready,) = resolve([n], {"HOOK": "https://hooks.example.com/T/B/x"})
    assert ready.url == "https://hooks.example.com/T/B/x"

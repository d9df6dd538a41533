"""Send a run's notifications (the policy's `notify` list) when it ends.

`run` and `serve` notify; `plan` never does (its output is its report). A notification
that cannot be sent is logged and counted by the caller; it never changes the run's
exit code. Webhook URLs given by `url_env` are read once, when the command starts: an
unset variable stops the command before any AWS call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from cleaner.config.notify import url_problem
from cleaner.config.notify_model import Notification, NotifyKind, WebhookFormat
from cleaner.errors import error_text
from cleaner.notify import message
from cleaner.notify.message import RunOutcome
from cleaner.notify.webhook import TIMEOUT, WebhookError, post_json

log = structlog.get_logger("cleaner.notify")


class NotifyConfigError(Exception):
    """A notification cannot be set up (an unset url_env variable): exit 2."""


@dataclass(frozen=True)
class Ready:
    """A notification with its URL resolved."""

    notification: Notification
    place: str  # notify[i], for messages
    url: str | None = None


def resolve(notifications: Sequence[Notification], environ: Mapping[str, str]) -> tuple[Ready, ...]:
    """Each notification with its webhook URL read from the environment where the file
    says `url_env`; every unset or unusable variable is an error."""
    ready, problems = [], []
    for i, n in enumerate(notifications):
        place = f"notify[{i}]"
        url = n.url
        if n.url_env is not None:
            url = environ.get(n.url_env, "").strip()
            problem = None
            if not url:
                problem = "is not set"
            elif url_problem(url):
                problem = "does not hold an http:// or https:// URL"
            if problem:
                problems.append(f"{place}.url_env: environment variable {n.url_env} {problem}")
                continue
        ready.append(Ready(n, place, url))
    if problems:
        raise NotifyConfigError("; ".join(problems))
    return tuple(ready)


class Notifier:
    """Sends each notification whose `on` matches how the run ended."""

    def __init__(
        self,
        notifications: Sequence[Ready] = (),
        *,
        clients: Callable[[], Any] | None = None,
        timeout: float = TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.notifications = tuple(notifications)
        self._clients = clients
        self.timeout = timeout
        self._sleep = sleep

    @classmethod
    def from_config(
        cls, notifications: Sequence[Notification], environ: Mapping[str, str], **options: Any
    ) -> Notifier:
        return cls(resolve(notifications, environ), **options)

    def send(self, run: RunOutcome) -> list[Notification]:
        """Send what `run` calls for; the notifications that could not be sent."""
        failed = []
        for ready in self.notifications:
            n = ready.notification
            if not run.wanted_by(n.on):
                continue
            try:
                self._send(ready, run)
            except Exception as exc:  # a notification never fails the run
                failed.append(n)
                log.error(
                    "notification_failed",
                    notification=ready.place,
                    target=n.name,
                    error=str(exc) if isinstance(exc, WebhookError) else error_text(exc),
                )
            else:
                log.info("notification_sent", notification=ready.place, target=n.name)
        return failed

    def _send(self, ready: Ready, run: RunOutcome) -> None:
        n = ready.notification
        if n.kind is NotifyKind.SNS:
            from cleaner.aws.sns import publish

            assert n.topic_arn is not None
            publish(
                self._aws(),
                n.topic_arn,
                message.subject(run),
                message.text_message(run),
                message.json_payload(run),
            )
            return
        assert ready.url is not None
        payload = (
            message.slack_payload(run)
            if n.format is WebhookFormat.SLACK
            else message.json_payload(run)
        )
        post_json(ready.url, payload, timeout=self.timeout, sleep=self._sleep)

    def _aws(self) -> Any:
        if self._clients is None:
            from cleaner.aws.clients import Clients

            self._clients = Clients
        return self._clients()

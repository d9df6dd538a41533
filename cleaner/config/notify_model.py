"""The policy file's `notify` and `report` sections, validated (see config/notify.py)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# ECR's standard storage price, US dollars per GB-month (GB: 2**30 bytes, as AWS bills
# storage).
DEFAULT_STORAGE_PRICE = 0.10


class NotifyKind(StrEnum):
    WEBHOOK = "webhook"
    SNS = "sns"


class WebhookFormat(StrEnum):
    SLACK = "slack"
    JSON = "json"


class NotifyOn(StrEnum):
    FAILURE = "failure"  # exit 1 or 3, or stopped by a signal
    DELETIONS = "deletions"  # anything deleted, archived or untagged
    ALWAYS = "always"


@dataclass(frozen=True, slots=True)
class Notification:
    """Where a run's summary goes when it ends. A webhook has `url` or `url_env` (the
    name of the environment variable holding the URL, read when the command starts);
    SNS has `topic_arn`."""

    kind: NotifyKind
    on: tuple[NotifyOn, ...] = (NotifyOn.ALWAYS,)
    url: str | None = None
    url_env: str | None = None
    format: WebhookFormat = WebhookFormat.JSON
    topic_arn: str | None = None

    @property
    def name(self) -> str:
        """How logs name it without its URL (a webhook URL is often a secret)."""
        if self.kind is NotifyKind.SNS:
            return f"sns {self.topic_arn}"
        return f"webhook ${self.url_env}" if self.url_env else "webhook (url)"


@dataclass(frozen=True, slots=True)
class ReportSettings:
    storage_price_per_gb_month: float = DEFAULT_STORAGE_PRICE

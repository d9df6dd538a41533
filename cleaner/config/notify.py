"""Checkers of the policy file's `notify` list and `report` mapping."""

from __future__ import annotations

import re
from math import inf
from urllib.parse import urlsplit

from cleaner.config import fields as f
from cleaner.config.fields import Issues, item, key
from cleaner.config.notify_model import (
    Notification,
    NotifyKind,
    NotifyOn,
    ReportSettings,
    WebhookFormat,
)

WEBHOOK_KEYS = ("kind", "url", "url_env", "format", "on")
SNS_KEYS = ("kind", "topic_arn", "on")
REPORT_KEYS = ("storage_price_per_gb_month",)
_KEYS = {NotifyKind.WEBHOOK: WEBHOOK_KEYS, NotifyKind.SNS: SNS_KEYS}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")


def parse_notify(issues: Issues, path: str, value: object) -> tuple[Notification, ...] | None:
    if value == []:
        return ()
    items = f.non_empty_list(issues, path, value, "notifications")
    found = [_notification(issues, item(path, i), raw) for i, raw in enumerate(items or [])]
    return tuple(n for n in found if n is not None)


def _notification(issues: Issues, path: str, value: object) -> Notification | None:
    if isinstance(value, dict) and True in value and "on" not in value:
        # YAML 1.1 reads a bare `on` key as the boolean true.
        value = {("on" if k is True else k): v for k, v in value.items()}
    if not isinstance(value, dict):
        issues.add(path, f"must be a mapping with kind: webhook or sns (got {f.describe(value)})")
        return None
    if "kind" not in value:
        issues.add(key(path, "kind"), "required (webhook or sns)")
        return None
    kind = f.choice(issues, key(path, "kind"), value["kind"], NotifyKind)
    if kind is None:
        return None
    section = f.mapping(issues, path, value, _KEYS[kind])
    assert section is not None
    on = section.field("on", _on)
    if kind is NotifyKind.SNS:
        if "topic_arn" not in section:
            issues.add(key(path, "topic_arn"), "required")
        arn = section.field("topic_arn", _topic_arn)
        return Notification(kind, on or (NotifyOn.ALWAYS,), topic_arn=arn) if arn else None
    if ("url" in section) == ("url_env" in section):
        both = "not both" if "url" in section else "one is required"
        issues.add(path, f"give url or url_env ({both})")
    url = section.field("url", _url)
    url_env = section.field("url_env", _env_name)
    form = section.field("format", f.one_of(WebhookFormat)) or WebhookFormat.JSON
    if url is None and url_env is None:
        return None
    return Notification(kind, on or (NotifyOn.ALWAYS,), url=url, url_env=url_env, format=form)


def _on(issues: Issues, path: str, value: object) -> tuple[NotifyOn, ...] | None:
    """A list of conditions; a single one may be written without the list."""
    values = [value] if isinstance(value, str) else value
    items = f.non_empty_list(issues, path, values, "conditions (failure, deletions, always)")
    if items is None:
        return None
    parsed = [f.choice(issues, item(path, i), v, NotifyOn) for i, v in enumerate(items)]
    return tuple(dict.fromkeys(p for p in parsed if p is not None)) if None not in parsed else None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook's address, or None. Also used for `url_env`'s value."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL"
    return None


def _url(issues: Issues, path: str, value: object) -> str | None:
    text = f.string(issues, path, value)
    if text is None:
        return None
    problem = url_problem(text)
    if problem:
        # The URL itself is not repeated: webhook URLs carry their secret in the path.
        issues.add(path, problem)
        return None
    return text


def _env_name(issues: Issues, path: str, value: object) -> str | None:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        issues.add(
            path, f"must be an environment variable name like SLACK_URL (got {f.describe(value)})"
        )
        return None
    return value


def _topic_arn(issues: Issues, path: str, value: object) -> str | None:
    if not isinstance(value, str) or not _TOPIC_ARN.fullmatch(value):
        example = "arn:aws:sns:us-east-1:123456789012:NAME"
        issues.add(path, f"must be an SNS topic ARN like {example} (got {f.describe(value)})")
        return None
    return value


def parse_report(issues: Issues, path: str, value: object) -> ReportSettings | None:
    section = f.mapping(issues, path, value, REPORT_KEYS)
    if section is None:
        return None
    price = section.field("storage_price_per_gb_month", _price)
    return ReportSettings() if price is None else ReportSettings(price)


def _price(issues: Issues, path: str, value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < inf:
        issues.add(path, f"must be a number >= 0, US dollars (got {f.describe(value)})")
        return None
    return float(value)

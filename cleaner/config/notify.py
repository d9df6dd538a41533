"""The policy file's `notify` list and `report` mapping.

Each notification is a mapping whose `kind` picks its Shape (webhook or sns); the
schema says the same with a `oneOf` of the two shapes, each fixing its `kind`.
"""

from __future__ import annotations

import re
from math import inf
from urllib.parse import urlsplit

from cleaner.config import fields as f
from cleaner.config.fields import Check, Issues, item, key
from cleaner.config.notify_model import (
    Notification,
    NotifyKind,
    NotifyOn,
    ReportSettings,
    WebhookFormat,
)
from cleaner.config.shape import Key, Section, Shape, default_of

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOPIC_ARN = re.compile(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?")
_CONDITIONS = "failure, deletions, always"


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


def _on(issues: Issues, path: str, value: object) -> tuple[NotifyOn, ...] | None:
    """A list of conditions; a single one may be written without the list."""
    values = [value] if isinstance(value, str) else value
    items = f.non_empty_list(issues, path, values, f"conditions ({_CONDITIONS})")
    if items is None:
        return None
    parsed = [f.choice(issues, item(path, i), v, NotifyOn) for i, v in enumerate(items)]
    return tuple(dict.fromkeys(p for p in parsed if p is not None)) if None not in parsed else None


_CONDITION = f.one_of(NotifyOn)
ON = Key(
    Check(
        _on,
        {"oneOf": [_CONDITION, {"type": "array", "minItems": 1, "items": _CONDITION}]},
        name="notifyOn",
    ),
    "When to send: failure (exit 1 or 3, or stopped by a signal), deletions (anything"
    " deleted, archived or untagged), always; one condition or a list. Tools that read"
    " YAML 1.1 take a bare on as the boolean true: quote it ('on') for them; ecr-cleaner"
    " reads either.",
    default=default_of(Notification, "on"),
)


def _kind_is(kind: NotifyKind, description: str) -> Key[NotifyKind]:
    """The `kind` key of one kind's Shape (the kind was checked to pick the Shape)."""

    def check(issues: Issues, path: str, value: object) -> NotifyKind | None:
        if value != kind:
            issues.add(path, f"must be {kind.value} (got {f.describe(value)})")
            return None
        return kind

    return Key(Check(check, {"const": kind.value}), description, required=True)


WEBHOOK = Shape(
    {
        "kind": _kind_is(NotifyKind.WEBHOOK, "An HTTP webhook."),
        "url": Key(
            Check(_url, {"type": "string", "pattern": "^https?://[^/]+"}),
            "The webhook's URL. Webhook URLs are secrets: prefer url_env.",
        ),
        "url_env": Key(
            f.matching(_ENV_NAME, "an environment variable name like SLACK_URL"),
            "The environment variable that holds the URL; `run` and `serve` exit 2 if it is"
            " not set.",
        ),
        "format": Key(
            f.one_of(WebhookFormat),
            "slack: a Slack incoming-webhook message; json: the report's summary object.",
            default=default_of(Notification, "format"),
        ),
        "on": ON,
    },
    description="An HTTP POST of the run's summary. Give url or url_env.",
    name="webhook",
    rules={"oneOf": [{"required": ["url"]}, {"required": ["url_env"]}]},
)


@WEBHOOK.reader
def _webhook(section: Section) -> Notification | None:
    on = section.field("on")
    if ("url" in section) == ("url_env" in section):
        both = "not both" if "url" in section else "one is required"
        section.add(f"give url or url_env ({both})")
    url = section.field("url")
    url_env = section.field("url_env")
    form = section.field("format")
    if on is None or form is None or (url is None and url_env is None):
        return None
    return Notification(NotifyKind.WEBHOOK, on, url=url, url_env=url_env, format=form)


SNS = Shape(
    {
        "kind": _kind_is(NotifyKind.SNS, "An Amazon SNS topic."),
        "topic_arn": Key(
            f.matching(_TOPIC_ARN, "an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:NAME"),
            "The topic's ARN.",
            required=True,
        ),
        "on": ON,
    },
    description="An Amazon SNS message to a topic (the standard AWS credentials; the"
    " topic's region).",
    name="sns",
    # `on` is read first, so its errors come before a missing topic_arn.
    required_when_read=True,
)


@SNS.reader
def _sns(section: Section) -> Notification | None:
    on = section.field("on")
    arn = section.field("topic_arn")
    if on is None or arn is None:
        return None
    return Notification(NotifyKind.SNS, on, topic_arn=arn)


# The loader picks the shape by `kind`; in the schema both shapes fix their kind, so
# exactly one of them matches.
_SHAPES = {NotifyKind.WEBHOOK: _webhook, NotifyKind.SNS: _sns}
WEBHOOK_KEYS = tuple(WEBHOOK.keys)
SNS_KEYS = tuple(SNS.keys)


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
    return _SHAPES[kind](issues, path, value)


notification = Check(
    _notification,
    {
        "description": "A notification: kind webhook or sns, and that kind's settings.",
        "oneOf": [_SHAPES[NotifyKind.WEBHOOK], _SHAPES[NotifyKind.SNS]],
    },
)


def _notify(issues: Issues, path: str, value: object) -> tuple[Notification, ...] | None:
    if value == []:
        return ()
    items = f.non_empty_list(issues, path, value, "notifications")
    found = [notification(issues, item(path, i), raw) for i, raw in enumerate(items or [])]
    return tuple(n for n in found if n is not None)


notify = Check(_notify, {"type": "array", "items": notification})


def _price(issues: Issues, path: str, value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < inf:
        issues.add(path, f"must be a number >= 0, US dollars (got {f.describe(value)})")
        return None
    return float(value)


REPORT = Shape(
    {
        "storage_price_per_gb_month": Key(
            Check(_price, {"type": "number", "minimum": 0}),
            "US dollars per GB-month of ECR storage (GB: 2^30 bytes) used to price the bytes"
            " a run reclaims. Default 0.10, ECR's standard storage price.",
            default=default_of(ReportSettings, "storage_price_per_gb_month"),
        )
    },
    description="How reports estimate savings.",
)
report = REPORT.reader(lambda section: ReportSettings(**section.checked()))

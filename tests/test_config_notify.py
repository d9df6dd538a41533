"""The policy file's `notify` list and `report` mapping: what is accepted, and every
error with its place."""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

import jsonschema
import pytest
import yaml
from config_support import errors_of, top

from cleaner.config.load import load_config_text
from cleaner.config.notify import SNS_KEYS, WEBHOOK_KEYS
from cleaner.config.notify_model import (
    DEFAULT_STORAGE_PRICE,
    Notification,
    NotifyKind,
    NotifyOn,
    ReportSettings,
    WebhookFormat,
)
from cleaner.config.schema import load_schema

P = pytest.param
ARN = "arn:aws:sns:us-east-1:123456789012:cleaner"


def test_defaults_no_notifications_and_ecr_price() -> None:
    config = load_config_text(top(""))
    assert config.notify == ()
    assert config.report == ReportSettings(DEFAULT_STORAGE_PRICE) == ReportSettings(0.10)


ACCEPTED = [
    P(
        "notify: [{kind: webhook, url: 'https://hooks.example.com/x'}]\n",
        Notification(NotifyKind.WEBHOOK, (NotifyOn.ALWAYS,), url="https://hooks.example.com/x"),
        id="webhook-defaults",
    ),
    P(
        "notify:\n  - kind: webhook\n    url_env: SLACK_URL\n    format: slack\n    on: [failure, deletions]\n",
        Notification(
            NotifyKind.WEBHOOK,
            (NotifyOn.FAILURE, NotifyOn.DELETIONS),
            url_env="SLACK_URL",
            format=WebhookFormat.SLACK,
        ),
        id="webhook-block-style-bare-on",
    ),
    P(
        f"notify: [{{kind: sns, topic_arn: '{ARN}', on: failure}}]\n",
        Notification(NotifyKind.SNS, (NotifyOn.FAILURE,), topic_arn=ARN),
        id="sns-one-condition",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_notifications_accepted(text: str, expected: Notification) -> None:
    """`on` unquoted is YAML 1.1's boolean true; the loader still reads it as `on`."""
    assert load_config_text(top(text)).notify == (expected,)
    validator = jsonschema.Draft202012Validator(load_schema())
    validator.validate(
        yaml.safe_load(top(text).replace("\n    on:", "\n    'on':").replace(", on:", ", 'on':"))
    )


def test_report_price() -> None:
    assert load_config_text(
        top("report: {storage_price_per_gb_month: 0.0125}\n")
    ).report == ReportSettings(0.0125)


# fmt: off
ERRORS = [
    P("notify: {kind: webhook}\n", ["policy.yaml:4:9: notify: must be a non-empty list of notifications (got a mapping)"], id="not-a-list"),
    P("notify: [{url: 'https://x'}]\n", ["policy.yaml:4:10: notify[0].kind: required (webhook or sns)"], id="no-kind"),
    P("notify: [{kind: email}]\n", ["policy.yaml:4:17: notify[0].kind: must be one of: webhook, sns (got 'email')"], id="unknown-kind"),
    P("notify: [{kind: webhook}]\n", ["policy.yaml:4:10: notify[0]: give url or url_env (one is required)"], id="no-url"),
    P("notify: [{kind: webhook, url: 'https://x', url_env: X}]\n", ["policy.yaml:4:10: notify[0]: give url or url_env (not both)"], id="url-and-env"),
    P("notify: [{kind: webhook, url: 'ftp://x/secret'}]\n", ["policy.yaml:4:31: notify[0].url: must be an http:// or https:// URL"], id="url-scheme"),
    P("notify: [{kind: webhook, url_env: 'my-var'}]\n", ["policy.yaml:4:35: notify[0].url_env: must be an environment variable name like SLACK_URL (got 'my-var')"], id="env-name"),
    P("notify: [{kind: webhook, url: 'https://x', format: teams}]\n", ["policy.yaml:4:52: notify[0].format: must be one of: slack, json (got 'teams')"], id="format"),
    P("notify: [{kind: webhook, url: 'https://x', 'on': [sometimes]}]\n", ["policy.yaml:4:51: notify[0].on[0]: must be one of: failure, deletions, always (got 'sometimes')"], id="on"),
    P("notify: [{kind: webhook, url: 'https://x', 'on': []}]\n", ["policy.yaml:4:50: notify[0].on: must be a non-empty list of conditions (failure, deletions, always) (got an empty list)"], id="on-empty"),
    P("notify: [{kind: webhook, url: 'https://x', topic_arn: x}]\n", ["policy.yaml:4:44: notify[0].topic_arn: unknown key (expected one of: kind, url, url_env, format, on)"], id="webhook-unknown-key"),
    P("notify: [{kind: sns}]\n", ["policy.yaml:4:10: notify[0].topic_arn: required"], id="sns-no-arn"),
    P("notify: [{kind: sns, topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q'}]\n", ["policy.yaml:4:33: notify[0].topic_arn: must be an SNS topic ARN like arn:aws:sns:us-east-1:123456789012:NAME (got 'arn:aws:sqs:us-east-1:123456789012:q')"], id="sns-arn"),
    P(f"notify: [{{kind: sns, topic_arn: '{ARN}', url: 'https://x'}}]\n", ["policy.yaml:4:79: notify[0].url: unknown key (expected one of: kind, topic_arn, on)"], id="sns-unknown-key"),
    P("notify: [x]\n", ["policy.yaml:4:10: notify[0]: must be a mapping with kind: webhook or sns (got 'x')"], id="item-not-mapping"),
    P("report: {storage_price_per_gb_month: -1}\n", ["policy.yaml:4:38: report.storage_price_per_gb_month: must be a number >= 0, US dollars (got -1)"], id="price-negative"),
    P("report: {storage_price: 1}\n", ["policy.yaml:4:10: report.storage_price: unknown key (expected one of: storage_price_per_gb_month)"], id="price-key"),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_notify_and_report_errors(text: str, expected: list[str]) -> None:
    assert errors_of(top(text)) == expected


def test_a_url_in_an_error_is_never_repeated() -> None:
    """A webhook URL carries its secret in the path."""
    (error,) = errors_of(top("notify: [{kind: webhook, url: 'ftp://hooks/T0/B0/SECRET'}]\n"))
    assert "SECRET" not in error


def test_schema_knows_the_loaders_keys() -> None:
    defs = load_schema()["$defs"]
    assert tuple(defs["webhook"]["properties"]) == WEBHOOK_KEYS
    assert tuple(defs["sns"]["properties"]) == SNS_KEYS
    assert tuple(load_schema()["properties"]["report"]["properties"]) == (
        "storage_price_per_gb_month",
    )

"""Publish a notification to an SNS topic (the only SNS call the cleaner makes)."""

from __future__ import annotations

import json
from typing import Any

from botocore.config import Config as BotoConfig

# A notification must not hold a run up for long: few attempts, short timeouts.
NOTIFY_CONFIG = BotoConfig(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=10
)


def topic_region(topic_arn: str) -> str:
    return topic_arn.split(":")[3]


def publish(clients: Any, topic_arn: str, subject: str, text: str, document: Any) -> str:
    """One message: `text` for e-mail and SMS subscribers, the JSON `document` for
    SQS, Lambda and HTTP(S) ones. `clients`: cleaner.aws.clients.Clients (the standard
    AWS chain). Returns the message id; raises on failure."""
    client = clients.client("sns", topic_region(topic_arn), lane="notify", config=NOTIFY_CONFIG)
    as_json = json.dumps(document)
    message = {"default": text, "sqs": as_json, "lambda": as_json}
    message.update(http=as_json, https=as_json)
    response = client.publish(
        TopicArn=topic_arn,
        Subject=subject,
        Message=json.dumps(message),
        MessageStructure="json",
    )
    return str(response["MessageId"])

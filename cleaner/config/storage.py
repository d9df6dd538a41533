"""The archive settings of a rule: `action`, `select.storage`, `expire.archived_before`.

Which combinations mean something (docs/archive.md), and the one that is valid but
costs money for nothing: deleting archived images before ECR's 90-day minimum charge.
"""

from __future__ import annotations

from datetime import timedelta

from cleaner.config.fields import JSON, Issues, key
from cleaner.config.model import Config, Rule, RuleAction, Storage

# ECR bills every archived image for at least this long, even when deleted sooner.
ARCHIVE_MINIMUM = timedelta(days=90)

_ARCHIVED = {"properties": {"storage": {"const": Storage.ARCHIVED}}, "required": ["storage"]}
# What check_storage says, in the rule's JSON Schema.
ARCHIVE_RULES: list[JSON] = [
    {
        "if": {"properties": {"action": {"const": RuleAction.ARCHIVE}}, "required": ["action"]},
        "then": {"properties": {"select": {"properties": {"storage": {"const": Storage.ACTIVE}}}}},
    },
    {
        "if": {
            "properties": {"expire": {"required": ["archived_before"]}},
            "required": ["expire"],
        },
        "then": {"properties": {"select": _ARCHIVED}, "required": ["select"]},
    },
]


def check_storage(issues: Issues, path: str, rule: Rule) -> Rule:
    """Record what cannot be meant: archiving images that are already archived, and an
    archive age on a rule that sees only active images."""
    archived = rule.select.storage is Storage.ARCHIVED
    if archived and rule.action is RuleAction.ARCHIVE:
        issues.add(
            key(path, "action"),
            "archive needs active images (select.storage: archived selects images that "
            "are archived already)",
        )
    if not archived and rule.expire is not None and rule.expire.archived_before is not None:
        issues.add(
            key(key(path, "expire"), "archived_before"),
            "needs select.storage: archived (only archived images have an archive time)",
        )
    return rule


def storage_warnings(config: Config) -> list[tuple[str, str]]:
    """(place, message) for each archived_before shorter than ECR's minimum charge."""
    found = []
    for i, policy in enumerate(config.policies):
        for j, rule in enumerate(policy.rules):
            age = rule.expire.archived_before if rule.expire else None
            if age is not None and age < ARCHIVE_MINIMUM:
                found.append(
                    (
                        f"policies[{i}].rules[{j}].expire.archived_before",
                        "below ECR's 90-day minimum charge for archived images: one deleted "
                        "sooner is billed for 90 days anyway",
                    )
                )
    return found

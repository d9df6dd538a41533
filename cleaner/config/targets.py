"""The `targets` section of the policy file: registries, their regions and roles."""

from __future__ import annotations

import re

from cleaner.config import fields as f
from cleaner.config.fields import Check, Issues, item
from cleaner.config.model import DEFAULT_SESSION_NAME, NamePatterns, Target
from cleaner.config.shape import Key, Section, Shape

# Covers the commercial, China, GovCloud and ISO partitions (us-gov-west-1, us-isob-east-1).
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/.+")
_ACCOUNT = re.compile(r"[0-9]{12}")
# STS's own constraints on AssumeRole's ExternalId and RoleSessionName.
_EXTERNAL_ID = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")
_SESSION_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{2,64}")
_EXTERNAL_ID_SHAPE = "2 to 1224 characters: letters, digits and _+=,.@:/-"
_SESSION_NAME_SHAPE = "2 to 64 characters: letters, digits and _+=,.@-"
# Settings used only when assuming role_arn: without a role they would do nothing.
NEEDS_ROLE = ("external_id", "session_name")


def _whole(pattern: re.Pattern[str]) -> str:
    """A fullmatch regex as a JSON Schema pattern (which may match anywhere)."""
    return f"^{pattern.pattern}$"


def _region(issues: Issues, path: str, value: object) -> str | None:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        issues.add(path, f"must be an AWS region like us-east-1 (got {f.describe(value)})")
        return None
    return value


region = Check(
    _region,
    {"type": "string", "pattern": _whole(_REGION), "description": "AWS region, e.g. us-east-1."},
    name="region",
)


def _regions(issues: Issues, path: str, value: object) -> list[str] | None:
    items = f.non_empty_list(issues, path, value, "regions")
    regions: list[str] = []
    for i, raw in enumerate(items or []):
        checked = region(issues, item(path, i), raw)
        if checked in regions:
            # The same registry twice would be cleaned twice, concurrently.
            issues.add(item(path, i), f"duplicate region {checked!r}")
        elif checked is not None:
            regions.append(checked)
    return regions


def _registry_id(issues: Issues, path: str, value: object) -> str | None:
    # A YAML number is refused rather than converted: YAML drops leading zeros and
    # reads some zero-prefixed digit strings as octal, so the number may already name
    # another account.
    if isinstance(value, int) and not isinstance(value, bool):
        issues.add(
            path,
            f'must be a string of 12 digits in quotes, like "{value:012d}"'
            " (YAML reads unquoted digits as a number and drops leading zeros)",
        )
        return None
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        issues.add(
            path, f"must be a string of 12 digits, an AWS account id (got {f.describe(value)})"
        )
        return None
    return value


TARGET = Shape(
    {
        "region": Key(region, "The region of this target (or use regions)."),
        "regions": Key(
            Check(
                _regions,
                {"type": "array", "minItems": 1, "uniqueItems": True, "items": region},
            ),
            "Several regions, same registry settings: shorthand for one target per region.",
        ),
        "registry_id": Key(
            Check(_registry_id, {"type": "string", "pattern": _whole(_ACCOUNT)}),
            'AWS account id of the registry, quoted ("012345678901").'
            " Default: the caller's registry.",
        ),
        "role_arn": Key(
            f.matching(_ROLE_ARN, "an IAM role ARN like arn:aws:iam::123456789012:role/NAME"),
            "IAM role assumed via STS to reach the registry (and its ECS and Lambda for in-use"
            " sources). Credentials are refreshed before they expire."
            " Default: the ambient credentials.",
        ),
        "external_id": Key(
            f.matching(_EXTERNAL_ID, _EXTERNAL_ID_SHAPE),
            "sts:ExternalId passed when assuming role_arn (the role's trust policy may"
            " require it). Needs role_arn.",
        ),
        "session_name": Key(
            f.matching(_SESSION_NAME, _SESSION_NAME_SHAPE),
            "RoleSessionName when assuming role_arn; CloudTrail records it. Needs role_arn.",
            default=DEFAULT_SESSION_NAME,
        ),
        "repositories": Key(
            f.globs,
            'Repositories of this registry to look at: globs, !glob excludes. Default ["*"].',
        ),
    },
    description="One registry, in one region or in each of several.",
    name="target",
    rules={
        "oneOf": [{"required": ["region"]}, {"required": ["regions"]}],
        "dependentRequired": {name: ["role_arn"] for name in NEEDS_ROLE},
    },
)


@TARGET.reader
def _target(section: Section) -> list[Target]:
    """One Target per region: `regions: [a, b]` is shorthand for two targets."""
    if ("region" in section) == ("regions" in section):
        both = "not both" if "region" in section else "one is required"
        section.add(f"give region or regions ({both})")
    regions = [section.field("region")] if "region" in section else []
    regions += section.field("regions") or []
    registry_id = section.field("registry_id")
    role_arn = section.field("role_arn")
    repositories = section.field("repositories") or NamePatterns()
    # The session name's default is applied where the role is assumed.
    external_id, session_name = (section.written(name) for name in NEEDS_ROLE)
    for name in NEEDS_ROLE:
        if name in section and "role_arn" not in section:
            section.add("needs role_arn (it is used when assuming that role)", at=name)
    return [
        Target(r, registry_id, role_arn, repositories, external_id, session_name)
        for r in regions
        if r is not None
    ]


def _targets(issues: Issues, path: str, value: object) -> tuple[Target, ...] | None:
    items = f.non_empty_list(issues, path, value, "targets")
    targets = [_target(issues, item(path, i), raw) for i, raw in enumerate(items or [])]
    return tuple(t for expanded in targets for t in expanded or [])


target_list = Check(_targets, {"type": "array", "minItems": 1, "items": _target})

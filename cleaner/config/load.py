"""The policy file (YAML) as a validated, frozen `Config`.

The whole file is checked before anything runs and every error is reported at once,
each with its place (`policies[0].rules[1].keep.most_recent: must be ...`). Nothing
here talks to AWS or reads the clock.
"""

from __future__ import annotations

import re
from dataclasses import replace
from math import inf
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import Node

from cleaner.config import fields as f
from cleaner.config.cron import trigger_from_crontab
from cleaner.config.fields import Issues, item, key, parse_duration
from cleaner.config.model import Config, Limits, NamePatterns, OrphanedReferrers, Schedule, Target
from cleaner.config.policies import parse_policies
from cleaner.config.storage import storage_warnings
from cleaner.config.yaml_source import place, read_yaml

__all__ = ["ConfigError", "load_config", "load_config_text", "parse_config", "parse_duration"]

TOP_KEYS = ("version", "targets", "policies", "defaults", "limits", "schedule")
TARGET_KEYS = (
    "region",
    "regions",
    "registry_id",
    "role_arn",
    "external_id",
    "session_name",
    "repositories",
)
LIMITS_KEYS = (
    "max_deletions",
    "max_deletion_ratio",
    "orphaned_referrers",
    "concurrency",
    "requests_per_second",
)
# boto3 clients keep at most this many connections (registry.CLIENT_CONFIG): more
# threads than that would queue for a connection anyway.
MAX_CONCURRENCY = 64
SCHEDULE_KEYS = ("cron", "timezone")

# Covers the commercial, China, GovCloud and ISO partitions (us-gov-west-1, us-isob-east-1).
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:role/.+")
_ACCOUNT = re.compile(r"[0-9]{12}")
# STS's own constraints on AssumeRole's ExternalId and RoleSessionName.
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]{2,1224}", re.ASCII)
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)
_EXTERNAL_ID_SHAPE = "2 to 1224 characters: letters, digits and _+=,.@:/-"
_SESSION_NAME_SHAPE = "2 to 64 characters: letters, digits and _+=,.@-"


class ConfigError(Exception):
    """The policy file is invalid; `errors` lists every problem, each with its place."""

    def __init__(self, errors: list[str]) -> None:
        # The list itself is the exception's argument, so a pickled copy (across a
        # process pool, say) rebuilds the same error.
        super().__init__(list(errors))
        self.errors = list(errors)

    def __str__(self) -> str:
        return "\n".join(self.errors)


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    return load_config_text(text, source=str(path))


def load_config_text(text: str, source: str = "<string>") -> Config:
    """The policy file's text as a Config. Each error starts with `source` and the line
    and column of what it is about: `policy.yaml:7:26: policies[0]...: must be ...`."""
    data, root, problems = read_yaml(text, source)
    if data is None and problems:
        raise ConfigError(problems)
    try:
        config = parse_config(data, source, root)
    except ConfigError as exc:
        raise ConfigError([*problems, *exc.errors]) from None
    if problems:
        raise ConfigError(problems)
    return config


def parse_config(data: object, source: str = "<config>", root: Node | None = None) -> Config:
    """Already-parsed YAML (or JSON) data as a Config; raises ConfigError with every error.
    `root`: the YAML nodes `data` was read from, to put `source:line:column` before each."""
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f.describe(data)
        message = "the top level must be a mapping with version, targets and policies"
        where = source if root is None else place(source, root, "")
        raise ConfigError([f"{where}: {message} (got {got})"])
    parsed = _parse(data)
    if isinstance(parsed, Config):
        notes = [
            f"{source if root is None else place(source, root, path)}: warning: {path}: {text}"
            for path, text in storage_warnings(parsed)
        ]
        return replace(parsed, warnings=tuple(notes))
    if root is None:
        raise ConfigError(parsed.errors)
    raise ConfigError(
        [f"{place(source, root, p.path, at_key=p.at_key)}: {p}" for p in parsed.problems]
    )


def _parse(data: dict[str, object]) -> Config | Issues:
    """The Config, or every problem found."""
    issues = Issues()
    top = f.mapping(issues, "", data, TOP_KEYS)
    assert top is not None  # data is a dict
    if "version" not in top:
        issues.add("version", "required (must be 1)")
    elif isinstance(top.values["version"], str):
        # `version: "1"` looks right; say why it is not.
        got = f.describe(top.values["version"])
        issues.add("version", f"must be the number 1, not a string (got {got})")
    elif type(top.values["version"]) is not int or top.values["version"] != 1:
        issues.add("version", f"must be 1 (got {f.describe(top.values['version'])})")
    if "targets" not in top:
        issues.add("targets", "required")
    targets = top.field("targets", _targets) or ()
    policies = parse_policies(issues, top)
    limits = top.field("limits", _limits) or Limits()
    schedule = top.field("schedule", _schedule)
    if issues.problems:
        return issues
    return Config(targets=targets, policies=policies, limits=limits, schedule=schedule)


def _targets(issues: Issues, path: str, value: object) -> tuple[Target, ...] | None:
    items = f.non_empty_list(issues, path, value, "targets")
    targets = [_target(issues, item(path, i), raw) for i, raw in enumerate(items or [])]
    return tuple(t for expanded in targets for t in expanded)


def _target(issues: Issues, path: str, value: object) -> list[Target]:
    """One Target per region: `regions: [a, b]` is shorthand for two targets."""
    section = f.mapping(issues, path, value, TARGET_KEYS)
    if section is None:
        return []
    if ("region" in section) == ("regions" in section):
        both = "not both" if "region" in section else "one is required"
        issues.add(path, f"give region or regions ({both})")
    regions = [section.field("region", _region)] if "region" in section else []
    regions += section.field("regions", _regions) or []
    registry_id = section.field("registry_id", _registry_id)
    role_arn = section.field("role_arn", _role_arn)
    repositories = section.field("repositories", f.globs) or NamePatterns()
    external_id = section.field("external_id", _sts_value(_EXTERNAL_ID, _EXTERNAL_ID_SHAPE))
    session_name = section.field("session_name", _sts_value(_SESSION_NAME, _SESSION_NAME_SHAPE))
    for name in ("external_id", "session_name"):
        if name in section and "role_arn" not in section:
            # Without a role there is nothing to assume: the setting would silently do nothing.
            issues.add(key(path, name), "needs role_arn (it is used when assuming that role)")
    return [
        Target(r, registry_id, role_arn, repositories, external_id, session_name)
        for r in regions
        if r is not None
    ]


def _region(issues: Issues, path: str, value: object) -> str | None:
    if not isinstance(value, str) or not _REGION.fullmatch(value):
        issues.add(path, f"must be an AWS region like us-east-1 (got {f.describe(value)})")
        return None
    return value


def _regions(issues: Issues, path: str, value: object) -> list[str] | None:
    items = f.non_empty_list(issues, path, value, "regions")
    regions: list[str] = []
    for i, raw in enumerate(items or []):
        region = _region(issues, item(path, i), raw)
        if region in regions:
            # The same registry twice would be cleaned twice, concurrently.
            issues.add(item(path, i), f"duplicate region {region!r}")
        elif region is not None:
            regions.append(region)
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


def _role_arn(issues: Issues, path: str, value: object) -> str | None:
    if not isinstance(value, str) or not _ROLE_ARN.fullmatch(value):
        example = "arn:aws:iam::123456789012:role/NAME"
        issues.add(path, f"must be an IAM role ARN like {example} (got {f.describe(value)})")
        return None
    return value


def _sts_value(pattern: re.Pattern[str], shape: str) -> f.Checker[str]:
    def check(issues: Issues, path: str, value: object) -> str | None:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            issues.add(path, f"must be {shape} (got {f.describe(value)})")
            return None
        return value

    return check


def _limits(issues: Issues, path: str, value: object) -> Limits | None:
    section = f.mapping(issues, path, value, LIMITS_KEYS)
    if section is None:
        return None
    default = Limits()
    # max_deletions: 0 is allowed and means "delete nothing" (the example config's setting).
    max_deletions = section.field("max_deletions", f.at_least(0))
    ratio = section.field("max_deletion_ratio", _ratio)
    orphans = section.field("orphaned_referrers", f.one_of(OrphanedReferrers))
    concurrency = section.field("concurrency", _concurrency)
    rate = section.field("requests_per_second", _rate)
    return Limits(
        max_deletions=default.max_deletions if max_deletions is None else max_deletions,
        max_deletion_ratio=ratio or default.max_deletion_ratio,
        orphaned_referrers=orphans or default.orphaned_referrers,
        concurrency=concurrency or default.concurrency,
        requests_per_second=rate,
    )


def _concurrency(issues: Issues, path: str, value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        issues.add(
            path, f"must be an integer from 1 to {MAX_CONCURRENCY} (got {f.describe(value)})"
        )
        return None
    return value


def _rate(issues: Issues, path: str, value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < inf:
        issues.add(path, f"must be a number > 0 (got {f.describe(value)})")
        return None
    return float(value)


def _ratio(issues: Issues, path: str, value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        issues.add(path, f"must be a number in (0, 1] (got {f.describe(value)})")
        return None
    return float(value)


def _schedule(issues: Issues, path: str, value: object) -> Schedule | None:
    section = f.mapping(issues, path, value, SCHEDULE_KEYS, required=("cron",))
    if section is None:
        return None
    timezone = section.field("timezone", _timezone)
    cron = section.field("cron", f.string)
    if cron is not None:
        cron = _check_cron(issues, key(path, "cron"), cron, timezone or "UTC")
    if cron is None or ("timezone" in section and timezone is None):
        return None
    return Schedule(cron, timezone or "UTC")


def _timezone(issues: Issues, path: str, value: object) -> str | None:
    name = f.string(issues, path, value)
    if name is None:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        issues.add(path, f"unknown time zone {name!r} (use an IANA name like UTC or Europe/Berlin)")
        return None
    return name


def _check_cron(issues: Issues, path: str, cron: str, timezone: str) -> str | None:
    # The same function builds serve's trigger: what validates is what runs.
    try:
        trigger_from_crontab(cron, timezone)
    except ValueError as exc:
        issues.add(path, str(exc))
        return None
    return cron

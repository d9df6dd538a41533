"""The policy file (YAML) as a validated, frozen `Config`.

The whole file is checked before anything runs and every error is reported at once,
each with its place (`policies[0].rules[1].keep.most_recent: must be ...`). Nothing
here talks to AWS or reads the clock.
"""

from __future__ import annotations

from dataclasses import replace
from math import inf
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from yaml.nodes import Node

from cleaner.config import fields as f
from cleaner.config.cron import trigger_from_crontab
from cleaner.config.fields import Issues, key, parse_duration
from cleaner.config.lifecycle_source import files_relative_to
from cleaner.config.model import Config, Limits, OrphanedReferrers, Schedule
from cleaner.config.notify import notify, report
from cleaner.config.notify_model import ReportSettings
from cleaner.config.policies import parse_policies, policy_list
from cleaner.config.protect import defaults
from cleaner.config.shape import Key, Section, Shape, default_of
from cleaner.config.storage import storage_warnings
from cleaner.config.targets import target_list
from cleaner.config.yaml_source import place, read_yaml

__all__ = ["ConfigError", "load_config", "load_config_text", "parse_config", "parse_duration"]

# boto3 clients keep at most this many connections (cleaner.aws.clients): more threads
# than that would queue for a connection anyway.
MAX_CONCURRENCY = 64
# What the schema says of a cron expression; trigger_from_crontab checks the rest.
_CRON_FIELDS = r"^\s*\S+(\s+\S+){4}\s*$"
_LIMITS = Limits()


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
    parsed = _parse(data, Path(source).parent)
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


def _parse(data: dict[str, object], base: Path) -> Config | Issues:
    """The Config, or every problem found. `base`: where files the policy names are."""
    issues = Issues()
    with files_relative_to(base):
        top = TOP.read(issues, "", data)
        assert top is not None  # data is a dict
        top.field("version")
        targets = top.field("targets") or ()
        policies = parse_policies(issues, top)
        limits = top.field("limits") or Limits()
        schedule = top.field("schedule")
        notifications = top.field("notify") or ()
        report_settings = top.field("report") or ReportSettings()
        top.finish()
    if issues.problems:
        return issues
    return Config(
        targets=targets,
        policies=policies,
        limits=limits,
        schedule=schedule,
        notify=notifications,
        report=report_settings,
    )


def _version(issues: Issues, path: str, value: object) -> int | None:
    if isinstance(value, str):
        # `version: "1"` looks right; say why it is not.
        issues.add(path, f"must be the number 1, not a string (got {f.describe(value)})")
    elif type(value) is not int or value != 1:
        issues.add(path, f"must be 1 (got {f.describe(value)})")
    else:
        return value
    return None


def _ratio(issues: Issues, path: str, value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        issues.add(path, f"must be a number in (0, 1] (got {f.describe(value)})")
        return None
    return float(value)


def _rate(issues: Issues, path: str, value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < inf:
        issues.add(path, f"must be a number > 0 (got {f.describe(value)})")
        return None
    return float(value)


def _concurrency(issues: Issues, path: str, value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        issues.add(
            path, f"must be an integer from 1 to {MAX_CONCURRENCY} (got {f.describe(value)})"
        )
        return None
    return value


LIMITS = Shape(
    {
        "max_deletions": Key(
            # 0 is allowed and means "delete nothing" (the example config's setting).
            f.at_least(0),
            "Most images deleted plus tags removed in one run. If the plan exceeds it, `run`"
            " deletes nothing and exits 3. 0: nothing may be deleted.",
            default=_LIMITS.max_deletions,
        ),
        "max_deletion_ratio": Key(
            f.Check(_ratio, {"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
            "Largest share of a repository's top-level images one run may delete; a"
            " repository whose plan exceeds it is not touched. In (0, 1].",
            default=_LIMITS.max_deletion_ratio,
        ),
        "orphaned_referrers": Key(
            f.one_of(OrphanedReferrers),
            "Referrers (signatures, SBOMs, attestations) whose subject is gone: keep (list"
            " them in the report) or delete them.",
            default=_LIMITS.orphaned_referrers,
        ),
        "concurrency": Key(
            f.Check(_concurrency, {"type": "integer", "minimum": 1, "maximum": MAX_CONCURRENCY}),
            "Repositories worked on at once (listing, planning and deleting), across all targets.",
            default=_LIMITS.concurrency,
        ),
        "requests_per_second": Key(
            f.Check(_rate, {"type": "number", "exclusiveMinimum": 0}),
            "Most ECR API calls a second to one registry (account and region), shared by all"
            " threads working on it. Default: no cap (throttling is still retried with"
            " backoff).",
        ),
        "processes": Key(
            # A process needs one of the concurrency slots to work: the same bounds.
            f.Check(_concurrency, {"type": "integer", "minimum": 1, "maximum": MAX_CONCURRENCY}),
            "Processes one run uses: its repositories are split among them, each plans and"
            " deletes its share, and nothing is deleted before limits.max_deletions is"
            " checked over the whole plan. Default: the CPU cores this process may use"
            " (affinity and the cgroup's CPU quota), at most one per repository and per"
            " limits.concurrency thread. 1: one process.",
        ),
    }
)


@LIMITS.reader
def _limits(section: Section) -> Limits:
    return Limits(**section.checked())


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


SCHEDULE = Shape(
    {
        "cron": Key(
            f.Check(f.string.run, {"type": "string", "pattern": _CRON_FIELDS}),
            "5-field crontab: minute hour day-of-month month day-of-week, read as cron reads"
            " it: weekday 0 and 7 are Sunday (names sun, mon, ... work too), and with both day"
            " fields restricted a day matching either runs.",
            required=True,
        ),
        "timezone": Key(
            f.Check(_timezone, f.STRING_SCHEMA),
            "IANA time zone the cron expression is read in, e.g. UTC or Europe/Berlin.",
            default=default_of(Schedule, "timezone"),
        ),
    }
)


@SCHEDULE.reader
def _schedule(section: Section) -> Schedule | None:
    timezone = section.field("timezone")
    cron = section.field("cron")
    if cron is not None:
        cron = _check_cron(section.issues, key(section.path, "cron"), cron, timezone or "UTC")
    if cron is None or timezone is None:
        return None
    return Schedule(cron, timezone)


def _check_cron(issues: Issues, path: str, cron: str, timezone: str) -> str | None:
    # The same function builds serve's trigger: what validates is what runs.
    try:
        trigger_from_crontab(cron, timezone)
    except ValueError as exc:
        issues.add(path, str(exc))
        return None
    return cron


TOP = Shape(
    {
        "version": Key(
            f.Check(_version, {"const": 1}),
            "Format version of this file; must be 1.",
            required=True,
            missing="required (must be 1)",
        ),
        "targets": Key(
            target_list,
            "Where images live: registries (region, account, role) and which of their"
            " repositories to look at. At least one.",
            required=True,
        ),
        "policies": Key(
            policy_list,
            "Retention policies. Each repository gets the FIRST policy whose globs match it;"
            " repositories no policy matches are left alone.",
            required=True,
        ),
        "defaults": Key(defaults, "Settings every policy inherits."),
        "limits": Key(_limits, "Safety limits for a whole run."),
        "schedule": Key(_schedule, "When `ecr-cleaner serve` runs a pass."),
        "notify": Key(
            notify,
            "Where `run` and `serve` send a run's summary when it ends (`plan` never sends)."
            " A notification that cannot be sent is logged and never changes the exit code.",
        ),
        "report": Key(report, "How reports estimate savings."),
    },
    # In the order the file documents them: version, targets, then policies.
    required_when_read=True,
)

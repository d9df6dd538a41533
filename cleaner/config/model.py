"""The validated policy: frozen objects the planner reads. Built by `cleaner.config.load`."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from cleaner.config.lifecycle_model import LifecyclePolicy, StorageClass
from cleaner.config.notify_model import Notification, ReportSettings

REGEX_PREFIX = "re:"
# No repository is emptied unless a policy (or defaults.protect) says `keep_at_least: 0`.
KEEP_AT_LEAST_DEFAULT = 1
# RoleSessionName when a target's role is assumed without a session_name of its own.
DEFAULT_SESSION_NAME = "ecr-cleaner"


@dataclass(frozen=True, slots=True)
class TagPattern:
    """A glob (whole tag, case-sensitive) or `re:` + a regex that must match the whole tag."""

    source: str
    regex: re.Pattern[str]

    @classmethod
    def parse(cls, text: str) -> TagPattern:
        """Raise ValueError (with re's message) for an invalid regex."""
        if text.startswith(REGEX_PREFIX):
            return cls(text, re.compile(text[len(REGEX_PREFIX) :]))
        return cls(text, re.compile(fnmatch.translate(text)))

    def matches(self, tag: str) -> bool:
        return self.regex.fullmatch(tag) is not None


@dataclass(frozen=True, slots=True)
class NamePatterns:
    """Repository globs; a pattern starting with `!` excludes what it matches."""

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()

    @classmethod
    def parse(cls, patterns: list[str]) -> NamePatterns:
        include = tuple(p for p in patterns if not p.startswith("!"))
        exclude = tuple(p[1:] for p in patterns if p.startswith("!"))
        # Only excludes ("!x") mean "everything but x".
        return cls(include or ("*",), exclude)

    def matches(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self.include) and not any(
            fnmatch.fnmatchcase(name, p) for p in self.exclude
        )


class TagStatus(StrEnum):
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    ANY = "any"


class OrderBy(StrEnum):
    PUSHED = "pushed"
    PULLED = "pulled"
    SEMVER = "semver"


class Storage(StrEnum):
    """The ECR storage class of the images a rule sees (docs/archive.md)."""

    ACTIVE = "active"
    ARCHIVED = "archived"


class RuleAction(StrEnum):
    """What becomes of the images a rule expires whole."""

    DELETE = "delete"
    ARCHIVE = "archive"


@dataclass(frozen=True, slots=True)
class Select:
    tag_status: TagStatus = TagStatus.ANY
    tags: tuple[TagPattern, ...] | None = None  # None: every tag
    storage: Storage = Storage.ACTIVE


@dataclass(frozen=True, slots=True)
class Keep:
    most_recent: int
    order_by: OrderBy = OrderBy.PUSHED
    group_by: TagPattern | None = None  # always a regex (`re:` prefix optional in the file)


@dataclass(frozen=True, slots=True)
class Expire:
    pushed_before: timedelta | None = None
    not_pulled_for: timedelta | None = None
    archived_before: timedelta | None = None  # time since lastArchivedAt


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    select: Select = field(default_factory=Select)
    keep: Keep | None = None
    expire: Expire | None = None
    action: RuleAction = RuleAction.DELETE


@dataclass(frozen=True, slots=True)
class InUseSource:
    """A source of image references that running workloads use: `kind` names one of
    cleaner.inuse.kinds, `options` are its options as given, parsed (docs/in-use.md)."""

    kind: str
    options: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class Protect:
    tags: tuple[TagPattern, ...] = ()
    pulled_within: timedelta | None = None
    keep_at_least: int = KEEP_AT_LEAST_DEFAULT
    in_use: tuple[InUseSource, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    repositories: NamePatterns
    protect: Protect  # already combined with defaults.protect
    rules: tuple[Rule, ...]
    lifecycle: LifecyclePolicy | None = None  # an ECR lifecycle policy instead of rules

    @property
    def lists_archived(self) -> bool:
        """Whether its repositories' archived images must be listed too."""
        if self.lifecycle is not None:
            return any(r.storage_class is StorageClass.ARCHIVE for r in self.lifecycle.rules)
        return any(rule.select.storage is Storage.ARCHIVED for rule in self.rules)


@dataclass(frozen=True, slots=True)
class Target:
    region: str
    registry_id: str | None = None
    role_arn: str | None = None
    repositories: NamePatterns = field(default_factory=NamePatterns)
    external_id: str | None = None  # sts:ExternalId when assuming role_arn
    session_name: str | None = None  # RoleSessionName (CloudTrail shows it); None: the default


class OrphanedReferrers(StrEnum):
    KEEP = "keep"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Limits:
    max_deletions: int = 1000
    max_deletion_ratio: float = 1.0
    orphaned_referrers: OrphanedReferrers = OrphanedReferrers.KEEP
    concurrency: int = 8  # repositories worked on at once
    requests_per_second: float | None = None  # ECR calls a second, per registry; None: no cap
    processes: int | None = None  # processes one run uses; None: the usable cores


@dataclass(frozen=True, slots=True)
class Schedule:
    cron: str
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class Config:
    targets: tuple[Target, ...]  # `regions: [...]` already expanded, one target per region
    policies: tuple[Policy, ...]
    limits: Limits = field(default_factory=Limits)
    schedule: Schedule | None = None
    version: int = 1
    notify: tuple[Notification, ...] = ()
    report: ReportSettings = field(default_factory=ReportSettings)
    # Settings that are valid but probably not meant, each `FILE:LINE:COL: warning: ...`.
    warnings: tuple[str, ...] = ()

    def policy_for(self, repository: str) -> Policy | None:
        """The first policy whose globs match applies."""
        return next((p for p in self.policies if p.repositories.matches(repository)), None)

"""The `policies` and `defaults` sections of the policy file: policies and their rules
(protections are in cleaner.config.protect)."""

from __future__ import annotations

from cleaner.config import fields as f
from cleaner.config.fields import Check, Issues, item
from cleaner.config.lifecycle_source import lifecycle_policy
from cleaner.config.model import (
    Expire,
    Keep,
    NamePatterns,
    OrderBy,
    Policy,
    Protect,
    Rule,
    RuleAction,
    Select,
    Storage,
    TagStatus,
)
from cleaner.config.protect import ProtectParts, combine, protect
from cleaner.config.shape import Key, Section, Shape, default_of
from cleaner.config.storage import ARCHIVE_RULES, check_storage

EVERYTHING = NamePatterns()

SELECT = Shape(
    {
        "tag_status": Key(
            f.one_of(TagStatus),
            "tagged: matching tags; untagged: untagged top-level images; any: both.",
            default=default_of(Select, "tag_status"),
        ),
        "tags": Key(
            f.tag_list(allow_empty=False),
            "Tag patterns to select (default: every tag). Not allowed with tag_status: untagged.",
        ),
        "storage": Key(
            f.one_of(Storage),
            "Which images this rule sees: active (ECR standard storage) or archived (ECR archive"
            " storage; see expire.archived_before).",
            default=default_of(Select, "storage"),
        ),
    },
    rules={
        "if": {
            "properties": {"tag_status": {"const": TagStatus.UNTAGGED}},
            "required": ["tag_status"],
        },
        "then": {"not": {"required": ["tags"]}},
    },
)


@SELECT.reader
def _select(section: Section) -> Select:
    status = section.field("tag_status")
    if status is TagStatus.UNTAGGED and "tags" in section:
        section.add("not allowed with tag_status: untagged (they have no tags)", at="tags")
    return Select(status, section.field("tags"), section.field("storage"))


KEEP = Shape(
    {
        "most_recent": Key(
            f.at_least(1),
            "Number of newest candidates kept (per group with group_by).",
            required=True,
        ),
        "order_by": Key(
            f.one_of(OrderBy),
            "Newest by: pushed (push time), pulled (last pull, or push if never pulled),"
            " semver (highest version tag).",
            default=default_of(Keep, "order_by"),
        ),
        "group_by": Key(
            f.group_by,
            "Regex (re: prefix optional); its first group (or whole match) names a group,"
            " and most_recent are kept per group.",
        ),
    }
)


@KEEP.reader
def _keep(section: Section) -> Keep:
    return Keep(**section.checked())


EXPIRE = Shape(
    {
        "pushed_before": Key(f.duration, "Pushed more than this long ago."),
        "not_pulled_for": Key(
            f.duration, "Last pull (or push, if never pulled) more than this long ago."
        ),
        "archived_before": Key(
            f.duration,
            "Archived more than this long ago (lastArchivedAt). Needs select.storage: archived."
            " Below 90d is a warning: ECR bills archived images for 90 days.",
        ),
    },
    rules={"minProperties": 1},
)


@EXPIRE.reader
def _expire(section: Section) -> Expire:
    if not section.raw:
        # `expire: {}` would hold for every candidate: ask for what was meant.
        omit = "omit expire to expire every candidate keep does not keep"
        section.add(f"needs at least one of: {', '.join(EXPIRE.keys)} ({omit})")
    return Expire(**section.checked())


RULE = Shape(
    {
        "name": Key(
            f.string, "Unique within the policy; reasons in the report cite it.", required=True
        ),
        "select": Key(
            _select,
            "Which tags or untagged images this rule works on (not selected by an earlier rule).",
        ),
        "keep": Key(_keep, "How many of the newest candidates to keep."),
        "expire": Key(
            _expire,
            "Conditions that must ALL hold for a candidate not kept to expire. Omit to expire"
            " every candidate not kept.",
        ),
        "action": Key(
            f.one_of(RuleAction),
            "What becomes of images this rule expires whole: delete, or archive (ECR archive"
            " storage: not pullable, restorable with ecr-cleaner restore). Removing only some"
            " tags stays a tag removal.",
            default=default_of(Rule, "action"),
        ),
    },
    description="Selects candidates, keeps the newest, expires the rest that meet every"
    " expire condition.",
    name="rule",
    rules={"anyOf": [{"required": ["keep"]}, {"required": ["expire"]}], "allOf": ARCHIVE_RULES},
)


@RULE.reader
def _rule(section: Section) -> Rule:
    if "keep" not in section and "expire" not in section:
        section.add("needs keep, expire or both (with neither, every candidate would expire)")
    rule = Rule(
        name=section.field("name") or "",
        select=section.field("select") or Select(),
        keep=section.field("keep"),
        expire=section.field("expire"),
        action=section.field("action") or RuleAction.DELETE,
    )
    return check_storage(section.issues, section.path, rule)


def _rules(issues: Issues, path: str, value: object) -> tuple[Rule, ...] | None:
    # An empty list is allowed: a policy without rules exempts the repositories it
    # matches from every later policy.
    if not isinstance(value, list):
        issues.add(path, f"must be a list of rules (got {f.describe(value)})")
        return None
    rules = [_rule(issues, item(path, i), raw) for i, raw in enumerate(value)]
    _check_names(issues, [(item(path, i), r.name) for i, r in enumerate(rules) if r])
    return tuple(r for r in rules if r is not None)


POLICY = Shape(
    {
        "name": Key(f.string, "Unique name; the report and the logs cite it.", required=True),
        "repositories": Key(
            f.globs,
            "Repositories this policy applies to (first matching policy wins): globs, !glob"
            ' excludes. Default ["*"].',
        ),
        "protect": Key(protect, "What this policy never touches, on top of defaults.protect."),
        "rules": Key(
            Check(_rules, {"type": "array", "items": _rule}),
            "Ordered rules; earlier rules select first. An empty list leaves the matched"
            " repositories alone.",
        ),
        "lifecycle_policy": Key(
            lifecycle_policy,
            "An ECR lifecycle policy to evaluate instead of rules, exactly as ECR would, with"
            " this policy's protections on top. Give rules or lifecycle_policy.",
        ),
    },
    description="A named set of rules for the repositories it matches.",
    name="policy",
    # A lifecycle policy replaces the rules: with both, one of them would be ignored.
    rules={"oneOf": [{"required": ["rules"]}, {"required": ["lifecycle_policy"]}]},
)


@POLICY.reader
def _policy(section: Section) -> tuple[Policy, ProtectParts]:
    if "rules" in section and "lifecycle_policy" in section:
        section.add("give rules or lifecycle_policy, not both", at="lifecycle_policy")
    elif "rules" not in section and "lifecycle_policy" not in section:
        section.add("required", at="rules")
    name = section.field("name") or ""
    repositories = section.field("repositories") or EVERYTHING
    own = section.field("protect") or ProtectParts()
    rules = section.field("rules") or ()
    lifecycle = section.field("lifecycle_policy")
    # Protect() is a placeholder until defaults.protect is known.
    return Policy(name, repositories, Protect(), rules, lifecycle), own


def _policy_list(issues: Issues, path: str, value: object) -> list[object] | None:
    return f.non_empty_list(issues, path, value, "policies")


# The top level's `policies`: parse_policies reads each item, with defaults.protect.
policy_list = Check(_policy_list, {"type": "array", "minItems": 1, "items": _policy})


def parse_policies(issues: Issues, top: Section) -> tuple[Policy, ...]:
    """`policies`, then `defaults` (so errors come in the file's documented order)."""
    drafts: list[tuple[str, Policy, ProtectParts]] = []
    for i, raw in enumerate(top.field("policies") or []):
        draft = _policy(issues, item("policies", i), raw)
        if draft is not None:
            drafts.append((item("policies", i), *draft))
    _check_names(issues, [(path, p.name) for path, p, _ in drafts])
    _check_shadowed(issues, [(path, p) for path, p, _ in drafts])
    defaults = top.field("defaults") or ProtectParts()
    return tuple(
        Policy(p.name, p.repositories, combine(defaults, own), p.rules, p.lifecycle)
        for _, p, own in drafts
    )


def _check_names(issues: Issues, places: list[tuple[str, str]]) -> None:
    first: dict[str, str] = {}
    for path, name in places:
        if name in first:
            message = f"duplicate name {name!r} (first used at {first[name]})"
            issues.add(f.key(path, "name"), message)
        elif name:
            first[name] = path


def _check_shadowed(issues: Issues, policies: list[tuple[str, Policy]]) -> None:
    """The first matching policy applies, so one after a catch-all or after an identical
    list of globs can never apply: a misunderstanding, not a setting."""
    for j, (path, later) in enumerate(policies):
        for earlier_path, earlier in policies[:j]:
            globs = earlier.repositories
            if ("*" in globs.include and not globs.exclude) or globs == later.repositories:
                message = f"never applies: {earlier_path} ({earlier.name!r}) matches all its"
                issues.add(path, f"{message} repositories first")
                break

"""The `policies` and `defaults` sections of the policy file: rules and protections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cleaner.config import fields as f
from cleaner.config.fields import Issues, item, key
from cleaner.config.model import (
    KEEP_AT_LEAST_DEFAULT,
    Expire,
    InUseSource,
    Keep,
    NamePatterns,
    OrderBy,
    Policy,
    Protect,
    Rule,
    RuleAction,
    Select,
    Storage,
    TagPattern,
    TagStatus,
)
from cleaner.config.storage import check_storage

POLICY_KEYS = ("name", "repositories", "protect", "rules")
RULE_KEYS = ("name", "select", "keep", "expire", "action")
SELECT_KEYS = ("tag_status", "tags", "storage")
KEEP_KEYS = ("most_recent", "order_by", "group_by")
EXPIRE_KEYS = ("pushed_before", "not_pulled_for", "archived_before")
PROTECT_KEYS = ("tags", "pulled_within", "keep_at_least", "in_use")
DEFAULTS_KEYS = ("protect",)

# The in-use sources are implemented elsewhere; this table is the shape they accept.
IN_USE_OPTIONS: dict[str, tuple[str, ...]] = {
    "ecs": ("task_definition_revisions",),
    "lambda": (),
    "command": ("argv", "timeout"),
    "file": ("path",),
}
IN_USE_REQUIRED: dict[str, tuple[str, ...]] = {"command": ("argv",), "file": ("path",)}
EVERYTHING = NamePatterns()


@dataclass(frozen=True, slots=True)
class ProtectParts:
    """A `protect` mapping as written: None where a setting was not given, which the
    combination with `defaults.protect` needs to tell apart from an explicit value."""

    tags: tuple[TagPattern, ...] = ()
    pulled_within: timedelta | None = None
    keep_at_least: int | None = None
    in_use: tuple[InUseSource, ...] = ()


def combine(defaults: ProtectParts, own: ProtectParts) -> Protect:
    """Lists add up (a policy can add protection, never drop one); scalars given by the
    policy replace the default's."""
    tags = {p.source: p for p in (*defaults.tags, *own.tags)}
    return Protect(
        tags=tuple(tags.values()),
        pulled_within=own.pulled_within
        if own.pulled_within is not None
        else defaults.pulled_within,
        keep_at_least=next(
            (n for n in (own.keep_at_least, defaults.keep_at_least) if n is not None),
            KEEP_AT_LEAST_DEFAULT,
        ),
        in_use=tuple(dict.fromkeys((*defaults.in_use, *own.in_use))),
    )


def parse_policies(issues: Issues, top: f.Section) -> tuple[Policy, ...]:
    """`policies`, then `defaults` (so errors come in the file's documented order)."""
    if "policies" not in top:
        issues.add("policies", "required")
    drafts: list[tuple[str, Policy, ProtectParts]] = []
    for i, raw in enumerate(top.field("policies", _policy_list) or []):
        draft = _policy(issues, item("policies", i), raw)
        if draft is not None:
            drafts.append((item("policies", i), *draft))
    _check_names(issues, [(path, p.name) for path, p, _ in drafts])
    _check_shadowed(issues, [(path, p) for path, p, _ in drafts])
    defaults = top.field("defaults", _defaults) or ProtectParts()
    return tuple(
        Policy(p.name, p.repositories, combine(defaults, own), p.rules) for _, p, own in drafts
    )


def _policy_list(issues: Issues, path: str, value: object) -> list[object] | None:
    return f.non_empty_list(issues, path, value, "policies")


def _defaults(issues: Issues, path: str, value: object) -> ProtectParts | None:
    section = f.mapping(issues, path, value, DEFAULTS_KEYS)
    return section.field("protect", _protect) if section else None


def _policy(issues: Issues, path: str, value: object) -> tuple[Policy, ProtectParts] | None:
    section = f.mapping(issues, path, value, POLICY_KEYS, required=("name", "rules"))
    if section is None:
        return None
    name = section.field("name", f.string) or ""
    repositories = section.field("repositories", f.globs) or EVERYTHING
    own = section.field("protect", _protect) or ProtectParts()
    rules = section.field("rules", _rules) or ()
    # Protect() is a placeholder until defaults.protect is known.
    return Policy(name, repositories, Protect(), rules), own


def _check_names(issues: Issues, places: list[tuple[str, str]]) -> None:
    first: dict[str, str] = {}
    for path, name in places:
        if name in first:
            issues.add(key(path, "name"), f"duplicate name {name!r} (first used at {first[name]})")
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


def _rules(issues: Issues, path: str, value: object) -> tuple[Rule, ...] | None:
    # An empty list is allowed: a policy without rules exempts the repositories it
    # matches from every later policy.
    if not isinstance(value, list):
        issues.add(path, f"must be a list of rules (got {f.describe(value)})")
        return None
    rules = [_rule(issues, item(path, i), raw) for i, raw in enumerate(value)]
    _check_names(issues, [(item(path, i), r.name) for i, r in enumerate(rules) if r])
    return tuple(r for r in rules if r is not None)


def _rule(issues: Issues, path: str, value: object) -> Rule | None:
    section = f.mapping(issues, path, value, RULE_KEYS, required=("name",))
    if section is None:
        return None
    if "keep" not in section and "expire" not in section:
        issues.add(path, "needs keep, expire or both (with neither, every candidate would expire)")
    rule = Rule(
        name=section.field("name", f.string) or "",
        select=section.field("select", _select) or Select(),
        keep=section.field("keep", _keep),
        expire=section.field("expire", _expire),
        action=section.field("action", f.one_of(RuleAction)) or RuleAction.DELETE,
    )
    return check_storage(issues, path, rule)


def _select(issues: Issues, path: str, value: object) -> Select | None:
    section = f.mapping(issues, path, value, SELECT_KEYS)
    if section is None:
        return None
    status = section.field("tag_status", f.one_of(TagStatus)) or TagStatus.ANY
    if status is TagStatus.UNTAGGED and "tags" in section:
        issues.add(key(path, "tags"), "not allowed with tag_status: untagged (they have no tags)")
    storage = section.field("storage", f.one_of(Storage)) or Storage.ACTIVE
    return Select(status, section.field("tags", f.tag_list(allow_empty=False)), storage)


def _keep(issues: Issues, path: str, value: object) -> Keep | None:
    section = f.mapping(issues, path, value, KEEP_KEYS, required=("most_recent",))
    if section is None:
        return None
    return Keep(
        most_recent=section.field("most_recent", f.at_least(1)) or 1,
        order_by=section.field("order_by", f.one_of(OrderBy)) or OrderBy.PUSHED,
        group_by=section.field("group_by", f.group_by),
    )


def _expire(issues: Issues, path: str, value: object) -> Expire | None:
    section = f.mapping(issues, path, value, EXPIRE_KEYS)
    if section is None:
        return None
    if value == {}:
        # `expire: {}` would hold for every candidate: ask for what was meant.
        omit = "omit expire to expire every candidate keep does not keep"
        issues.add(path, f"needs at least one of: {', '.join(EXPIRE_KEYS)} ({omit})")
    return Expire(
        pushed_before=section.field("pushed_before", f.duration),
        not_pulled_for=section.field("not_pulled_for", f.duration),
        archived_before=section.field("archived_before", f.duration),
    )


def _protect(issues: Issues, path: str, value: object) -> ProtectParts | None:
    section = f.mapping(issues, path, value, PROTECT_KEYS)
    if section is None:
        return None
    return ProtectParts(
        tags=section.field("tags", f.tag_list(allow_empty=True)) or (),
        pulled_within=section.field("pulled_within", f.duration),
        keep_at_least=section.field("keep_at_least", f.at_least(0)),
        in_use=section.field("in_use", _in_use) or (),
    )


def _in_use(issues: Issues, path: str, value: object) -> tuple[InUseSource, ...] | None:
    section = f.mapping(issues, path, value, ("sources",), required=("sources",))
    if section is None or "sources" not in section:
        return None
    here = key(path, "sources")
    items = f.non_empty_list(issues, here, section.values["sources"], "in-use sources")
    parsed = [_in_use_source(issues, item(here, i), raw) for i, raw in enumerate(items or [])]
    return tuple(dict.fromkeys(s for s in parsed if s is not None))


def _in_use_source(issues: Issues, path: str, value: object) -> InUseSource | None:
    kinds = ", ".join(IN_USE_OPTIONS)
    if isinstance(value, str):
        if value in IN_USE_REQUIRED:
            needed = IN_USE_REQUIRED[value][0]
            issues.add(path, f"{value} needs options: {{{value}: {{{needed}: ...}}}}")
        elif value not in IN_USE_OPTIONS:
            issues.add(path, f"must be one of: {kinds} (got {value!r})")
        else:
            return InUseSource(value)
        return None
    if not isinstance(value, dict) or len(value) != 1:
        got = f.describe(value)
        issues.add(path, f"must be a source name or a mapping with one key, its kind (got {got})")
        return None
    ((kind, raw),) = value.items()
    if kind not in IN_USE_OPTIONS:
        message = f"unknown in-use source (expected one of: {kinds})"
        issues.add(key(path, str(kind)), message, at_key=True)
        return None
    required = IN_USE_REQUIRED.get(kind, ())
    section = f.mapping(issues, key(path, kind), raw, IN_USE_OPTIONS[kind], required)
    if section is None:
        return None
    options = {name: section.field(name, _OPTION_CHECKS[name]) for name in section.values}
    if None in options.values() or any(name not in options for name in required):
        return None
    return InUseSource(kind, tuple(sorted(options.items())))


def _argv(issues: Issues, path: str, value: object) -> tuple[str, ...] | None:
    argv = f.strings(issues, path, value, "strings")
    return tuple(argv) if argv is not None else None


# Options are stored parsed: durations as timedelta, lists as tuples (the frozen config
# stays hashable).
_OPTION_CHECKS: dict[str, f.Checker[object]] = {
    "task_definition_revisions": f.at_least(0),
    "timeout": f.duration,
    "argv": _argv,
    "path": f.string,
}

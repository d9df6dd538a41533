"""ECR lifecycle policy documents, validated the way ECR validates them.

The same validator reads a policy file's `lifecycle_policy:`, what `lifecycle export`
prints, what `lifecycle audit` gets from GetLifecyclePolicy, and what the sandbox's
PutLifecyclePolicy accepts. Pure: no AWS, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from cleaner.config import fields as f
from cleaner.config.fields import Issues, item, key
from cleaner.config.lifecycle_model import (
    ActionType,
    CountType,
    CountUnit,
    LifecycleAction,
    LifecyclePolicy,
    LifecycleRule,
    LifecycleTagStatus,
    StorageClass,
)

MAX_TEXT = 30_720  # ECR's limit on lifecyclePolicyText, in characters
MAX_WILDCARDS = 4  # `*` per tagPatternList entry
TRANSITION_NOT_SUPPORTED = (
    "transition (archive) is not supported yet: ecr-cleaner evaluates expire rules only; "
    "keep transition rules in ECR, or use an expire rule"
)
POLICY_KEYS = ("rules",)
RULE_KEYS = ("rulePriority", "description", "selection", "action")
SELECTION_KEYS = (
    "tagStatus",
    "tagPrefixList",
    "tagPatternList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
)
ACTION_KEYS = ("type", "targetStorageClass")


def validate_policy(
    issues: Issues, path: str, data: object, *, text_length: int, allow_transition: bool
) -> LifecyclePolicy | None:
    """The policy document `data` (parsed JSON) as ECR would accept it, or None with every
    problem recorded under `path`. `text_length`: characters of the policy text as ECR
    would receive it. `allow_transition`: False where transitions cannot be carried out."""
    before = len(issues.problems)
    if text_length > MAX_TEXT:
        issues.add(path, f"the policy text is {text_length:,} characters; ECR takes {MAX_TEXT:,}")
    section = f.mapping(issues, path, data, POLICY_KEYS, required=POLICY_KEYS)
    if section is None or "rules" not in section:
        return None
    here = key(path, "rules")
    items = f.non_empty_list(issues, here, section.values["rules"], "lifecycle rules")
    paths = [item(here, i) for i in range(len(items or []))]
    parsed = [
        _rule(issues, p, raw, allow_transition) for p, raw in zip(paths, items or [], strict=True)
    ]
    _check_together(
        issues, [(p, _Facts.of(raw)) for p, raw in zip(paths, items or [], strict=True)]
    )
    if len(issues.problems) > before or None in parsed:
        return None
    return LifecyclePolicy(tuple(sorted((r for r in parsed if r), key=lambda r: r.priority)))


def _rule(issues: Issues, path: str, value: object, allow_transition: bool) -> LifecycleRule | None:
    required = ("rulePriority", "selection", "action")
    section = f.mapping(issues, path, value, RULE_KEYS, required=required)
    if section is None:
        return None
    before = len(issues.problems)
    priority = section.field("rulePriority", f.at_least(1))
    description = section.field("description", _text)
    selection = section.field("selection", _selection)
    action = section.field("action", _action)
    if action is not None and selection is not None:
        _check_action(issues, path, selection, action, allow_transition)
    if len(issues.problems) > before or priority is None or action is None or selection is None:
        return None
    status, prefixes, patterns, storage, count_type, number = selection
    return LifecycleRule(
        priority, status, count_type, number, action, prefixes, patterns, storage, description
    )


_Selection = tuple[
    LifecycleTagStatus, tuple[str, ...], tuple[str, ...], StorageClass, CountType, int
]


def _selection(issues: Issues, path: str, value: object) -> _Selection | None:
    required = ("tagStatus", "countType", "countNumber")
    section = f.mapping(issues, path, value, SELECTION_KEYS, required=required)
    if section is None:
        return None
    status = section.field("tagStatus", _enum(LifecycleTagStatus))
    prefixes = section.field("tagPrefixList", _prefixes)
    patterns = section.field("tagPatternList", _patterns)
    storage = section.field("storageClass", _enum(StorageClass)) or StorageClass.STANDARD
    count_type = section.field("countType", _enum(CountType))
    unit = section.field("countUnit", _enum(CountUnit))
    number = section.field("countNumber", f.at_least(1))
    lists = [name for name in ("tagPrefixList", "tagPatternList") if name in section]
    if status is LifecycleTagStatus.TAGGED and not lists:
        issues.add(path, "tagStatus tagged needs tagPrefixList or tagPatternList")
    elif status is LifecycleTagStatus.TAGGED and len(lists) == 2:
        issues.add(key(path, "tagPatternList"), "give tagPrefixList or tagPatternList, not both")
    elif status is not None and status is not LifecycleTagStatus.TAGGED:
        for name in lists:
            issues.add(key(path, name), f"not allowed with tagStatus {status} (only with tagged)")
    if count_type is not None and count_type.is_age and "countUnit" not in section:
        issues.add(key(path, "countUnit"), f"required with countType {count_type} (days)")
    elif count_type is CountType.IMAGE_COUNT_MORE_THAN and "countUnit" in section:
        message = "only with sinceImagePushed, sinceImagePulled or sinceImageTransitioned"
        issues.add(key(path, "countUnit"), message)
    if count_type is CountType.SINCE_IMAGE_TRANSITIONED and storage is not StorageClass.ARCHIVE:
        message = "sinceImageTransitioned needs storageClass archive (it counts time in archive)"
        issues.add(key(path, "countType"), message)
    if None in (status, count_type, number) or (unit is None and "countUnit" in section):
        return None
    if ("tagPrefixList" in section and prefixes is None) or (
        "tagPatternList" in section and patterns is None
    ):
        return None
    assert status is not None and count_type is not None and number is not None
    return status, prefixes or (), patterns or (), storage, count_type, number


def _action(issues: Issues, path: str, value: object) -> LifecycleAction | None:
    section = f.mapping(issues, path, value, ACTION_KEYS, required=("type",))
    if section is None:
        return None
    kind = section.field("type", _enum(ActionType))
    target = section.field("targetStorageClass", _enum(StorageClass))
    if target is StorageClass.STANDARD:
        issues.add(key(path, "targetStorageClass"), "must be archive (got 'standard')")
        return None
    if kind is ActionType.TRANSITION and "targetStorageClass" not in section:
        issues.add(key(path, "targetStorageClass"), "required with type transition (archive)")
    elif kind is ActionType.EXPIRE and "targetStorageClass" in section:
        issues.add(key(path, "targetStorageClass"), "only with type transition")
    if kind is None or (target is None and "targetStorageClass" in section):
        return None
    return LifecycleAction(kind, target)


def _check_action(
    issues: Issues,
    path: str,
    selection: _Selection,
    action: LifecycleAction,
    allow_transition: bool,
) -> None:
    storage, count_type = selection[3], selection[4]
    here = key(path, "selection")
    if count_type is CountType.SINCE_IMAGE_PULLED and action.type is not ActionType.TRANSITION:
        message = "sinceImagePulled only with action type transition (ECR expires by pull time"
        issues.add(key(here, "countType"), f"{message} only through archive)")
    if count_type is CountType.SINCE_IMAGE_TRANSITIONED and action.type is not ActionType.EXPIRE:
        issues.add(key(here, "countType"), "sinceImageTransitioned only with action type expire")
    if action.type is ActionType.TRANSITION:
        if storage is StorageClass.ARCHIVE:
            issues.add(key(here, "storageClass"), "transition needs storageClass standard")
        if not allow_transition:
            issues.add(key(path, "action.type"), TRANSITION_NOT_SUPPORTED)


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the checks across rules need, read from a rule as written (so that they run
    even when the rule has errors of its own)."""

    priority: int | None
    status: str | None
    storage: str | None

    @classmethod
    def of(cls, raw: object) -> _Facts:
        rule = raw if isinstance(raw, dict) else {}
        selection = rule.get("selection")
        selection = selection if isinstance(selection, dict) else {}
        priority = rule.get("rulePriority")
        storage = selection.get("storageClass", StorageClass.STANDARD.value)
        return cls(
            priority if type(priority) is int else None,
            status if isinstance(status := selection.get("tagStatus"), str) else None,
            storage if isinstance(storage, str) else None,
        )


def _check_together(issues: Issues, rules: list[tuple[str, _Facts]]) -> None:
    """The rules that ECR checks across a policy: unique priorities; per storage class, at
    most one untagged rule, and an `any` rule only as the last (highest number)."""
    first: dict[int, str] = {}
    for path, rule in rules:
        if rule.priority is None:
            continue
        if rule.priority in first:
            message = f"duplicate rulePriority {rule.priority} (also at {first[rule.priority]})"
            issues.add(key(path, "rulePriority"), message)
        first.setdefault(rule.priority, path)
    for storage in StorageClass:
        mine = [(p, r) for p, r in rules if r.storage == storage.value]
        untagged = [p for p, r in mine if r.status == LifecycleTagStatus.UNTAGGED.value]
        for path in untagged[1:]:
            message = f"only one untagged rule per storage class ({untagged[0]} is one)"
            issues.add(key(path, "selection.tagStatus"), message)
        highest = max((r.priority or 0 for _, r in mine), default=0)
        for path, rule in mine:
            if rule.status == LifecycleTagStatus.ANY.value and rule.priority not in (None, highest):
                message = (
                    f"a tagStatus any rule must have the highest rulePriority of its storage "
                    f"class ({storage}: {highest})"
                )
                issues.add(key(path, "rulePriority"), message)


def _enum(enum: type[f.E]) -> f.Checker[f.E]:
    def check(issues: Issues, path: str, value: object) -> f.E | None:
        names = [member.value for member in enum]
        if isinstance(value, str) and value not in names:
            spelled = {n.lower(): n for n in names}.get(value.lower().replace("_", ""))
            if spelled is not None:
                # The API's enums are capitals (EXPIRE, TAGGED); the policy JSON's are not.
                issues.add(path, f"must be {spelled!r}, spelled as in ECR's policy JSON")
                return None
        return f.choice(issues, path, value, enum)

    return check


def _text(issues: Issues, path: str, value: object) -> str | None:
    if not isinstance(value, str):
        issues.add(path, f"must be a string (got {f.describe(value)})")
        return None
    return value


def _entries(issues: Issues, path: str, value: object) -> list[str] | None:
    items = f.non_empty_list(issues, path, value, "tags")
    if items is None:
        return None
    good = []
    for i, entry in enumerate(items):
        if isinstance(entry, str) and entry:
            good.append(entry)
        else:
            issues.add(item(path, i), f"must be a non-empty string (got {f.describe(entry)})")
    return good if len(good) == len(items) else None


def _prefixes(issues: Issues, path: str, value: object) -> tuple[str, ...] | None:
    entries = _entries(issues, path, value)
    return tuple(entries) if entries is not None else None


def _patterns(issues: Issues, path: str, value: object) -> tuple[str, ...] | None:
    entries = _entries(issues, path, value)
    if entries is None:
        return None
    bad = False
    for i, pattern in enumerate(entries):
        if pattern.count("*") > MAX_WILDCARDS:
            got = f"{pattern.count('*')} in {pattern!r}"
            issues.add(item(path, i), f"at most {MAX_WILDCARDS} '*' wildcards per pattern ({got})")
            bad = True
    return None if bad else tuple(entries)

"""The values of an ECR lifecycle policy and the checks ECR makes across its rules, for
`cleaner.config.lifecycle` (which declares where each value goes)."""

from __future__ import annotations

from dataclasses import dataclass

from cleaner.config import fields as f
from cleaner.config.fields import JSON, Check, Issues, item, key
from cleaner.config.lifecycle_model import LifecycleTagStatus, StorageClass

MAX_WILDCARDS = 4  # `*` per tagPatternList entry


@dataclass(frozen=True, slots=True)
class Facts:
    """What the checks across rules need, read from a rule as written (so that they run
    even when the rule has errors of its own)."""

    priority: int | None
    status: str | None
    storage: str | None

    @classmethod
    def of(cls, raw: object) -> Facts:
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


def check_together(issues: Issues, rules: list[tuple[str, Facts]]) -> None:
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


def enum_check(enum: type[f.E], schema: JSON | None = None) -> Check[f.E]:
    """One of `enum`'s values; `schema`: what the policy file's schema allows, where that
    is less than ECR takes."""

    def check(issues: Issues, path: str, value: object) -> f.E | None:
        names = [member.value for member in enum]
        if isinstance(value, str) and value not in names:
            spelled = {n.lower(): n for n in names}.get(value.lower().replace("_", ""))
            if spelled is not None:
                # The API's enums are capitals (EXPIRE, TAGGED); the policy JSON's are not.
                issues.add(path, f"must be {spelled!r}, spelled as in ECR's policy JSON")
                return None
        return f.choice(issues, path, value, enum)

    return Check(check, schema or {"enum": [member.value for member in enum]})


def text(issues: Issues, path: str, value: object) -> str | None:
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


def prefixes(issues: Issues, path: str, value: object) -> tuple[str, ...] | None:
    entries = _entries(issues, path, value)
    return tuple(entries) if entries is not None else None


def patterns(issues: Issues, path: str, value: object) -> tuple[str, ...] | None:
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

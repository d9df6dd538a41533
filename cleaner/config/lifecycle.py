"""ECR lifecycle policy documents, validated the way ECR validates them.

The same validator reads a policy file's `lifecycle_policy:`, what `lifecycle export`
prints, what `lifecycle audit` gets from GetLifecyclePolicy, and what the sandbox's
PutLifecyclePolicy accepts. Pure: no AWS, no clock. Each mapping of the document is
declared once as a `Shape` (at the end of this module), from which the policy file's
JSON Schema is written too.
"""

from __future__ import annotations

from cleaner.config import fields as f
from cleaner.config.fields import JSON, Check, Issues, item, key
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
from cleaner.config.lifecycle_values import (
    MAX_WILDCARDS,
    Facts,
    check_together,
    enum_check,
    patterns,
    prefixes,
    text,
)
from cleaner.config.shape import Key, Section, Shape

MAX_TEXT = 30_720  # ECR's limit on lifecyclePolicyText, in characters


def validate_policy(
    issues: Issues, path: str, data: object, *, text_length: int
) -> LifecyclePolicy | None:
    """The policy document `data` (parsed JSON) as ECR would accept it, or None with every
    problem recorded under `path`. `text_length`: characters of the policy text as ECR
    would receive it."""
    before = len(issues.problems)
    if text_length > MAX_TEXT:
        issues.add(path, f"the policy text is {text_length:,} characters; ECR takes {MAX_TEXT:,}")
    section = DOCUMENT.read(issues, path, data)
    if section is None or "rules" not in section:
        return None
    rules = _rules(issues, key(path, "rules"), section.values["rules"])
    if len(issues.problems) > before or rules is None:
        return None
    return LifecyclePolicy(rules)


def _rules(issues: Issues, path: str, value: object) -> tuple[LifecycleRule, ...] | None:
    items = f.non_empty_list(issues, path, value, "lifecycle rules")
    paths = [item(path, i) for i in range(len(items or []))]
    parsed = [_rule(issues, p, raw) for p, raw in zip(paths, items or [], strict=True)]
    check_together(issues, [(p, Facts.of(raw)) for p, raw in zip(paths, items or [], strict=True)])
    if items is None or None in parsed:
        return None
    return tuple(sorted((r for r in parsed if r), key=lambda r: r.priority))


def _rule(issues: Issues, path: str, value: object) -> LifecycleRule | None:
    section = RULE.read(issues, path, value)
    return _build_rule(section) if section is not None else None


def _build_rule(section: Section) -> LifecycleRule | None:
    issues, path = section.issues, section.path
    before = len(issues.problems)
    priority = section.field("rulePriority")
    description = section.field("description")
    selection = section.field("selection")
    action = section.field("action")
    if action is not None and selection is not None:
        _check_action(issues, path, selection, action)
    if len(issues.problems) > before or priority is None or action is None or selection is None:
        return None
    status, prefixes, patterns, storage, count_type, number = selection
    return LifecycleRule(
        priority, status, count_type, number, action, prefixes, patterns, storage, description
    )


_Selection = tuple[
    LifecycleTagStatus, tuple[str, ...], tuple[str, ...], StorageClass, CountType, int
]


def _selection(section: Section) -> _Selection | None:
    issues, path = section.issues, section.path
    status = section.field("tagStatus")
    prefixes = section.field("tagPrefixList")
    patterns = section.field("tagPatternList")
    storage = section.field("storageClass") or StorageClass.STANDARD
    count_type = section.field("countType")
    unit = section.field("countUnit")
    number = section.field("countNumber")
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


def _action(section: Section) -> LifecycleAction | None:
    issues, path = section.issues, section.path
    kind = section.field("type")
    target = section.field("targetStorageClass")
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
) -> None:
    storage, count_type = selection[3], selection[4]
    here = key(path, "selection")
    if count_type is CountType.SINCE_IMAGE_PULLED and action.type is not ActionType.TRANSITION:
        message = "sinceImagePulled only with action type transition (ECR expires by pull time"
        issues.add(key(here, "countType"), f"{message} only through archive)")
    if count_type is CountType.SINCE_IMAGE_TRANSITIONED and action.type is not ActionType.EXPIRE:
        issues.add(key(here, "countType"), "sinceImageTransitioned only with action type expire")
    if action.type is ActionType.TRANSITION and storage is StorageClass.ARCHIVE:
        issues.add(key(here, "storageClass"), "transition needs storageClass standard")


_TAGS: JSON = {"type": "array", "minItems": 1, "items": f.STRING_SCHEMA}
_PATTERN: JSON = {**f.STRING_SCHEMA, "pattern": f"^[^*]*(\\*[^*]*){{0,{MAX_WILDCARDS}}}$"}

SELECTION = Shape(
    {
        "tagStatus": Key(
            enum_check(LifecycleTagStatus),
            "tagged needs tagPrefixList or tagPatternList; untagged and any take neither.",
            required=True,
        ),
        "tagPrefixList": Key(
            Check(prefixes, _TAGS), "Every prefix must start some tag of the image."
        ),
        "tagPatternList": Key(
            Check(patterns, {**_TAGS, "items": _PATTERN}),
            "Every pattern must match some tag of the image (whole tag; * matches anything,"
            f" at most {MAX_WILDCARDS} per pattern).",
        ),
        "storageClass": Key(
            enum_check(StorageClass),
            "Which images the rule sees: standard (active) or archived ones.",
            default=StorageClass.STANDARD,
        ),
        "countType": Key(
            enum_check(CountType),
            "imageCountMoreThan keeps the countNumber most recently pushed; since* marks"
            " images older than countNumber days.",
            required=True,
        ),
        "countUnit": Key(
            enum_check(CountUnit, {"const": CountUnit.DAYS.value}),
            "days; only (and always) with the since* count types.",
        ),
        "countNumber": Key(
            f.at_least(1), "How many images to keep, or how many days.", required=True
        ),
    }
)
ACTION = Shape(
    {
        "type": Key(
            enum_check(ActionType),
            "expire: delete the image; transition: move it to archive storage (ecr-cleaner"
            " archives it with UpdateImageStorageClass, like a rule with action: archive).",
            required=True,
        ),
        "targetStorageClass": Key(
            enum_check(StorageClass, {"const": StorageClass.ARCHIVE.value}),
            "archive; only with type transition.",
        ),
    },
    rules={
        "if": {"required": ["targetStorageClass"]},
        "then": {"properties": {"type": {"const": ActionType.TRANSITION.value}}},
    },
)
RULE = Shape(
    {
        "rulePriority": Key(
            f.at_least(1),
            "Unique; lower is applied first. A tagStatus any rule must have the highest.",
            required=True,
        ),
        "description": Key(Check(text, {"type": "string"}), "What the rule is for."),
        "selection": Key(
            SELECTION.reader(_selection),
            "Which images the rule counts and may act on.",
            required=True,
        ),
        "action": Key(
            ACTION.reader(_action), "What happens to the images the rule marks.", required=True
        ),
    },
    description="One ECR lifecycle rule: which images it selects, how it counts, what it does.",
    name="lifecycleRule",
)
DOCUMENT = Shape(
    {
        "rules": Key(
            Check(
                _rules,
                {
                    "type": "array",
                    "minItems": 1,
                    "items": RULE.reader(_build_rule),
                },
            ),
            "ECR lifecycle rules; applied by rulePriority, lowest first.",
            required=True,
        )
    }
)
RULE_KEYS = tuple(RULE.keys)
SELECTION_KEYS = tuple(SELECTION.keys)

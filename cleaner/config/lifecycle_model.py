"""An ECR lifecycle policy as frozen data: its rules, in the words of ECR's policy JSON.

Read and checked by `cleaner.config.lifecycle`; evaluated by `cleaner.core.lifecycle`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum


class LifecycleTagStatus(StrEnum):
    TAGGED = "tagged"
    UNTAGGED = "untagged"
    ANY = "any"


class CountType(StrEnum):
    IMAGE_COUNT_MORE_THAN = "imageCountMoreThan"
    SINCE_IMAGE_PUSHED = "sinceImagePushed"
    SINCE_IMAGE_PULLED = "sinceImagePulled"
    SINCE_IMAGE_TRANSITIONED = "sinceImageTransitioned"

    @property
    def is_age(self) -> bool:
        return self is not CountType.IMAGE_COUNT_MORE_THAN


class CountUnit(StrEnum):
    DAYS = "days"


class StorageClass(StrEnum):
    STANDARD = "standard"
    ARCHIVE = "archive"


class ActionType(StrEnum):
    EXPIRE = "expire"  # delete the image
    TRANSITION = "transition"  # move it to targetStorageClass (archive)


@dataclass(frozen=True, slots=True)
class LifecycleAction:
    """What a rule does to the images it marks: data, so that a new kind of action
    (transition to archive) is a new value, not a new code path in the evaluator."""

    type: ActionType = ActionType.EXPIRE
    target_storage_class: StorageClass | None = None


@dataclass(frozen=True, slots=True)
class LifecycleRule:
    priority: int
    tag_status: LifecycleTagStatus
    count_type: CountType
    count_number: int
    action: LifecycleAction = LifecycleAction()
    tag_prefixes: tuple[str, ...] = ()  # every prefix must start some tag of the image
    tag_patterns: tuple[str, ...] = ()  # every pattern must match some tag (only `*` is special)
    storage_class: StorageClass = StorageClass.STANDARD
    description: str | None = None

    def to_json(self) -> dict[str, object]:
        selection: dict[str, object] = {"tagStatus": self.tag_status.value}
        if self.tag_prefixes:
            selection["tagPrefixList"] = list(self.tag_prefixes)
        if self.tag_patterns:
            selection["tagPatternList"] = list(self.tag_patterns)
        if self.storage_class is not StorageClass.STANDARD:
            selection["storageClass"] = self.storage_class.value
        selection["countType"] = self.count_type.value
        if self.count_type.is_age:
            selection["countUnit"] = CountUnit.DAYS.value
        selection["countNumber"] = self.count_number
        action: dict[str, object] = {"type": self.action.type.value}
        if self.action.target_storage_class is not None:
            action["targetStorageClass"] = self.action.target_storage_class.value
        rule: dict[str, object] = {"rulePriority": self.priority}
        if self.description is not None:
            rule["description"] = self.description
        return {**rule, "selection": selection, "action": action}


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    rules: tuple[LifecycleRule, ...]  # by rulePriority, lowest (applied first) first

    def to_json(self) -> dict[str, object]:
        return {"rules": [rule.to_json() for rule in self.rules]}

    def text(self, indent: int | None = None) -> str:
        separators = (",", ":") if indent is None else (",", ": ")
        return json.dumps(self.to_json(), indent=indent, separators=separators)

"""ECR lifecycle policies are validated as ECR validates them, each error with its place.

One table row per validation rule ECR applies (unique rulePriority; tagged takes exactly
one of tagPrefixList / tagPatternList; untagged and any take neither; an `any` rule has
the highest priority of its storage class; one untagged rule per storage class; at most
4 `*` per pattern; countUnit days only with the since* count types; countNumber >= 1;
sinceImagePulled only with transition; sinceImageTransitioned only with expire and
storageClass archive; targetStorageClass archive only with transition; the text at
most 30,720 characters; values spelled in lowercase as the policy JSON has them), plus
the ways a policy file gives a lifecycle policy (inline, `file:` to the bare document or
to `aws ecr get-lifecycle-policy`'s output, a JSON string).
"""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from config_support import document

from cleaner.config import lifecycle as validator
from cleaner.config.fields import Issues
from cleaner.config.lifecycle import MAX_TEXT, validate_policy
from cleaner.config.lifecycle_model import (
    ActionType,
    CountType,
    LifecycleTagStatus,
    StorageClass,
)
from cleaner.config.lifecycle_source import policy_from_text
from cleaner.config.load import ConfigError, load_config, load_config_text
from cleaner.config.schema import load_schema

Doc = dict[str, Any]


def sel(status: str = "untagged", **more: Any) -> Doc:
    return {"tagStatus": status, "countType": "imageCountMoreThan", "countNumber": 1, **more}


def rule(priority: int = 1, selection: Doc | None = None, **action: Any) -> Doc:
    return {
        "rulePriority": priority,
        "selection": selection or sel(),
        "action": action or {"type": "expire"},
    }


def age(status: str = "untagged", count_type: str = "sinceImagePushed", **more: Any) -> Doc:
    base = {"tagStatus": status, "countType": count_type, "countUnit": "days", "countNumber": 7}
    return {**base, **more}


def problems(doc: object, *, length: int = 200) -> list[str]:
    issues = Issues()
    policy = validate_policy(issues, "", doc, text_length=length)
    assert (policy is None) == bool(issues.problems)
    return [p.message if not p.path else str(p) for p in issues.problems]


P = pytest.param
INVALID = [
    P({"rules": []}, ["rules: must be a non-empty list of lifecycle rules (got an empty list)"], id="no-rules"),
    P({"rule": []}, ["rule: unknown key (expected one of: rules)", "rules: required"], id="unknown-top-key"),
    P({"rules": [rule(1), rule(1, sel("tagged", tagPrefixList=["a"]))]}, ["rules[1].rulePriority: duplicate rulePriority 1 (also at rules[0])"], id="duplicate-priority"),
    P({"rules": [rule(0)]}, ["rules[0].rulePriority: must be an integer >= 1 (got 0)"], id="priority-0"),
    P({"rules": [rule(1, sel("tagged"))]}, ["rules[0].selection: tagStatus tagged needs tagPrefixList or tagPatternList"], id="tagged-without-list"),
    P({"rules": [rule(1, sel("tagged", tagPrefixList=["a"], tagPatternList=["a*"]))]}, ["rules[0].selection.tagPatternList: give tagPrefixList or tagPatternList, not both"], id="tagged-with-both"),
    P({"rules": [rule(1, sel("untagged", tagPrefixList=["a"]))]}, ["rules[0].selection.tagPrefixList: not allowed with tagStatus untagged (only with tagged)"], id="untagged-with-prefix"),
    P({"rules": [rule(1, sel("any", tagPatternList=["a*"]))]}, ["rules[0].selection.tagPatternList: not allowed with tagStatus any (only with tagged)"], id="any-with-pattern"),
    P({"rules": [rule(1, sel("any")), rule(2, sel("tagged", tagPrefixList=["a"]))]}, ["rules[0].rulePriority: a tagStatus any rule must have the highest rulePriority of its storage class (standard: 2)"], id="any-not-last"),
    P({"rules": [rule(1), rule(2, sel("tagged", tagPrefixList=["a"])), rule(3)]}, ["rules[2].selection.tagStatus: only one untagged rule per storage class (rules[0] is one)"], id="two-untagged"),
    P({"rules": [rule(1, sel("tagged", tagPatternList=["ok", "test*1*2*3*4*5*6"]))]}, ["rules[0].selection.tagPatternList[1]: at most 4 '*' wildcards per pattern (6 in 'test*1*2*3*4*5*6')"], id="five-stars"),
    P({"rules": [rule(1, sel("tagged", tagPatternList=[""]))]}, ["rules[0].selection.tagPatternList[0]: must be a non-empty string (got '')"], id="empty-pattern"),
    P({"rules": [rule(1, sel(countUnit="days"))]}, ["rules[0].selection.countUnit: only with sinceImagePushed, sinceImagePulled or sinceImageTransitioned"], id="days-with-count"),
    P({"rules": [rule(1, {"tagStatus": "untagged", "countType": "sinceImagePushed", "countNumber": 3})]}, ["rules[0].selection.countUnit: required with countType sinceImagePushed (days)"], id="age-without-unit"),
    P({"rules": [rule(1, age(countUnit="hours"))]}, ["rules[0].selection.countUnit: must be one of: days (got 'hours')"], id="unit-hours"),
    P({"rules": [rule(1, sel(countNumber=0))]}, ["rules[0].selection.countNumber: must be an integer >= 1 (got 0)"], id="count-0"),
    P({"rules": [rule(1, sel(countNumber=True))]}, ["rules[0].selection.countNumber: must be an integer >= 1 (got true)"], id="count-bool"),
    P({"rules": [rule(1, age(count_type="sinceImagePulled"))]}, ["rules[0].selection.countType: sinceImagePulled only with action type transition (ECR expires by pull time only through archive)"], id="pulled-with-expire"),
    P({"rules": [rule(1, age(count_type="sinceImageTransitioned"))]}, ["rules[0].selection.countType: sinceImageTransitioned needs storageClass archive (it counts time in archive)"], id="transitioned-standard"),
    P({"rules": [rule(1, age(count_type="sinceImageTransitioned", storageClass="archive"), type="transition", targetStorageClass="archive")]}, ["rules[0].selection.countType: sinceImageTransitioned only with action type expire", "rules[0].selection.storageClass: transition needs storageClass standard"], id="transitioned-transition"),
    P({"rules": [rule(1, type="expire", targetStorageClass="archive")]}, ["rules[0].action.targetStorageClass: only with type transition"], id="target-with-expire"),
    P({"rules": [rule(1, age(), type="transition")]}, ["rules[0].action.targetStorageClass: required with type transition (archive)"], id="transition-without-target"),
    P({"rules": [rule(1, age(), type="transition", targetStorageClass="standard")]}, ["rules[0].action.targetStorageClass: must be archive (got 'standard')"], id="target-standard"),
    P({"rules": [rule(1, sel("TAGGED", tagPrefixList=["a"]))]}, ["rules[0].selection.tagStatus: must be 'tagged', spelled as in ECR's policy JSON"], id="uppercase-status"),
    P({"rules": [rule(1, type="EXPIRE")]}, ["rules[0].action.type: must be 'expire', spelled as in ECR's policy JSON"], id="uppercase-action"),
    P({"rules": [rule(1, age(storageClass="ARCHIVE"))]}, ["rules[0].selection.storageClass: must be 'archive', spelled as in ECR's policy JSON"], id="uppercase-storage"),
    P({"rules": [rule(1, {**sel(), "countType": "IMAGE_COUNT_MORE_THAN"})]}, ["rules[0].selection.countType: must be 'imageCountMoreThan', spelled as in ECR's policy JSON"], id="api-count-type"),
    P({"rules": [rule(1, type="delete")]}, ["rules[0].action.type: must be one of: expire, transition (got 'delete')"], id="unknown-action"),
    P({"rules": [{"rulePriority": 1, "selection": sel(), "action": {"type": "expire"}, "name": "x"}]}, ["rules[0].name: unknown key (expected one of: rulePriority, description, selection, action)"], id="unknown-rule-key"),
    P({"rules": [{"selection": sel()}]}, ["rules[0].rulePriority: required", "rules[0].action: required"], id="missing-keys"),
    P({"rules": [rule(1, {"tagStatus": "untagged"})]}, ["rules[0].selection.countType: required", "rules[0].selection.countNumber: required"], id="missing-count"),
    P({"rules": [{**rule(1), "description": 7}]}, ["rules[0].description: must be a string (got 7)"], id="description-number"),
    P([], ["must be a mapping (got an empty list)"], id="not-a-mapping"),
]  # fmt: skip


@pytest.mark.parametrize(("doc", "expected"), INVALID)
def test_invalid_lifecycle_policy_is_rejected_with_each_place(
    doc: Doc, expected: list[str]
) -> None:
    assert problems(doc) == expected


def test_text_longer_than_ecr_takes_is_rejected() -> None:
    doc = {"rules": [rule(1)]}
    assert problems(doc, length=MAX_TEXT) == []
    assert problems(doc, length=MAX_TEXT + 1) == [
        "the policy text is 30,721 characters; ECR takes 30,720"
    ]


def test_a_transition_rule_is_valid() -> None:
    doc = {"rules": [rule(1, age("any", "sinceImagePulled"), type="transition", targetStorageClass="archive")]}  # fmt: skip
    assert problems(doc) == []


# What ECR's documentation shows as valid: each must pass, and come out as written.
VALID = [
    P({"rules": [rule(1, age("tagged", tagPatternList=["prod*"], countNumber=14))]}, id="image-age"),
    P({"rules": [rule(1)]}, id="image-count-untagged"),
    P({"rules": [rule(1, sel("tagged", tagPatternList=["*test*1*2*3", "test*1*2*3*"]))]}, id="four-stars"),
    P({"rules": [rule(1, sel("tagged", tagPrefixList=["prod"])), rule(2, sel("tagged", tagPrefixList=["beta"]))]}, id="prefixes"),
    P({"rules": [rule(1, sel("tagged", tagPatternList=["alpha*"])), rule(2, age()), rule(3, sel("any"))]}, id="all-kinds"),
    # Archive-era examples: transition after 30 days; expire after 365 days in archive.
    # Both are `any` rules, each the last of its own storage class.
    P({"rules": [
        rule(1, age("any", countNumber=30), type="transition", targetStorageClass="archive"),
        rule(2, age("any", "sinceImageTransitioned", countNumber=365, storageClass="archive")),
    ]}, id="archive-and-expire"),
    P({"rules": [rule(1, age("any", "sinceImagePulled", countNumber=90), type="transition", targetStorageClass="archive")]}, id="last-pulled"),
    P({"rules": [rule(7, sel("any")), rule(3, sel("tagged", tagPrefixList=["v"]))]}, id="unordered-priorities"),
]  # fmt: skip


@pytest.mark.parametrize("doc", VALID)
def test_valid_lifecycle_policy_is_accepted_and_round_trips(doc: Doc) -> None:
    assert problems(doc) == []
    policy = policy_from_text(json.dumps(doc))
    assert [r.priority for r in policy.rules] == sorted(r["rulePriority"] for r in doc["rules"])
    by_priority = {r["rulePriority"]: r for r in doc["rules"]}
    assert policy.to_json()["rules"] == [by_priority[r.priority] for r in policy.rules]
    assert policy_from_text(policy.text()) == policy


def test_parsed_rule_carries_every_field() -> None:
    doc = {"rules": [{
        "rulePriority": 2, "description": "archive stale",
        "selection": age("tagged", "sinceImagePulled", tagPatternList=["v*"], countNumber=90),
        "action": {"type": "transition", "targetStorageClass": "archive"},
    }]}  # fmt: skip
    (parsed,) = policy_from_text(json.dumps(doc)).rules
    assert parsed.priority == 2 and parsed.description == "archive stale"
    assert parsed.tag_status is LifecycleTagStatus.TAGGED and parsed.tag_patterns == ("v*",)
    assert parsed.count_type is CountType.SINCE_IMAGE_PULLED and parsed.count_number == 90
    assert parsed.storage_class is StorageClass.STANDARD
    assert parsed.action.type is ActionType.TRANSITION
    assert parsed.action.target_storage_class is StorageClass.ARCHIVE


# -- in a policy file ------------------------------------------------------------------

UNTAGGED = {"rules": [rule(1, age())]}
TRANSITION = {"rules": [rule(1, age("any", "sinceImagePulled"), type="transition", targetStorageClass="archive")]}  # fmt: skip


def config_with(lifecycle: str, *, rules: bool = False) -> str:
    extra = ", rules: []" if rules else ""
    return document(policies=f"[{{name: p, lifecycle_policy: {lifecycle}{extra}}}]")


def errors(text: str, source: str = "policy.yaml") -> list[str]:
    try:
        load_config_text(text, source=source)
    except ConfigError as exc:
        return exc.errors
    raise AssertionError("accepted")


def test_inline_mapping_is_the_policy() -> None:
    config = load_config_text(config_with(json.dumps(UNTAGGED)))
    (policy,) = config.policies
    assert policy.rules == () and policy.lifecycle == policy_from_text(json.dumps(UNTAGGED))


def test_inline_errors_name_their_place_in_the_policy_file() -> None:
    bad = {"rules": [rule(1, sel("tagged", tagPatternList=["a*b*c*d*e*f"]))]}
    text = document(
        policies="\n".join(["", "  - name: p", "    lifecycle_policy: " + json.dumps(bad)])
    )
    assert errors(text) == [
        "policy.yaml:5:163: policies[0].lifecycle_policy.rules[0].selection.tagPatternList[0]: "
        "at most 4 '*' wildcards per pattern (5 in 'a*b*c*d*e*f')"
    ]


def test_transition_in_a_policy_file_is_a_transition_to_archive() -> None:
    config = load_config_text(config_with(json.dumps(TRANSITION)))
    (policy,) = config.policies
    assert policy.lifecycle is not None
    (only,) = policy.lifecycle.rules
    assert (only.action.type, only.action.target_storage_class) == ("transition", "archive")


def test_rules_and_lifecycle_policy_together_are_an_error() -> None:
    assert errors(config_with(json.dumps(UNTAGGED), rules=True)) == [
        "policy.yaml:3:40: policies[0].lifecycle_policy: give rules or lifecycle_policy, not both"
    ]


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(json.dumps(UNTAGGED, indent=2), id="bare-policy"),
        pytest.param(
            json.dumps(
                {
                    "registryId": "123456789012",
                    "repositoryName": "team-a/api",
                    "lifecyclePolicyText": json.dumps(UNTAGGED),
                    "lastEvaluatedAt": "2026-12-01T00:00:00+00:00",
                }
            ),
            id="get-lifecycle-policy-output",
        ),
    ],
)
def test_file_is_read_relative_to_the_policy_file(tmp_path: Path, content: str) -> None:
    (tmp_path / "ecr").mkdir()
    (tmp_path / "ecr" / "api.json").write_text(content)
    config_file = tmp_path / "policy.yaml"
    config_file.write_text(config_with("{file: ecr/api.json}"))
    (policy,) = load_config(config_file).policies
    assert policy.lifecycle == policy_from_text(json.dumps(UNTAGGED))


def test_json_text_inline_is_read_too() -> None:
    text = config_with(json.dumps(json.dumps(UNTAGGED)))
    assert load_config_text(text).policies[0].lifecycle == policy_from_text(json.dumps(UNTAGGED))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(None, "api.json: no such file (paths are relative to the policy file)", id="missing"),
        pytest.param('{"rules": [', "api.json: not valid JSON (Expecting value at line 1 column 12)", id="json"),
        pytest.param(json.dumps({"rules": [rule(1, sel(countNumber=0))]}), "api.json: rules[0].selection.countNumber: must be an integer >= 1 (got 0)", id="invalid"),
        pytest.param(json.dumps({"lifecyclePolicyText": json.dumps({"rules": [rule(0)]})}), "api.json: lifecyclePolicyText.rules[0].rulePriority: must be an integer >= 1 (got 0)", id="inside-response"),
    ],
)  # fmt: skip
def test_file_errors_name_the_file_and_the_place_in_it(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    if content is not None:
        (tmp_path / "api.json").write_text(content)
    config_file = tmp_path / "policy.yaml"
    config_file.write_text(config_with("{file: api.json}"))
    assert errors(config_file.read_text(), source=str(config_file)) == [
        f"{config_file}:3:47: policies[0].lifecycle_policy.file: {expected}"
    ]


def test_policy_from_text_rejects_what_ecr_would_reject() -> None:
    with pytest.raises(ValueError, match=r"rules\[0\].rulePriority: must be an integer >= 1"):
        policy_from_text(json.dumps({"rules": [rule(0)]}))


# -- the shipped JSON Schema knows the same keys ---------------------------------------


@pytest.mark.parametrize(
    ("where", "keys"),
    [
        ("$defs/lifecycleRule/properties", validator.RULE_KEYS),
        ("$defs/lifecycleRule/properties/selection/properties", validator.SELECTION_KEYS),
    ],
)
def test_schema_knows_the_validators_keys(where: str, keys: tuple[str, ...]) -> None:
    node: Any = load_schema()
    for part in where.split("/"):
        node = node[part]
    assert list(node) == list(keys)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        (config_with(json.dumps(UNTAGGED)), True),
        (config_with("{file: x.json}"), True),
        (config_with(json.dumps(UNTAGGED), rules=True), False),
        (
            config_with(
                json.dumps({"rules": [rule(1, sel("tagged", tagPatternList=["*1*2*3*4*5"]))]})
            ),
            False,
        ),
        (document(policies="[{name: p}]"), False),
        (config_with(json.dumps({"lifecyclePolicyText": json.dumps(UNTAGGED)})), True),
        (config_with(json.dumps(json.dumps(UNTAGGED))), True),
        (config_with("{file: x.json, rules: []}"), False),
        (config_with(json.dumps(TRANSITION)), True),
        (
            config_with(
                json.dumps({"rules": [rule(1, type="expire", targetStorageClass="archive")]})
            ),
            False,
        ),
    ],
)
def test_schema_agrees_with_the_loader(text: str, valid: bool) -> None:
    schema = jsonschema.Draft202012Validator(load_schema())
    assert schema.is_valid(yaml.safe_load(text)) is valid
    try:
        load_config_text(text)
        loaded = True
    except ConfigError:
        loaded = False
    assert loaded is valid or "file:" in text  # the schema cannot see that x.json is missing

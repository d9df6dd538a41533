"""The shipped JSON Schema: written from the loader's declarations, valid, complete, and
in agreement with the loader."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from config_support import document, in_use, policies, policy, protect, rule, target, top

from cleaner.config import load as config
from cleaner.config import notify as config_notify
from cleaner.config import policies as config_policies
from cleaner.config import protect as config_protect
from cleaner.config import targets as config_targets
from cleaner.config.load import ConfigError, load_config_text
from cleaner.config.model import (
    KEEP_AT_LEAST_DEFAULT,
    OrderBy,
    OrphanedReferrers,
    RuleAction,
    Storage,
    TagStatus,
)
from cleaner.config.schema import load_schema, main, schema_path, schema_text
from cleaner.config.shape import Shape

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
ROLE = "arn:aws:iam::123456789012:role/cleaner"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_accepts(validator: jsonschema.protocols.Validator, text: str) -> bool:
    return validator.is_valid(yaml.safe_load(text))


def loader_accepts(text: str) -> bool:
    try:
        load_config_text(text)
    except ConfigError:
        return False
    return True


def objects(node: Any, where: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every sub-schema that declares properties, with where it is (conditions such as
    `if`/`then` only constrain objects declared elsewhere)."""
    if isinstance(node, dict):
        if "properties" in node:
            yield where, node
        for name, child in node.items():
            if name not in ("if", "then", "not"):
                yield from objects(child, f"{where}/{name}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from objects(child, f"{where}/{i}")


def test_the_shipped_schema_is_the_one_the_declarations_write() -> None:
    # If this fails after changing a Shape or an in-use source kind: `make schema`.
    assert schema_path().read_text(encoding="utf-8") == schema_text()
    assert main(["--check"]) == 0


def test_schema_ships_in_the_package_and_is_draft_2020_12() -> None:
    path = schema_path()
    assert path.name == "policy.schema.json" and path.is_file()
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema == load_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["version"]["const"] == 1


def test_every_object_is_closed_and_every_property_described() -> None:
    found = list(objects(load_schema()["properties"]))
    found += list(objects(load_schema()["$defs"]))
    assert len(found) > 15
    for where, node in found:
        assert node.get("additionalProperties") is False, where
        for name, prop in node["properties"].items():
            assert prop.get("description"), f"{where}/properties/{name}"


@pytest.mark.parametrize(
    ("where", "shape"),
    [
        ("properties", config.TOP),
        ("$defs/target/properties", config_targets.TARGET),
        ("properties/limits/properties", config.LIMITS),
        ("properties/schedule/properties", config.SCHEDULE),
        ("properties/defaults/properties", config_protect.DEFAULTS),
        ("$defs/policy/properties", config_policies.POLICY),
        ("$defs/rule/properties", config_policies.RULE),
        ("$defs/rule/properties/select/properties", config_policies.SELECT),
        ("$defs/rule/properties/keep/properties", config_policies.KEEP),
        ("$defs/rule/properties/expire/properties", config_policies.EXPIRE),
        ("$defs/protect/properties", config_protect.PROTECT),
        ("$defs/protect/properties/in_use/properties", config_protect.IN_USE),
        ("$defs/webhook/properties", config_notify.WEBHOOK),
        ("$defs/sns/properties", config_notify.SNS),
        ("properties/report/properties", config_notify.REPORT),
    ],
)
def test_schema_and_loader_know_the_same_keys(where: str, shape: Shape) -> None:
    node: Any = load_schema()
    for part in where.split("/"):
        node = node[part]
    assert list(node) == list(shape.keys)
    required = [name for name, key in shape.keys.items() if key.required]
    assert node_required(where) == required


def node_required(where: str) -> list[str]:
    node: Any = load_schema()
    for part in where.split("/")[:-1]:
        node = node[part]
    return list(node.get("required", []))


def test_schema_default_of_keep_at_least_is_the_loaders() -> None:
    protect = load_schema()["$defs"]["protect"]["properties"]
    assert protect["keep_at_least"]["default"] == KEEP_AT_LEAST_DEFAULT == 1


def test_schema_enums_are_the_policy_enums() -> None:
    schema = load_schema()
    rule_props = schema["$defs"]["rule"]["properties"]
    assert rule_props["select"]["properties"]["tag_status"]["enum"] == list(TagStatus)
    assert rule_props["keep"]["properties"]["order_by"]["enum"] == list(OrderBy)
    assert rule_props["select"]["properties"]["storage"]["enum"] == list(Storage)
    assert rule_props["action"]["enum"] == list(RuleAction)
    limits = schema["properties"]["limits"]["properties"]
    assert limits["orphaned_referrers"]["enum"] == list(OrphanedReferrers)


@pytest.mark.parametrize(
    "path",
    sorted(CONFIG_DIR.glob("*.yaml")) + sorted((ROOT / "docs" / "examples").glob("*.yaml")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_every_example_policy_validates_against_the_schema(
    validator: jsonschema.protocols.Validator, path: Path
) -> None:
    validator.validate(yaml.safe_load(path.read_text(encoding="utf-8")))


# Files both the schema and the loader must reject.
INVALID = [
    pytest.param(document().replace("version: 1", "version: 2"), id="version"),
    pytest.param(top("extra: 1\n"), id="unknown-top-key"),
    pytest.param(document(targets="[]"), id="no-targets"),
    pytest.param(document(policies="[]"), id="no-policies"),
    pytest.param(target("{repositories: ['*']}"), id="no-region"),
    pytest.param(target("{region: us-east-1, regions: [eu-west-1]}"), id="region-and-regions"),
    pytest.param(target("{region: Frankfurt}"), id="region-pattern"),
    pytest.param(target("{region: us-east-1, registry_id: 123456789012}"), id="registry-number"),
    pytest.param(target("{region: us-east-1, role_arn: 'arn:aws:iam::1:user/x'}"), id="role-arn"),
    pytest.param(target("{region: us-east-1, external_id: abc}"), id="external-id-no-role"),
    pytest.param(target("{region: us-east-1, session_name: abc}"), id="session-name-no-role"),
    pytest.param(target(f"{{region: us-east-1, role_arn: '{ROLE}', session_name: a}}"), id="name"),
    pytest.param(
        target(f"{{region: us-east-1, role_arn: '{ROLE}', external_id: 'a b'}}"), id="ext"
    ),
    pytest.param(policy("{rules: []}"), id="policy-name-missing"),
    pytest.param(rule("{name: r}"), id="rule-without-keep-or-expire"),
    pytest.param(rule("{name: r, selct: {}, keep: {most_recent: 1}}"), id="rule-unknown-key"),
    pytest.param(
        rule("{name: r, select: {tag_status: untagged, tags: [x]}, keep: {most_recent: 1}}"),
        id="tags-with-untagged",
    ),
    pytest.param(rule("{name: r, keep: {most_recent: 0}}"), id="most-recent-0"),
    pytest.param(rule("{name: r, keep: {most_recent: 1, order_by: age}}"), id="order-by"),
    pytest.param(rule("{name: r, expire: {pushed_before: 0d}}"), id="duration-zero"),
    pytest.param(rule("{name: r, expire: {pushed_before: 14}}"), id="duration-no-unit"),
    pytest.param(rule("{name: r, expire: {}}"), id="expire-empty"),
    pytest.param(protect("{keep_at_least: -1}"), id="keep-at-least"),
    pytest.param(in_use("k8s"), id="in-use-unknown"),
    pytest.param(in_use("{command: {timeout: 5s}}"), id="in-use-command-argv"),
    pytest.param(in_use("{kubernetes: {contexts: []}}"), id="in-use-kubernetes-contexts"),
    pytest.param(in_use("{kubernetes: {namespaces: ['!']}}"), id="in-use-kubernetes-bang"),
    pytest.param(in_use("{kubernetes: {cluster: x}}"), id="in-use-kubernetes-unknown"),
    pytest.param(top("limits: {max_deletion_ratio: 0}\n"), id="ratio-0"),
    pytest.param(top("limits: {max_deletion_ratio: 1.5}\n"), id="ratio-1.5"),
    pytest.param(top("limits: {max_deletions: -1}\n"), id="max-deletions"),
    pytest.param(top("limits: {orphaned_referrers: purge}\n"), id="orphans"),
    pytest.param(top("schedule: {cron: '0 3 * *'}\n"), id="cron-4-fields"),
    pytest.param(top("limits: {concurrency: 0}\n"), id="concurrency-0"),
    pytest.param(top("limits: {concurrency: 65}\n"), id="concurrency-65"),
    pytest.param(top("limits: {processes: 0}\n"), id="processes-0"),
    pytest.param(top("limits: {processes: 65}\n"), id="processes-65"),
    pytest.param(top("limits: {requests_per_second: 0}\n"), id="rate-0"),
    pytest.param(top("notify: {kind: webhook, url: 'https://x'}\n"), id="notify-mapping"),
    pytest.param(top("notify: [{url: 'https://x'}]\n"), id="notify-no-kind"),
    pytest.param(top("notify: [{kind: email, url: 'https://x'}]\n"), id="notify-kind"),
    pytest.param(top("notify: [{kind: webhook}]\n"), id="webhook-no-url"),
    pytest.param(top("notify: [{kind: webhook, url: 'https://x', url_env: X}]\n"), id="both"),
    pytest.param(top("notify: [{kind: webhook, url: 'ftp://x/y'}]\n"), id="webhook-scheme"),
    pytest.param(top("notify: [{kind: webhook, url_env: 'my-var'}]\n"), id="webhook-env"),
    pytest.param(top("notify: [{kind: webhook, url_env: X, format: teams}]\n"), id="format"),
    pytest.param(top("notify: [{kind: webhook, url_env: X, 'on': []}]\n"), id="on-empty"),
    pytest.param(top("notify: [{kind: webhook, url_env: X, 'on': never}]\n"), id="on-never"),
    pytest.param(top("notify: [{kind: sns, url_env: X}]\n"), id="sns-webhook-key"),
    pytest.param(top("notify: [{kind: sns}]\n"), id="sns-no-arn"),
    pytest.param(
        top("notify: [{kind: sns, topic_arn: 'arn:aws:sqs:us-east-1:123456789012:q'}]\n"),
        id="sns-arn",
    ),
    pytest.param(top("report: {storage_price_per_gb_month: -1}\n"), id="price-negative"),
    pytest.param(top("report: {storage_price: 1}\n"), id="report-key"),
    pytest.param(rule("{name: r, expire: {pushed_before: 1d}, action: move}"), id="action"),
    pytest.param(rule("{name: r, select: {storage: cold}, keep: {most_recent: 1}}"), id="storage"),
    pytest.param(
        rule(
            "{name: r, select: {storage: archived}, expire: {archived_before: 1d}, action: archive}"
        ),
        id="archive-archived",
    ),
    pytest.param(rule("{name: r, expire: {archived_before: 90d}}"), id="archived-before-active"),
]


@pytest.mark.parametrize("text", INVALID)
def test_schema_rejects_what_the_loader_rejects(
    validator: jsonschema.protocols.Validator, text: str
) -> None:
    assert not loader_accepts(text)
    assert not schema_accepts(validator, text)


VALID = [
    pytest.param(rule("{name: r, keep: {most_recent: 3, group_by: 'x-(.*)'}}"), id="keep-only"),
    pytest.param(target("{regions: [us-east-1, eu-west-1], registry_id: '012345678901'}"), id="r"),
    pytest.param(in_use("ecs", "{lambda: {}}", "{file: {path: /x}}"), id="in-use"),
    pytest.param(
        in_use(
            "kubernetes",
            "{kubernetes: {kubeconfig: /k, contexts: [a, b], namespaces: ['*', '!kube-*']}}",
        ),
        id="in-use-kubernetes",
    ),
    pytest.param(
        policies("{name: a, repositories: [x], rules: []}", "{name: b, rules: []}"), id="p"
    ),
    pytest.param(top("limits: {max_deletions: 0, max_deletion_ratio: 1}\n"), id="limits"),
    pytest.param(top("limits: {concurrency: 64, requests_per_second: 0.5}\n"), id="pace"),
    pytest.param(top("limits: {processes: 4}\n"), id="processes"),
    pytest.param(
        target(
            f"{{region: us-east-1, role_arn: '{ROLE}', external_id: 'o/x:1', session_name: n@o}}"
        ),
        id="role-options",
    ),
    pytest.param(top("notify: []\nreport: {storage_price_per_gb_month: 0}\n"), id="no-notify"),
    pytest.param(
        top(
            "notify:\n"
            "  - {kind: webhook, url: 'https://hooks.example.com/x', format: slack}\n"
            "  - {kind: webhook, url_env: HOOK, 'on': [failure, deletions]}\n"
            "  - {kind: sns, topic_arn: 'arn:aws:sns:us-east-1:123456789012:t', 'on': always}\n"
        ),
        id="notify",
    ),
    pytest.param(rule("{name: r, expire: {pushed_before: 1d}, action: archive}"), id="archive"),
    pytest.param(
        rule("{name: r, select: {storage: archived}, expire: {archived_before: 90d}}"),
        id="archived",
    ),
]


@pytest.mark.parametrize("text", VALID)
def test_schema_accepts_what_the_loader_accepts(
    validator: jsonschema.protocols.Validator, text: str
) -> None:
    assert loader_accepts(text)
    assert schema_accepts(validator, text)

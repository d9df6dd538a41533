"""deploy/iam-policy.json grants exactly the AWS actions the code calls: none missing
(the cleaner would fail with AccessDenied in production), none extra (least privilege).

The calls are found in the source, not listed by hand: every AWS client the code makes
names its service (`client("ecr", ...)`, `for_target("ecs", ...)`), and every operation
appears either as a method call (`.describe_images(`) or as the operation's name in a
string (`get_paginator("describe_images")`, `self._pages("describe_images", ...)`).
botocore's service models turn those snake_case names into IAM actions.
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "cleaner"
POLICY = ROOT / "deploy" / "iam-policy.json"
# The sandbox is the test double of AWS, not a client of it.
EXCLUDED = (PACKAGE / "sandbox",)
# Calls that make an AWS client, with the service name as first argument.
CLIENT_FACTORIES = {"client", "for_target"}
# Where an operation name exists in more than one of the services the code uses, say
# here which service each module means: {(module, operation): service}.
AMBIGUOUS: dict[tuple[str, str], str] = {}


def sources() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if not any(path.is_relative_to(excluded) for excluded in EXCLUDED):
            yield path


def services_used(trees: dict[Path, ast.AST]) -> set[str]:
    found = set()
    for tree in trees.values():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
                in CLIENT_FACTORIES
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def names_in(tree: ast.AST) -> set[str]:
    """Method names called, and whole string constants: the candidates for operations."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            names.add(node.func.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return names


@functools.cache  # three tests read it; parsing the package takes ~0.2 s
def called_actions() -> dict[str, set[str]]:
    """IAM action -> the modules that call it."""
    trees = {path: ast.parse(path.read_text(), str(path)) for path in sources()}
    session = botocore.session.get_session()
    operations: dict[str, list[tuple[str, str]]] = {}  # snake name -> [(service, action)]
    for service in sorted(services_used(trees)):
        model = session.get_service_model(service)
        for operation in model.operation_names:
            action = f"{model.signing_name}:{operation}"
            operations.setdefault(xform_name(operation), []).append((service, action))
    actions: dict[str, set[str]] = {}
    for path, tree in trees.items():
        module = str(path.relative_to(ROOT))
        for name in names_in(tree) & operations.keys():
            candidates = operations[name]
            if len(candidates) > 1:
                service = AMBIGUOUS.get((module, name))
                if service is None:
                    pytest.fail(
                        f"{module}: {name} is an operation of several services "
                        f"({', '.join(s for s, _ in candidates)}); add it to AMBIGUOUS"
                    )
                candidates = [c for c in candidates if c[0] == service]
            actions.setdefault(candidates[0][1], set()).add(module)
    return actions


def granted_actions() -> set[str]:
    document = json.loads(POLICY.read_text())
    assert document["Version"] == "2012-10-17"
    granted: set[str] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        action = statement["Action"]
        granted.update([action] if isinstance(action, str) else action)
    return granted


def test_the_scan_finds_the_calls_it_must_find() -> None:
    # If the scan broke (a refactor hides calls from it), the equality test below
    # could pass on an empty set; these calls are the core of the cleaner.
    actions = called_actions()
    assert {
        "ecr:DescribeRepositories",
        "ecr:DescribeImages",
        "ecr:BatchGetImage",
        "ecr:BatchDeleteImage",
        "sts:AssumeRole",
    } <= actions.keys()


def test_policy_grants_every_action_the_code_calls() -> None:
    missing = {a: sorted(m) for a, m in called_actions().items() if a not in granted_actions()}
    assert not missing, f"called but not granted by {POLICY.name}: {missing}"


def test_policy_grants_nothing_the_code_does_not_call() -> None:
    extra = granted_actions() - called_actions().keys()
    assert not extra, f"granted by {POLICY.name} but never called: {sorted(extra)}"


def test_policy_has_no_wildcard_actions() -> None:
    assert not [a for a in granted_actions() if "*" in a]

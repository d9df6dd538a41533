"""Where an ECR lifecycle policy comes from: a policy's `lifecycle_policy:` (inline, or
`file: PATH`), or the text GetLifecyclePolicy returns.

Accepted everywhere: the bare policy document (`{"rules": [...]}`, as kept next to
Terraform or CloudFormation), or what `aws ecr get-lifecycle-policy` prints (the
document as a JSON string in `lifecyclePolicyText`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from cleaner.config import fields as f
from cleaner.config.fields import JSON, Check, Issues, key
from cleaner.config.lifecycle import DOCUMENT, validate_policy
from cleaner.config.lifecycle_model import LifecyclePolicy
from cleaner.config.shape import Key, Shape

TEXT_KEY = "lifecyclePolicyText"
FILE_KEY = "file"
# The directory of the policy file being read: `file:` paths are relative to it. Set by
# the loader around one read (a context variable, so concurrent reads keep their own).
_POLICY_DIR: ContextVar[Path] = ContextVar("policy_dir", default=Path())


@contextmanager
def files_relative_to(directory: Path) -> Iterator[None]:
    """Read `lifecycle_policy: {file: PATH}` relative to `directory` meanwhile."""
    token = _POLICY_DIR.set(directory)
    try:
        yield
    finally:
        _POLICY_DIR.reset(token)


def _lifecycle_policy(issues: Issues, path: str, value: object) -> LifecyclePolicy | None:
    if isinstance(value, dict) and FILE_KEY in value:
        section = FILE.read(issues, path, value)
        name = section.field(FILE_KEY) if section else None
        if name is None or len(value) > 1:
            return None
        return _from_file(issues, key(path, FILE_KEY), _POLICY_DIR.get() / name, name)
    if isinstance(value, str):
        return _from_text(issues, path, value, "")
    if isinstance(value, dict):
        return _from_document(issues, path, value, "", len(_compact(value)))
    message = "must be a lifecycle policy: a mapping with rules, or {file: PATH}"
    issues.add(path, f"{message} (got {f.describe(value)})")
    return None


def policy_from_text(text: str) -> LifecyclePolicy:
    """ECR's lifecycle policy text (as GetLifecyclePolicy returns it) as a policy; raises
    ValueError with every problem, one a line."""
    issues = Issues()
    policy = _from_text(issues, "", text, "")
    if policy is None:
        raise ValueError("\n".join(p.message if not p.path else str(p) for p in issues.problems))
    return policy


def _from_file(issues: Issues, path: str, file: Path, name: str) -> LifecyclePolicy | None:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        issues.add(path, f"{name}: no such file (paths are relative to the policy file)")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        issues.add(path, f"{name}: cannot read: {getattr(exc, 'strerror', None) or exc}")
        return None
    found = Issues()
    policy = _from_text(found, "", text, name)
    for problem in found.problems:
        # The file's own places go into the message: the policy file only knows `file:`.
        where = f"{name}: {problem.path}" if problem.path else name
        issues.add(path, f"{where}: {problem.message}")
    return policy


def _from_text(issues: Issues, path: str, text: str, name: str) -> LifecyclePolicy | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        issues.add(path, f"not valid JSON ({exc.msg} at {where})")
        return None
    return _from_document(issues, path, data, name, len(text))


def _from_document(
    issues: Issues,
    path: str,
    data: object,
    name: str,
    length: int,
) -> LifecyclePolicy | None:
    if isinstance(data, dict) and TEXT_KEY in data:
        section = RESPONSE.read(issues, path, data)
        text = section.field(TEXT_KEY) if section else None
        if text is None:
            return None
        here = key(path, TEXT_KEY)
        return _from_text(issues, here, text, name)
    return validate_policy(issues, path, data, text_length=length)


def _compact(value: object) -> str:
    """The text an inline policy would be sent to ECR as (what its length limit counts)."""
    return json.dumps(value, separators=(",", ":"), default=str)


FILE = Shape(
    {
        FILE_KEY: Key(
            f.string, "A JSON file holding the policy, relative to this policy file.", required=True
        )
    }
)


def _ignored(schema: JSON) -> Check[object]:
    return Check(lambda issues, path, value: value, schema)


_IGNORED = "Ignored (part of GetLifecyclePolicy's answer)."
# GetLifecyclePolicy's (and PutLifecyclePolicy's) answer around the policy text; only
# the text is read.
RESPONSE = Shape(
    {
        TEXT_KEY: Key(
            f.string,
            "The policy as a JSON string, as GetLifecyclePolicy returns it.",
            required=True,
        ),
        "registryId": Key(_ignored({"type": "string"}), _IGNORED),
        "repositoryName": Key(_ignored({"type": "string"}), _IGNORED),
        "lastEvaluatedAt": Key(_ignored({}), _IGNORED),
    }
)


def _schema() -> JSON:
    return {
        "description": "An ECR lifecycle policy: inline (its rules), or {file: PATH} to its"
        " JSON (the bare policy, or what `aws ecr get-lifecycle-policy` prints), or its JSON"
        " text.",
        "oneOf": [FILE.json(), DOCUMENT.json(), RESPONSE.json(), f.STRING_SCHEMA],
    }


# A policy's `lifecycle_policy:`.
lifecycle_policy = Check(_lifecycle_policy, _schema, name="lifecyclePolicy")

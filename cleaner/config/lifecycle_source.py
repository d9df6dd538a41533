"""Where an ECR lifecycle policy comes from: a policy's `lifecycle_policy:` (inline, or
`file: PATH`), or the text GetLifecyclePolicy returns.

Accepted everywhere: the bare policy document (`{"rules": [...]}`, as kept next to
Terraform or CloudFormation), or what `aws ecr get-lifecycle-policy` prints (the
document as a JSON string in `lifecyclePolicyText`).
"""

from __future__ import annotations

import json
from pathlib import Path

from cleaner.config import fields as f
from cleaner.config.fields import Issues, key
from cleaner.config.lifecycle import validate_policy
from cleaner.config.lifecycle_model import LifecyclePolicy

TEXT_KEY = "lifecyclePolicyText"
# GetLifecyclePolicy's (and PutLifecyclePolicy's) response around the policy text.
RESPONSE_KEYS = (TEXT_KEY, "registryId", "repositoryName", "lastEvaluatedAt")
FILE_KEY = "file"


def lifecycle_checker(base: Path) -> f.Checker[LifecyclePolicy]:
    """The checker of a policy's `lifecycle_policy:`; `file:` paths are relative to `base`
    (the policy file's directory)."""

    def check(issues: Issues, path: str, value: object) -> LifecyclePolicy | None:
        if isinstance(value, dict) and FILE_KEY in value:
            section = f.mapping(issues, path, value, (FILE_KEY,))
            name = section.field(FILE_KEY, f.string) if section else None
            if name is None or len(value) > 1:
                return None
            return _from_file(issues, key(path, FILE_KEY), base / name, name)
        if isinstance(value, str):
            return _from_text(issues, path, value, "")
        if isinstance(value, dict):
            return _from_document(issues, path, value, "", len(_compact(value)))
        message = "must be a lifecycle policy: a mapping with rules, or {file: PATH}"
        issues.add(path, f"{message} (got {f.describe(value)})")
        return None

    return check


def policy_from_text(text: str, *, allow_transition: bool = True) -> LifecyclePolicy:
    """ECR's lifecycle policy text (as GetLifecyclePolicy returns it) as a policy; raises
    ValueError with every problem, one a line."""
    issues = Issues()
    policy = _from_text(issues, "", text, "", allow_transition=allow_transition)
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


def _from_text(
    issues: Issues, path: str, text: str, name: str, *, allow_transition: bool = False
) -> LifecyclePolicy | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        issues.add(path, f"not valid JSON ({exc.msg} at {where})")
        return None
    return _from_document(issues, path, data, name, len(text), allow_transition=allow_transition)


def _from_document(
    issues: Issues,
    path: str,
    data: object,
    name: str,
    length: int,
    *,
    allow_transition: bool = False,
) -> LifecyclePolicy | None:
    if isinstance(data, dict) and TEXT_KEY in data:
        section = f.mapping(issues, path, data, RESPONSE_KEYS)
        text = section.field(TEXT_KEY, f.string) if section else None
        if text is None:
            return None
        here = key(path, TEXT_KEY)
        return _from_text(issues, here, text, name, allow_transition=allow_transition)
    return validate_policy(
        issues, path, data, text_length=length, allow_transition=allow_transition
    )


def _compact(value: object) -> str:
    """The text an inline policy would be sent to ECR as (what its length limit counts)."""
    return json.dumps(value, separators=(",", ":"), default=str)

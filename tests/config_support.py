"""Small valid policy files with one part swapped, for the config tests' tables.

Each builder returns a whole file in which only the part under test differs from a
valid baseline, so each table row shows just the YAML that matters.
"""

from __future__ import annotations

from cleaner.config.load import ConfigError, load_config_text

TARGETS = "[{region: us-east-1}]"
RULE = "{name: r, expire: {pushed_before: 1d}}"
POLICY = f"{{name: p, rules: [{RULE}]}}"


def document(extra: str = "", *, targets: str = TARGETS, policies: str = f"[{POLICY}]") -> str:
    return f"version: 1\ntargets: {targets}\npolicies: {policies}\n{extra}"


def top(extra: str) -> str:
    """A valid file plus top-level YAML (limits, schedule, defaults, ...)."""
    return document(extra)


def target(text: str) -> str:
    """A file whose only target is `text` (flow style)."""
    return document(targets=f"[{text}]")


def policy(text: str) -> str:
    """A file whose only policy is `text`."""
    return document(policies=f"[{text}]")


def policies(*texts: str) -> str:
    """A file with these policies, in this order."""
    return document(policies=f"[{', '.join(texts)}]")


def rule(text: str) -> str:
    """A file whose only policy has the one rule `text`."""
    return policy(f"{{name: p, rules: [{text}]}}")


def protect(text: str) -> str:
    """A file whose only policy has `protect: text`."""
    return policy(f"{{name: p, protect: {text}, rules: [{RULE}]}}")


def in_use(*sources: str) -> str:
    """A file whose only policy is protected by these in-use sources."""
    return protect(f"{{in_use: {{sources: [{', '.join(sources)}]}}}}")


def errors_of(text: str) -> list[str]:
    try:
        load_config_text(text, source="policy.yaml")
    except ConfigError as exc:
        return exc.errors
    raise AssertionError("the file was accepted")

"""The keys of each mapping in the policy file, declared once.

A `Shape` lists a mapping's keys, each a `Key`: its checker, what it means, whether it
is required and what an absent key means. Validation reads the mapping through the
Shape (unknown keys, missing keys, each value's checker) and `SchemaWriter` writes the
JSON Schema from the same Shape, so the two cannot drift apart. What a schema cannot
say (a regex that compiles, a rule with neither keep nor expire) stays in the code
that builds each part of the config from its `Section`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cleaner.config.fields import JSON, Check, Issues, describe, key

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Key(Generic[T]):
    """One key of a mapping. `default`: what an absent key means (a JSON value: the
    schema shows it, and `Section.field` returns it). `missing`: the error when a
    required key is absent."""

    check: Check[T]
    description: str
    required: bool = False
    default: object = None
    missing: str = "required"


def default_of(model: type, name: str) -> object:
    """The default of a model's field, so that a Key shows the model's own default
    instead of repeating it."""
    return next(f.default for f in dataclasses.fields(model) if f.name == name)


class Shape:
    """The keys one mapping may have, in the order messages and the schema list them.

    `rules`: schema keywords for what the code building the section checks across
    keys (`oneOf`, `dependentRequired`, ...), declared next to that code.
    `required_when_read`: report a missing required key when the code asks for it,
    not when the mapping is read, so that errors follow the file's documented order.
    """

    def __init__(
        self,
        keys: Mapping[str, Key[Any]],
        *,
        description: str = "",
        name: str | None = None,
        rules: JSON | None = None,
        required_when_read: bool = False,
    ) -> None:
        self.keys = dict(keys)
        self.description = description
        self.name = name
        self.rules = rules or {}
        self.required_when_read = required_when_read

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(name for name, k in self.keys.items() if k.required)

    def read(self, issues: Issues, path: str, value: object) -> Section | None:
        """The mapping's known keys; unknown keys (and missing ones) are errors."""
        if not isinstance(value, dict):
            issues.add(path, f"must be a mapping (got {describe(value)})")
            return None
        names = ", ".join(self.keys)
        expected = f"expected one of: {names}" if names else "takes no keys"
        for name in value:
            if name not in self.keys:
                issues.add(key(path, str(name)), f"unknown key ({expected})", at_key=True)
        section = Section(self, issues, path, value)
        if not self.required_when_read:
            for name in self.required:
                section.report_missing(name)
        return section

    def reader(self, build: Callable[[Section], T | None]) -> Check[T]:
        """A Check that reads the mapping and builds its part of the config with
        `build`; a key `build` did not ask for is still checked."""

        def run(issues: Issues, path: str, value: object) -> T | None:
            section = self.read(issues, path, value)
            if section is None:
                return None
            built = build(section)
            section.finish()
            return built

        return Check(run, self.json, name=self.name)

    def json(self) -> JSON:
        """The mapping's JSON Schema, its keys still Key objects (SchemaWriter expands them)."""
        body: JSON = {"type": "object"}
        if self.description:
            body["description"] = self.description
        body["additionalProperties"] = False
        body["properties"] = dict(self.keys)
        if self.required:
            body["required"] = list(self.required)
        return {**body, **self.rules}


class Section:
    """A mapping read through its Shape: each value is checked when first asked for,
    so the building code decides the order of the errors."""

    def __init__(self, shape: Shape, issues: Issues, path: str, raw: dict[Any, object]) -> None:
        values = {name: v for name, v in raw.items() if name in shape.keys}
        self.shape = shape
        self.issues = issues
        self.path = path
        self.values = values  # the known keys as written
        self.raw = raw  # the whole mapping as written, unknown keys too
        self._checked: dict[str, object] = {}
        self._reported: set[str] = set()

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def field(self, name: str) -> Any:
        """The checked value of `name`; its Key's default if absent; None if wrong (the
        error is recorded)."""
        declared = self.shape.keys[name]  # KeyError: a key the shape does not declare
        if name not in self.values:
            if self.shape.required_when_read:
                self.report_missing(name)
            return declared.default
        if name not in self._checked:
            place = key(self.path, name)
            self._checked[name] = declared.check(self.issues, place, self.values[name])
        return self._checked[name]

    def checked(self) -> dict[str, Any]:
        """`field` of every declared key, in declaration order: the keyword arguments
        of a model whose fields are named like the keys (`Limits(**section.checked())`),
        so that such a section takes a new key with no code."""
        return {name: self.field(name) for name in self.shape.keys}

    def written(self, name: str) -> Any:
        """Like `field`, but None for an absent key: what this mapping itself says,
        where a default applies only later (after `defaults.protect`, say)."""
        return self.field(name) if name in self.values else None

    def add(self, message: str, *, at: str | None = None) -> None:
        """Record an error about this mapping, or about its key `at`."""
        self.issues.add(key(self.path, at) if at else self.path, message)

    def report_missing(self, name: str) -> None:
        declared = self.shape.keys[name]
        if declared.required and name not in self.values and name not in self._reported:
            self._reported.add(name)
            self.issues.add(key(self.path, name), declared.missing)

    def finish(self) -> None:
        """Check what the building code did not ask for, so no key goes unchecked."""
        for name in self.shape.keys:
            if name in self.values:
                self.field(name)
            else:
                self.report_missing(name)


class SchemaWriter:
    """Expands Checks and Keys into JSON Schema; named checks go to `defs`."""

    def __init__(self) -> None:
        self.defs: dict[str, JSON] = {}
        self._named: dict[str, Check[Any]] = {}

    def check(self, check: Check[Any]) -> JSON:
        if check.name is None:
            return self._body(check)
        known = self._named.setdefault(check.name, check)
        if known is not check:
            raise ValueError(f"two different schemas are named {check.name!r}")
        if check.name not in self.defs:
            self.defs[check.name] = {}  # taken, in case the schema refers to itself
            self.defs[check.name] = self._body(check)
        return {"$ref": f"#/$defs/{check.name}"}

    def shape(self, shape: Shape) -> JSON:
        return self.json(shape.json())

    def json(self, node: JSON) -> JSON:
        expanded = self._value(node)
        assert isinstance(expanded, dict)
        return expanded

    def _body(self, check: Check[Any]) -> JSON:
        return self.json(check.schema() if callable(check.schema) else check.schema)

    def _value(self, node: object) -> object:
        if isinstance(node, Check):
            return self.check(node)
        if isinstance(node, Key):
            described: JSON = {**self.check(node.check), "description": node.description}
            if node.default is not None:
                described["default"] = node.default
            return described
        if isinstance(node, dict):
            return {name: self._value(value) for name, value in node.items()}
        if isinstance(node, list | tuple):
            return [self._value(value) for value in node]
        return node

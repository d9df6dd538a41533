"""The kinds of in-use source, one module each in this package.

Each module of this package declares its kind as a module-level `KIND = SourceKind(...)`:
its name in the policy file, its options (a Shape: option name, checker, description,
required or not), how the report names a source of that kind, and its reader. The
config validation, the JSON Schema and `InUseReader` all read `registered()`, so
adding a kind is adding one module here. Kind modules import no AWS library: a reader
gets the target's clients handed in.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from cleaner.config.model import Target
from cleaner.config.shape import Shape
from cleaner.core.references import Usage

# subprocess.run, or a stand-in for it in tests.
Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class TargetClients(Protocol):
    def for_target(self, service: str, target: Target, lane: str = "") -> Any: ...


@dataclass(frozen=True, slots=True)
class SourceRequest:
    """What a reader gets: the target, the source's options as the config parsed them
    (an absent option with a default has its default), the target's AWS clients and a
    subprocess runner."""

    target: Target
    options: Mapping[str, object]
    clients: TargetClients
    run: Runner


@dataclass(frozen=True, slots=True)
class SourceKind:
    """One kind of in-use source.

    `name`: how the policy file names it. `read`: every image reference the source
    sees, or an exception (the reader then fails closed). `options`: the options it
    takes; a kind none of whose options is required may be written as its bare name.
    `label`: how reports name a source from its options (default: the kind's name).
    `position`: where the kind comes in lists (messages, the schema); lower first.
    `unavailable`: why this installation cannot read the kind (an optional library
    not installed), or None; validation then refuses a policy that names it.
    """

    name: str
    description: str
    read: Callable[[SourceRequest], list[Usage]]
    options: Shape = field(default_factory=lambda: Shape({}))
    label: Callable[[Mapping[str, object]], str] | None = None
    position: int = 100
    unavailable: Callable[[], str | None] | None = None

    @property
    def bare_name_allowed(self) -> bool:
        return not self.options.required

    def why_unavailable(self) -> str | None:
        return self.unavailable() if self.unavailable else None

    def label_of(self, options: Mapping[str, object]) -> str:
        return self.label(options) if self.label else self.name

    def with_defaults(self, options: Mapping[str, object]) -> dict[str, object]:
        """`options` and the default of each option they leave out that has one."""
        declared = self.options.keys.items()
        return {name: k.default for name, k in declared if k.default is not None} | {**options}


@cache
def registered() -> tuple[SourceKind, ...]:
    """Every kind this package's modules declare, in their `position` order."""
    found: dict[str, SourceKind] = {}
    for module in pkgutil.iter_modules(__path__, f"{__name__}."):
        kind = getattr(importlib.import_module(module.name), "KIND", None)
        if not isinstance(kind, SourceKind):
            raise TypeError(f"{module.name} declares no KIND = SourceKind(...)")
        if kind.name in found:
            raise ValueError(f"two in-use source kinds are named {kind.name!r}")
        found[kind.name] = kind
    return tuple(sorted(found.values(), key=lambda k: (k.position, k.name)))


def named(name: object) -> SourceKind | None:
    """The registered kind called `name`, if any."""
    return next((k for k in registered() if k.name == name), None)

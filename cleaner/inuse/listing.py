"""What `ecr-cleaner in-use` saw: every source's references and what each resolves to.

Its JSON form is also an input: the `file` source reads it back (every reference with
its workload), so a view taken where a cluster or account can be reached protects
images in a registry cleaned from somewhere else. A listing in which any source or
target failed is refused as input: it is not the whole truth, and fails closed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cleaner.core.model import Inventory, RepositoryRef
from cleaner.core.references import (
    ImageReference,
    Usage,
    describe_workloads,
    named_digest,
    parse_reference,
    tags_of,
)

FORMAT = "ecr-cleaner in-use"
VERSION = 1
NOT_HERE = "not in this registry"
SHORT = len("sha256:") + 12


class ListingError(Exception):
    """A JSON file that is not a complete in-use listing; the message says why."""


@dataclass(frozen=True, slots=True)
class Entry:
    reference: str
    workload: str
    repository: str | None  # None: not in this registry (`note` says why)
    digest: str | None
    note: str = ""

    @property
    def resolves_to(self) -> str:
        return f"{self.repository}@{self.digest}" if self.repository else f"{NOT_HERE}: {self.note}"


@dataclass
class SourceView:
    source: str  # as reports name it: `kubernetes (contexts prod)`
    kind: str
    error: str | None = None
    entries: list[Entry] = field(default_factory=list)


@dataclass
class TargetView:
    region: str
    registry_id: str | None
    error: str | None = None
    sources: list[SourceView] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.region}/{self.registry_id or 'default registry'}"


def failed(targets: Iterable[TargetView]) -> list[str]:
    """`target: error` for every target or source that could not be read."""
    problems = []
    for target in targets:
        if target.error:
            problems.append(f"{target.name}: {target.error}")
        problems += [f"{target.name}: {s.error}" for s in target.sources if s.error]
    return problems


# -- resolution -----------------------------------------------------------------------


class Resolver:
    """Resolves references against one registry: its repositories' names and the
    inventories of the ones that references name (as a run would see them)."""

    def __init__(
        self,
        registry_id: str,
        region: str,
        names: Iterable[str],
        inventories: Mapping[str, Inventory],
    ) -> None:
        self.registry_id = registry_id
        self.region = region
        self.names = set(names)
        self.inventories = inventories
        self._tags = {name: tags_of(inv) for name, inv in inventories.items()}

    def wanted(self, refs: Iterable[ImageReference]) -> set[str]:
        """The repositories whose inventories resolving `refs` needs (all for a bare
        digest, which names an image in whichever repository holds it)."""
        names: set[str] = set()
        for ref in refs:
            if ref.repository is None:
                return set(self.names)
            if ref.repository in self.names and ref.names_repository(self._ref(ref.repository)):
                names.add(ref.repository)
        return names

    def entries(self, usage: Usage) -> list[Entry]:
        ref, text, workload = usage.reference, usage.reference.text, usage.workload
        if ref.repository is None:
            found = [
                Entry(text, workload, name, digest)
                for name in sorted(self.inventories)
                if (digest := named_digest(ref, self.inventories[name], self._tags[name]))
            ]
            return found or [Entry(text, workload, None, None, f"no image {ref.digest}")]
        if not ref.names_repository(self._ref(ref.repository)):
            return [Entry(text, workload, None, None, f"another registry ({ref.registry})")]
        inventory = self.inventories.get(ref.repository)
        if ref.repository not in self.names or inventory is None:
            return [Entry(text, workload, None, None, f"no repository {ref.repository}")]
        digest = named_digest(ref, inventory, self._tags[ref.repository])
        if digest is None:
            missing = f"no image {ref.digest}" if ref.digest else f"no tag {ref.tag}"
            return [Entry(text, workload, None, None, f"{missing} in {ref.repository}")]
        return [Entry(text, workload, ref.repository, digest)]

    def _ref(self, name: str) -> RepositoryRef:
        return RepositoryRef(self.region, self.registry_id, name)


# -- output ---------------------------------------------------------------------------


def to_json(targets: Sequence[TargetView]) -> str:
    document = {
        "format": FORMAT,
        "version": VERSION,
        "targets": [
            {
                "target": t.name,
                "region": t.region,
                "registry_id": t.registry_id,
                "error": t.error,
                "sources": [
                    {
                        "source": s.source,
                        "kind": s.kind,
                        "error": s.error,
                        "references": [
                            {
                                "reference": e.reference,
                                "workload": e.workload,
                                "repository": e.repository,
                                "digest": e.digest,
                                "resolves_to": e.resolves_to,
                            }
                            for e in s.entries
                        ],
                    }
                    for s in t.sources
                ],
            }
            for t in targets
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def to_table(targets: Sequence[TargetView]) -> str:
    """Per target and source, one row per reference and what it resolves to, with the
    workloads that use it (a few by name: a cluster may run one image in many pods)."""
    lines: list[str] = []
    for target in targets:
        lines.append(
            f"target {target.name}" + (f": FAILED: {target.error}" if target.error else "")
        )
        for source in target.sources:
            if source.error:
                lines.append(f"  {source.source}: FAILED: {source.error}")
                continue
            rows = _rows(source.entries)
            lines.append(f"  {source.source}: {_count(len(rows), 'reference')}")
            if rows:
                rows.insert(0, ("REFERENCE", "RESOLVES TO", "USED BY"))
                widths = [max(len(r[i]) for r in rows) for i in (0, 1)]
                lines.extend(
                    f"    {a:<{widths[0]}}  {b:<{widths[1]}}  {c}".rstrip() for a, b, c in rows
                )
        lines.append("")
    problems = failed(targets)
    lines.append(f"{_count(len(problems), 'source')} failed" if problems else "every source read")
    return "\n".join(lines) + "\n"


def _rows(entries: Sequence[Entry]) -> list[tuple[str, str, str]]:
    by_reference: dict[tuple[str, str], set[str]] = {}
    for entry in entries:
        # The digest shortened as `docker images` does (the JSON has it whole).
        to = (
            f"{entry.repository}@{entry.digest[:SHORT]}"
            if entry.repository and entry.digest
            else entry.resolves_to
        )
        by_reference.setdefault((entry.reference, to), set()).add(entry.workload)
    return [(ref, to, describe_workloads(names)) for (ref, to), names in by_reference.items()]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# -- as input of the `file` source -----------------------------------------------------


def is_listing(text: str) -> bool:
    """A reference list never starts with `{`; a JSON listing does."""
    return text.lstrip().startswith("{")


def usages_from_listing(text: str, origin: str) -> list[Usage]:
    """Every (reference, workload) of a complete listing, named as coming from
    `origin`; raises ListingError for anything else."""
    try:
        document: Any = json.loads(text)
    except ValueError as exc:
        raise ListingError(f"not valid JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ListingError(f"JSON, but not the output of `{FORMAT} --format json`")
    if document.get("version") != VERSION:
        raise ListingError(f"listing version {document.get('version')!r}; this reads {VERSION}")
    try:
        targets = [_target(raw) for raw in document["targets"]]
        problems = failed(targets)
        if problems:
            raise ListingError(f"incomplete: {problems[0]}")
        pairs = {
            (e["reference"], e["workload"]): None
            for raw in document["targets"]
            for source in raw["sources"]
            for e in source["references"]
        }
        usages = []
        for reference, workload in pairs:
            if not isinstance(reference, str) or not isinstance(workload, str):
                raise ListingError(f"malformed listing: {reference!r} ({workload!r}) is not text")
            usages.append(Usage(parse_reference(reference), f"{workload}, listed in {origin}"))
        return usages
    except (KeyError, TypeError) as exc:
        raise ListingError(f"malformed listing: missing or wrong {exc}") from None
    except ValueError as exc:
        raise ListingError(str(exc)) from None


def _target(raw: Mapping[str, Any]) -> TargetView:
    sources = [SourceView(s["source"], s["kind"], s["error"]) for s in raw["sources"]]
    return TargetView(raw["region"], raw["registry_id"], raw["error"], sources)

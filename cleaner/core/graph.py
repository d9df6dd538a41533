"""Which images of a repository belong to which: index -> children, referrer -> subject.

Rules only ever see top-level images; everything else shares the fate of its owners
(docs/semantics.md#units-top-level-images-and-what-belongs-to-them). Pure: no AWS,
no clock.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Container, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from cleaner.core.model import Image, Inventory

# cosign's default (non-OCI-1.1) layout: the subject's digest, spelled as a tag.
COSIGN_TAG = re.compile(r"sha256-([0-9a-f]{64})\.(?:sig|att|sbom)")
_COSIGN_PREFIX = "sha256-"


class EdgeKind(StrEnum):
    CHILD = "child"  # the owner is an index that lists this image
    REFERRER = "referrer"  # the owner is the subject this image signs / describes


@dataclass(frozen=True, slots=True)
class Graph:
    """Edges between images present in one repository; every tuple is sorted."""

    owners: Mapping[str, tuple[str, ...]]  # digest -> indexes listing it, subjects it refers to
    dependents: Mapping[str, tuple[str, ...]]  # digest -> its children and referrers
    kinds: Mapping[tuple[str, str], EdgeKind]  # (owner, dependent) -> kind of edge
    top_level: tuple[str, ...]
    # Top-level images that name a subject which is not in the repository.
    orphaned_referrers: Mapping[str, tuple[str, ...]]  # digest -> absent subjects

    def is_top_level(self, digest: str) -> bool:
        return not self.owners.get(digest)


class Dependent(NamedTuple):  # a tuple: one is made for every dependent that dies
    """A non-top-level image whose every owner dies: it dies too, after `parent`."""

    digest: str
    parent: str  # the owner that names it (the deepest one, so phases stay ordered)
    root: str  # the top-level deletion it ultimately follows (whose rule it inherits)
    depth: int  # 1 for a direct child or referrer, 2 for a referrer of a child, ...
    kind: EdgeKind  # how `parent` names it


@dataclass(frozen=True, slots=True)
class Fallout:
    dying: Mapping[str, Dependent]
    # Protected dependents whose owners all die: they survive as new top-level images.
    spared: Mapping[str, Dependent]


def subjects_of(image: Image) -> tuple[str, ...]:
    """Every subject digest an image names, via OCI `subject` or cosign-style tags."""
    cosign = [t for t in image.tags if t.startswith(_COSIGN_PREFIX)]  # cheap test first
    if not cosign and not image.subject:
        return ()
    found = {image.subject} if image.subject else set()
    for tag in cosign:
        match = COSIGN_TAG.fullmatch(tag)
        if match:
            found.add(f"sha256:{match.group(1)}")
    found.discard(image.digest)  # a manifest cannot name itself; never make a self-loop
    return tuple(sorted(found))


def build_graph(inventory: Inventory) -> Graph:
    images = inventory.images
    kinds: dict[tuple[str, str], EdgeKind] = {}
    for index in sorted(inventory.index_children):
        if index not in images:
            continue
        for child in inventory.index_children[index]:
            if child in images and child != index:
                kinds[(index, child)] = EdgeKind.CHILD
    absent: dict[str, tuple[str, ...]] = {}
    ordered = sorted(images)
    for digest in ordered:
        image = images[digest]
        # Most images name no subject; a cheap test that no tag can start like a cosign one.
        if not image.subject and _COSIGN_PREFIX not in "".join(image.tags):
            continue
        subjects = subjects_of(image)
        for subject in subjects:
            if subject in images:
                # An image both listed by and referring to the same owner is its child.
                kinds.setdefault((subject, digest), EdgeKind.REFERRER)
        missing = tuple(s for s in subjects if s not in images)
        if missing:
            absent[digest] = missing

    owners: dict[str, list[str]] = {}
    dependents: dict[str, list[str]] = {}
    for owner, dependent in sorted(kinds):
        owners.setdefault(dependent, []).append(owner)
        dependents.setdefault(owner, []).append(dependent)
    top_level = tuple(d for d in ordered if d not in owners)
    return Graph(
        owners={d: tuple(o) for d, o in owners.items()},
        dependents={d: tuple(c) for d, c in dependents.items()},
        kinds=kinds,
        top_level=top_level,
        # A referrer with one present and one absent subject lives with the present one.
        orphaned_referrers={d: subjects for d, subjects in absent.items() if d not in owners},
    )


def fallout(
    graph: Graph, deleted: Collection[str], protected: Container[str] = frozenset()
) -> Fallout:
    """Every dependent that dies with `deleted` (top-level digests), transitively.

    A dependent dies only when all of its owners die, so a child shared by a kept and
    a deleted index survives. A `protected` dependent survives, and so then does
    everything it owns.
    """
    depth = dict.fromkeys(deleted, 0)
    roots = {d: d for d in deleted}
    dying: dict[str, Dependent] = {}
    spared: dict[str, Dependent] = {}
    queue = deque(sorted(deleted))
    while queue:
        owner = queue.popleft()
        for digest in graph.dependents.get(owner, ()):
            if digest in depth or digest in spared:
                continue
            owners = graph.owners[digest]
            if len(owners) == 1:
                parent = owner
            elif all(o in depth for o in owners):
                parent = min(owners, key=lambda o: (-depth[o], o))
            else:
                continue
            dependent = Dependent(
                digest, parent, roots[parent], depth[parent] + 1, graph.kinds[(parent, digest)]
            )
            if digest in protected:
                spared[digest] = dependent
                continue
            depth[digest] = dependent.depth
            roots[digest] = dependent.root
            dying[digest] = dependent
            queue.append(digest)
    return Fallout(dying=dying, spared=spared)

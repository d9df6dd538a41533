"""Image references and the images of an inventory they name (docs/in-use.md).

A reference is `[registry/]repository[:tag][@digest]`, the way Docker, containerd and
Kubernetes write them. It names the digest it carries, or else the digest its tag
points to in the inventory. Pure, like the planner: the in-use sources (cleaner.inuse.reader)
read references; this module decides which images they protect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cleaner.core.model import Inventory, RepositoryRef

DEFAULT_TAG = "latest"
MAX_WORKLOADS_NAMED = 3
# ECR registry hosts in every partition, FIPS and dual-stack endpoints included.
ECR_HOST = re.compile(
    r"(?P<account>[0-9]{12})\.dkr[.-]ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\."
    r"(?:amazonaws\.com(?:\.cn)?|on\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov)"
)
DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}")
TAG = re.compile(r"\w[\w.-]{0,299}", re.ASCII)  # ECR allows 300 characters, Docker 128
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REPOSITORY = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")


@dataclass(frozen=True, slots=True)
class ImageReference:
    text: str  # as the source wrote it
    registry: str | None  # host[:port], lowercase; None: any registry
    repository: str | None  # None: a bare digest, which names that image wherever it is
    tag: str | None
    digest: str | None

    @property
    def ecr(self) -> tuple[str, str] | None:
        """(account, region) of an ECR registry host; None for any other registry."""
        match = ECR_HOST.fullmatch(self.registry or "")
        return (match["account"], match["region"]) if match else None

    def names_repository(self, repository: RepositoryRef) -> bool:
        """Whether this reference can name an image of `repository`: same name, and the
        same account and region when it gives a registry (another registry: never)."""
        if self.repository is None:
            return True
        if self.repository != repository.name:
            return False
        return self.registry is None or self.ecr == (repository.registry_id, repository.region)


def parse_reference(text: str) -> ImageReference:
    """Raise ValueError saying what is wrong with `text`."""
    raw = text.strip()
    # Kubernetes' status.containerStatuses[].imageID: docker-pullable://repo@sha256:...
    raw = raw.split("://", 1)[1] if "://" in raw else raw
    if DIGEST.fullmatch(raw):
        return ImageReference(text, None, None, None, raw)
    name, at, digest = raw.partition("@")
    if at and not DIGEST.fullmatch(digest):
        raise ValueError(f"{text!r}: {digest!r} is not a digest like sha256:<hex>")
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1 :]
        if not TAG.fullmatch(tag):
            raise ValueError(f"{text!r}: {tag!r} is not a valid tag")
    registry = None
    first, slash, rest = name.partition("/")
    # Docker's rule: the first component is a registry host if it looks like one.
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, name = first.lower(), rest
    if not REPOSITORY.fullmatch(name):
        raise ValueError(f"{text!r}: {name!r} is not a valid repository name")
    if tag is None and not at:
        tag = DEFAULT_TAG  # what a pull of a bare name fetches
    return ImageReference(text, registry, name, tag, digest if at else None)


@dataclass(frozen=True, slots=True)
class Usage:
    """One workload's use of one image reference."""

    reference: ImageReference
    workload: str  # "ecs task arn:... (cluster prod)", "lambda my-fn:3", ...


class UsageIndex:
    """A target's usages by repository name, built once so that each repository only
    looks at the references that can name its images."""

    def __init__(self, usages: Iterable[Usage]) -> None:
        self._by_name: dict[str | None, list[Usage]] = {}
        for usage in usages:
            self._by_name.setdefault(usage.reference.repository, []).append(usage)

    def __len__(self) -> int:
        return sum(len(u) for u in self._by_name.values())

    def candidates(self, repository: RepositoryRef) -> list[Usage]:
        found = self._by_name.get(repository.name, []) + self._by_name.get(None, [])
        return [u for u in found if u.reference.names_repository(repository)]


def tags_of(inventory: Inventory) -> dict[str, str]:
    """tag → digest, as the inventory lists them."""
    return {tag: digest for digest, image in inventory.images.items() for tag in image.tags}


def named_digest(
    ref: ImageReference, inventory: Inventory, by_tag: Mapping[str, str]
) -> str | None:
    """The image of `inventory` that `ref` names (its digest, else its tag's), if any;
    `by_tag` is tags_of(inventory). The caller checks names_repository first."""
    digest = ref.digest or by_tag.get(ref.tag or "")
    return digest if digest is not None and digest in inventory.images else None


def resolve_in_use(inventory: Inventory, usages: UsageIndex) -> dict[str, str]:
    """digest → the workloads that use it, for the images of `inventory` that the
    usages name. Tags are resolved against the inventory (the registry as listed)."""
    by_tag = tags_of(inventory)
    workloads: dict[str, set[str]] = {}
    for usage in usages.candidates(inventory.repository):
        digest = named_digest(usage.reference, inventory, by_tag)
        if digest is not None:
            workloads.setdefault(digest, set()).add(usage.workload)
    return {digest: describe_workloads(names) for digest, names in workloads.items()}


def describe_workloads(names: Iterable[str]) -> str:
    """A few workloads by name, then how many more: a reason stays one readable line."""
    ordered = sorted(set(names))
    shown = "; ".join(ordered[:MAX_WORKLOADS_NAMED])
    more = len(ordered) - MAX_WORKLOADS_NAMED
    return f"{shown}; and {more} more" if more > 0 else shown

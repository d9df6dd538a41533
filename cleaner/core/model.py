"""Plain data that flows between modules: inventory in, plan and results out."""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """Pickle instances as (class, field values). A run's worker processes send their
    plans back this way (limits.processes); a slots dataclass's own pickling looks its
    fields up again for every object: a plan of 1,000 images pickled 3x slower and
    unpickled 1.8x slower."""
    values: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*cls.__slots__)  # type: ignore[attr-defined]
    setattr(cls, "__reduce__", lambda self: (cls, values(self)))  # noqa: B010
    return cls


INDEX_MEDIA_TYPES = frozenset(
    {
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.index.v1+json",
    }
)


@pickled_by_fields
@dataclass(frozen=True, slots=True, order=True)
class RepositoryRef:
    region: str
    registry_id: str
    name: str

    def __str__(self) -> str:
        return f"{self.registry_id}/{self.region}/{self.name}"


class ImageStatus(StrEnum):
    """ECR's imageStatus: standard storage, archive storage, or being restored."""

    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"
    ACTIVATING = "ACTIVATING"


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard `index` of `count`: each repository belongs to exactly one, by a hash of its
    registry, region and name, so it stays in its shard from run to run (while the
    count stays the same)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, repository: RepositoryRef) -> bool:
        return shard_of(repository, self.count) == self.index


def shard_of(repository: RepositoryRef, count: int) -> int:
    # sha256, not hash(): Python salts str hashes per process, and every process of a
    # sharded run must compute the same partition.
    key = f"{repository.registry_id}/{repository.region}/{repository.name}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % count


@dataclass(frozen=True, slots=True)
class Image:
    """One image as DescribeImages reports it. A restored image counts as pushed when
    it was restored (ECR: it behaves like a new push)."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime
    last_pulled: datetime | None = None
    size: int = 0
    media_type: str = "application/vnd.docker.distribution.manifest.v2+json"
    artifact_media_type: str | None = None
    subject: str | None = None  # subjectManifestDigest of an OCI referrer
    status: ImageStatus = ImageStatus.ACTIVE
    archived_at: datetime | None = None  # lastArchivedAt

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES

    @property
    def last_used(self) -> datetime:
        """Last pull, or push if never pulled: what `not_pulled_for` and `pulled` order by."""
        return self.last_pulled or self.pushed_at


@dataclass(frozen=True, slots=True)
class Inventory:
    """The images of one repository (every ACTIVE one, and the others when a policy asks
    for them), with the children of each index whose manifest could be read."""

    repository: RepositoryRef
    images: Mapping[str, Image]
    index_children: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


class ActionKind(StrEnum):
    DELETE_IMAGE = "delete_image"
    REMOVE_TAG = "remove_tag"
    ARCHIVE_IMAGE = "archive_image"  # UpdateImageStorageClass(ARCHIVE): reversible


class Status(StrEnum):
    PLANNED = "planned"
    DELETED = "deleted"
    ARCHIVED = "archived"
    SKIPPED = "skipped"
    FAILED = "failed"


def stopped_by(cause: str) -> str:
    """How a report says what ended the work early: a signal's name, or a limit."""
    return f"stopped by {cause}"


class SkipKind(StrEnum):
    """Why a planned action was skipped (the wording is `SkipReason`'s)."""

    STOPPED = "stopped"  # a stop request (SIGTERM, SIGINT, serve's shutdown)
    LIMIT = "limit"  # limits.max_deletions: the run deleted nothing
    REPOSITORY_FAILED = "repository_failed"  # the repository failed unexpectedly
    AFTER_ERROR = "after_error"  # an error ended the repository's deletions first
    IMAGE_GONE = "image_gone"  # changed since inventory: deleted meanwhile
    TAGS_CHANGED = "tags_changed"  # changed since inventory: tagged or untagged meanwhile
    STILL_REFERENCED = "still_referenced"  # an index still refers to it
    PARENT_NOT_DELETED = "parent_not_deleted"  # the index or subject it follows stays
    PARENT_NOT_ARCHIVED = "parent_not_archived"  # the same, for an archive action
    STORAGE_CHANGED = "storage_changed"  # changed since inventory: archived or restored

    @property
    def not_attempted(self) -> bool:
        """The action was never tried: nothing about the image itself stopped it."""
        return self in _NOT_ATTEMPTED


_NOT_ATTEMPTED = frozenset(
    {SkipKind.STOPPED, SkipKind.LIMIT, SkipKind.REPOSITORY_FAILED, SkipKind.AFTER_ERROR}
)
# The report's wording of each kind; `{}` takes the reason's detail.
_SKIP_TEXT = {
    SkipKind.STOPPED: "not attempted: " + stopped_by("{}"),
    SkipKind.LIMIT: "not attempted: " + stopped_by("limits.max_deletions"),
    SkipKind.REPOSITORY_FAILED: "not attempted: the repository failed",
    SkipKind.AFTER_ERROR: "not attempted",
    SkipKind.IMAGE_GONE: "changed since inventory: image gone",
    SkipKind.TAGS_CHANGED: "changed since inventory: tags now {}",
    SkipKind.STILL_REFERENCED: "still referenced by an index",
    SkipKind.PARENT_NOT_DELETED: "parent {} was not deleted",
    SkipKind.PARENT_NOT_ARCHIVED: "parent {} was not archived",
    SkipKind.STORAGE_CHANGED: "changed since inventory: {}",
}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SkipReason:
    """Why an action was skipped, as a value; str() is the report's and logs' wording."""

    kind: SkipKind
    # STOPPED: the stop's cause (SIGTERM, ...); TAGS_CHANGED: the tags now ("none" if
    # untagged); PARENT_NOT_DELETED, PARENT_NOT_ARCHIVED: the parent's digest;
    # STORAGE_CHANGED: what changed (as the archive steps word it).
    detail: str = ""

    def __str__(self) -> str:
        return _SKIP_TEXT[self.kind].format(self.detail)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Action:
    """One planned change: delete or archive an image (by digest), or remove some of its
    tags (by tag).

    `phase` orders deletion: 0 for top-level images and tag removals, n+1 for the
    children and referrers of what is deleted in phase n, so parents go first.
    """

    kind: ActionKind
    digest: str
    tags: tuple[str, ...]
    rule: str
    reason: str
    size_bytes: int
    phase: int = 0
    status: Status = Status.PLANNED
    failure_code: str | None = None
    # Deleted (archived) images whose deletion (archiving) this one follows (an index, a
    # signed subject): if one of them is not gone, this one is not touched either.
    parents: tuple[str, ...] = ()
    # When the image was pushed, for the HTML report's ages; not part of the decision,
    # so not of an action's identity either.
    pushed_at: datetime | None = field(default=None, compare=False)
    # What the inventory saw, for the re-check just before the call (tags: `tags`).
    seen_status: ImageStatus = ImageStatus.ACTIVE
    seen_pulled: datetime | None = None
    # Why a SKIPPED action was skipped; `reason` ends with its wording.
    skip: SkipReason | None = None

    def skipped(self, why: SkipReason) -> Action:
        return replace(self, status=Status.SKIPPED, skip=why, reason=f"{self.reason}; {why}")


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Kept:
    digest: str
    tags: tuple[str, ...]
    reason: str
    # For the HTML report (ages, sizes): facts about the image, not part of the decision.
    pushed_at: datetime | None = field(default=None, compare=False)
    size_bytes: int | None = field(default=None, compare=False)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class RepositoryPlan:
    repository: RepositoryRef
    policy: str | None
    images_scanned: int
    actions: tuple[Action, ...] = ()
    kept: tuple[Kept, ...] = ()
    # Why the repository was not (fully) processed: a failure, or a safety limit.
    error: str | None = None
    # True when `error` is a failure (AWS error, unreadable manifest), not a limit.
    failed: bool = False
    # The entry stands for a whole target whose repositories could not be listed (its
    # name is "*"): reported as a failed target, not counted as a repository.
    whole_target: bool = False
    # Things the operator must know that are not actions (an archived image in use).
    warnings: tuple[str, ...] = ()

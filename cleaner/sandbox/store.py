"""The sandbox's registry state, indexed so that every per-image operation is O(1).

moto keeps images in a list and scans it per id (O(n^2) for a batch). Here each
repository keeps: images by digest, tags by name, index parents by child digest, and
an append-only push order for stable, cheap `nextToken` paging.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cleaner.sandbox.manifests import INDEX_MEDIA_TYPES


@dataclass(slots=True)
class StoredImage:
    digest: str
    manifest: str
    media_type: str
    artifact_media_type: str | None
    subject: str | None
    children: tuple[str, ...]
    size: int
    pushed_at: datetime
    last_pull: datetime | None = None
    status: str = "ACTIVE"  # ACTIVE, ARCHIVED or ACTIVATING (being restored)
    tags: list[str] = field(default_factory=list)
    seq: int = 0
    archived_at: datetime | None = None  # lastArchivedAt
    activated_at: datetime | None = None  # lastActivatedAt
    activating_until: datetime | None = None  # when ACTIVATING becomes ACTIVE

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_MEDIA_TYPES


@dataclass
class StoredRepository:
    name: str
    registry_id: str
    region: str
    created_at: datetime
    tag_mutability: str = "MUTABLE"
    images: dict[str, StoredImage] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # child digest -> digests of indexes in this repository that list it
    parents: dict[str, set[str]] = field(default_factory=dict)
    # (seq, digest) in push order; entries of deleted images are skipped when read
    order: list[tuple[int, str]] = field(default_factory=list)
    _next_seq: int = 0
    seeded: int = 0  # images the seeding API made here (their manifests' nonce)
    lifecycle_policy: str | None = None  # PutLifecyclePolicy's text, as given

    @property
    def arn(self) -> str:
        return f"arn:aws:ecr:{self.region}:{self.registry_id}:repository/{self.name}"

    @property
    def uri(self) -> str:
        return f"{self.registry_id}.dkr.ecr.{self.region}.amazonaws.com/{self.name}"

    def add(self, image: StoredImage) -> None:
        """Store a new image (its digest must be absent) and index its children."""
        image.seq = self._next_seq
        self._next_seq += 1
        self.images[image.digest] = image
        self.order.append((image.seq, image.digest))
        for child in image.children:
            self.parents.setdefault(child, set()).add(image.digest)
        for tag in list(image.tags):
            image.tags.remove(tag)
            self.set_tag(tag, image.digest)

    def set_tag(self, tag: str, digest: str) -> None:
        """Point `tag` at `digest`; like ECR, the previous image only loses the tag."""
        previous = self.tags.get(tag)
        if previous == digest:
            return
        if previous is not None:
            self.images[previous].tags.remove(tag)
        self.tags[tag] = digest
        self.images[digest].tags.append(tag)

    def remove_tag(self, tag: str) -> StoredImage:
        digest = self.tags.pop(tag)
        image = self.images[digest]
        image.tags.remove(tag)
        return image

    def remove(self, digest: str) -> StoredImage:
        image = self.images.pop(digest)
        for tag in image.tags:
            del self.tags[tag]
        for child in image.children:
            owners = self.parents.get(child)
            if owners is not None:
                owners.discard(digest)
                if not owners:
                    del self.parents[child]
        return image

    def referenced_by_index(self, digest: str) -> bool:
        return bool(self.parents.get(digest))

    def iter_from(self, seq: int) -> Iterator[StoredImage]:
        """Images in push order, starting with push number `seq`.

        Paging tokens hold push numbers, not list positions, so they stay valid when
        `compact` shortens the list between two pages."""
        order = self.order
        for index in range(bisect.bisect_left(order, (seq, "")), len(order)):
            entry_seq, digest = order[index]
            image = self.images.get(digest)
            if image is not None and image.seq == entry_seq:
                yield image

    def compact(self) -> None:
        """Drop the order entries of deleted images (keeps paging O(page) after mass deletes)."""
        self.order = [(s, d) for s, d in self.order if (i := self.images.get(d)) and i.seq == s]


def _utcnow() -> datetime:
    return datetime.now(UTC)


# ECR restores an archived image "within about 20 minutes".
RESTORE_DELAY = timedelta(minutes=20)


class Store:
    """All registries of the sandbox, keyed by (account, region) then repository name."""

    def __init__(self, clock: Callable[[], datetime] = _utcnow) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        # When true, BatchGetImage records a pull, as ECR can for manifest reads.
        self.record_pulls_on_get = False
        # digest or tag -> failure code that BatchDeleteImage reports for it (e.g.
        # KmsError, ImageInaccessible): failures ECR can give that no state produces.
        self.delete_failures: dict[str, str] = {}
        # How long a restored image stays ACTIVATING, on `clock`.
        self.restore_delay = RESTORE_DELAY
        self._registries: dict[tuple[str, str], dict[str, StoredRepository]] = {}
        # Restores in progress, soonest done first: each call looks at the first only.
        self._activating: list[tuple[datetime, int, StoredRepository, StoredImage]] = []
        self._restores = itertools.count()

    def reset(self) -> None:
        with self.lock:
            self._registries.clear()
            self.delete_failures.clear()
            self.record_pulls_on_get = False
            self.restore_delay = RESTORE_DELAY
            self._activating.clear()

    def archive(self, image: StoredImage) -> None:
        image.status = "ARCHIVED"
        image.archived_at = self.clock()

    def restore(self, repo: StoredRepository, image: StoredImage) -> None:
        """Start restoring an archived image: ACTIVATING until `restore_delay` has passed."""
        image.status = "ACTIVATING"
        until = image.activating_until = self.clock() + self.restore_delay
        heapq.heappush(self._activating, (until, next(self._restores), repo, image))
        self.settle()

    def settle(self) -> None:
        """Finish the restores whose delay has passed on `clock` (each call looks first)."""
        if not self._activating or self._activating[0][0] > self.clock():
            return
        now = self.clock()
        while self._activating and self._activating[0][0] <= now:
            until, _, repo, image = heapq.heappop(self._activating)
            if image.activating_until != until or repo.images.get(image.digest) is not image:
                continue  # deleted, or restored again, meanwhile
            image.status, image.activated_at, image.activating_until = "ACTIVE", until, None

    def registry(self, account: str, region: str) -> dict[str, StoredRepository]:
        return self._registries.setdefault((account, region), {})

    def repository(self, account: str, region: str, name: str) -> StoredRepository | None:
        return self._registries.get((account, region), {}).get(name)

    def create_repository(
        self, account: str, region: str, name: str, *, tag_mutability: str = "MUTABLE"
    ) -> StoredRepository:
        repo = StoredRepository(name, account, region, self.clock(), tag_mutability)
        self.registry(account, region)[name] = repo
        return repo

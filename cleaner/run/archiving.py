"""Archive actions: one UpdateImageStorageClass(ARCHIVE) per image, with deletion's safety.

ECR has no batch form, so an archive costs one call per image where a deletion costs a
hundredth of one. Images go in groups of at most 100: one DescribeImages re-checks the
group just before its calls, which then run on a small thread pool (limits.concurrency
calls at once, each paced by the registry's limiter). Dry-run replaces only the call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from cleaner.aws.ecr import BATCH_SIZE, Registry
from cleaner.core.model import (
    Action,
    ActionKind,
    Image,
    ImageStatus,
    RepositoryPlan,
    SkipKind,
    SkipReason,
    Status,
)
from cleaner.errors import error_code, error_message

ARCHIVE = "ARCHIVE"
CHANGED = "changed since inventory"
# Errors that concern one image; any other error (denied, throttled after every retry,
# unreachable) stops the repository, as a failed BatchDeleteImage does.
PER_IMAGE_ERRORS = frozenset(
    {
        "ImageNotFoundException",
        "InvalidParameterException",
        "ImageStorageClassUpdateNotSupportedException",
        "ValidationException",
    }
)


class Pending(Protocol):
    index: int  # position in the plan's actions
    action: Action


@dataclass(frozen=True, slots=True)
class Moved:
    """One call's outcome: the image's new status, or the error ECR gave for it."""

    status: str | None
    code: str | None = None
    message: str | None = None


def storage_change(action: Action, image: Image) -> str | None:
    """How the image changed since inventory, beyond its tags (None: it did not).

    An index's own pull time is not compared: reading its manifest, which planning
    must do, can count as a pull. Its children and referrers are compared instead."""
    if image.status is not action.seen_status:
        return f"now {image.status}"
    pulled = image.last_pulled
    if (
        action.kind is ActionKind.ARCHIVE_IMAGE
        and not image.is_index
        and pulled != action.seen_pulled
    ):
        return f"pulled at {pulled.isoformat() if pulled else 'an unknown time'}"
    return None


def dependents(actions: Sequence[Action]) -> dict[str, list[int]]:
    """Archived image -> positions of the archive actions that follow it, transitively."""
    direct: dict[str, list[int]] = {}
    for i, action in enumerate(actions):
        if action.kind is ActionKind.ARCHIVE_IMAGE:
            for parent in action.parents:
                direct.setdefault(parent, []).append(i)

    def walk(digest: str, seen: set[int]) -> Iterator[int]:
        for i in direct.get(digest, ()):
            if i not in seen:
                seen.add(i)
                yield i
                yield from walk(actions[i].digest, seen)

    return {digest: list(walk(digest, set())) for digest in direct}


class ArchiveSteps:
    """The archive half of one repository's execution (mixed into the executor's)."""

    plan: RepositoryPlan
    registry: Registry
    expected: Mapping[str, tuple[str, ...]]
    dry_run: bool
    results: list[Action]
    in_flight: Sequence[Any]
    _pool: ThreadPoolExecutor | None = None
    _followers: dict[str, list[int]] | None = None

    def _finish(
        self, item: Any, status: Status, code: str | None, note: str | SkipReason | None
    ) -> None:
        raise NotImplementedError

    def _unchanged(self, item: Any, image: Image | None) -> bool:
        raise NotImplementedError

    def _stopping(self, items: Sequence[Any]) -> bool:
        raise NotImplementedError

    def _run_archives(self, items: Sequence[Pending]) -> None:
        for start in range(0, len(items), BATCH_SIZE):
            self._archive_group(items[start : start + BATCH_SIZE])

    def _close_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _archive_group(self, group: Sequence[Pending]) -> None:
        if self._stopping(group):
            return
        if self._followers is None:
            self._followers = dependents(self.plan.actions)
        followers = self._followers
        watched = [
            self.results[i].digest for p in group for i in followers.get(p.action.digest, ())
        ]
        digests = list(dict.fromkeys([p.action.digest for p in group] + watched))
        current: dict[str, Image] = {}
        for start in range(0, len(digests), BATCH_SIZE):
            current.update(
                self.registry.describe(
                    self.plan.repository.name, digests[start : start + BATCH_SIZE]
                )
            )
        verified = [
            p
            for p in group
            if self._unchanged(p, current.get(p.action.digest)) and self._unit_unchanged(p, current)
        ]
        if not verified:
            return
        self.in_flight = verified
        outcomes, error = self._move_all([p.action.digest for p in verified])
        for item in verified:
            if item.action.digest in outcomes:
                self._record_move(item, outcomes[item.action.digest])
        if error is not None:
            self.in_flight = [p for p in verified if p.action.digest not in outcomes]
            raise error
        self.in_flight = ()

    def _unit_unchanged(self, item: Pending, current: Mapping[str, Image]) -> bool:
        """An image is archived only if what follows it (an index's children, a subject's
        referrers) is unchanged too: a pull of a multi-arch image shows on its children."""
        assert self._followers is not None
        for i in self._followers.get(item.action.digest, ()):
            follower = self.results[i]
            image = current.get(follower.digest)
            if image is None:
                change: str | None = "gone"
            elif set(image.tags) != set(self.expected.get(follower.digest, ())):
                change = f"tags now {', '.join(sorted(image.tags)) or 'none'}"
            else:
                change = storage_change(follower, image)
            if change is not None:
                note = f"{CHANGED}: {follower.digest}, which follows it, {change}"
                self._finish(item, Status.SKIPPED, None, note)
                return False
        return True

    def _move_all(self, digests: Sequence[str]) -> tuple[dict[str, Moved], Exception | None]:
        """Each image's outcome, and the first error that is not about one image."""
        if self.dry_run:
            return {d: Moved(ImageStatus.ARCHIVED) for d in digests}, None
        if self._pool is None:
            workers = max(1, min(self.registry.concurrency, BATCH_SIZE))
            self._pool = ThreadPoolExecutor(workers, thread_name_prefix="cleaner-archive")
        futures = {d: self._pool.submit(self._move, d) for d in digests}
        outcomes: dict[str, Moved] = {}
        error: Exception | None = None
        for digest, future in futures.items():
            try:
                outcomes[digest] = future.result()
            except Exception as exc:
                error = error or exc
        return outcomes, error

    def _move(self, digest: str) -> Moved:
        try:
            return Moved(self.registry.move(self.plan.repository.name, digest, ARCHIVE))
        except Exception as exc:
            # An AWS error is known by the code it carries (cleaner.errors), not its class:
            # anything else has no such code and goes on up.
            code = error_code(exc)
            if code not in PER_IMAGE_ERRORS:
                raise
            return Moved(None, code, error_message(exc))

    def _record_move(self, item: Pending, moved: Moved) -> None:
        if moved.status == ImageStatus.ARCHIVED:
            self._finish(item, Status.ARCHIVED, None, None)
        elif moved.code == "ImageNotFoundException":
            self._finish(item, Status.SKIPPED, moved.code, SkipReason(SkipKind.IMAGE_GONE))
        elif moved.code is not None:
            self._finish(item, Status.FAILED, moved.code, moved.message)
        else:
            self._finish(item, Status.FAILED, "NoResult", f"ECR answered status {moved.status}")

"""Plan → ordered batches of ≤100 ids → per-action results.

Dry-run goes through every step — batching, re-describe, verification, log events —
and replaces only the BatchDeleteImage (UpdateImageStorageClass) call. Archive actions
go through cleaner/run/archiving.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import structlog

from cleaner.aws.ecr import BATCH_SIZE, DeleteResult, Registry
from cleaner.core.model import (
    Action,
    ActionKind,
    Image,
    RepositoryPlan,
    SkipKind,
    SkipReason,
    Status,
)
from cleaner.errors import error_code, error_text
from cleaner.run.archiving import ArchiveSteps, storage_change
from cleaner.run.events import log_action
from cleaner.run.progress import Progress
from cleaner.run.stopping import StopRequest

log = structlog.get_logger("cleaner.run.executor")

ALREADY_GONE = "ImageNotFound"
RETRY_LATER = "ImageReferencedByManifestList"


@dataclass
class _Pending:
    index: int  # position in the plan's actions
    action: Action
    # For a tag removal of more than BATCH_SIZE tags: the share of tags this item sends.
    tags: tuple[str, ...] | None = None

    def image_ids(self) -> list[dict[str, str]]:
        if self.action.kind is ActionKind.DELETE_IMAGE:
            return [{"imageDigest": self.action.digest}]
        return [{"imageTag": tag} for tag in (self.tags or self.action.tags)]


def execute(
    plan: RepositoryPlan,
    registry: Registry,
    expected_tags: Mapping[str, tuple[str, ...]],
    *,
    dry_run: bool,
    stop: StopRequest | None = None,
    progress: Progress | None = None,
) -> RepositoryPlan:
    """Carry out `plan`; `expected_tags` are each action's image tags at inventory.

    `stop` is asked before each batch (never between a batch's re-describe and its
    delete): once it is requested, the rest is skipped as not attempted."""
    if not plan.actions:
        return plan
    run = _Execution(
        plan, registry, expected_tags, dry_run, stop or StopRequest(), progress=progress
    )
    return run.execute()


class _Execution(ArchiveSteps):
    def __init__(
        self,
        plan: RepositoryPlan,
        registry: Registry,
        expected_tags: Mapping[str, tuple[str, ...]],
        dry_run: bool,
        stop: StopRequest,
        *,
        progress: Progress | None = None,
    ) -> None:
        self.plan = plan
        self.registry = registry
        self.expected = expected_tags
        self.dry_run = dry_run
        self.stop = stop
        self.progress = progress or Progress()
        self.results: list[Action] = list(plan.actions)
        # Tags of a split tag removal that ECR really removed (or found gone), by action.
        self.removed: dict[int, set[str]] = {}
        self.log = log.bind(
            repository=plan.repository.name,
            region=plan.repository.region,
            registry_id=plan.repository.registry_id,
            dry_run=dry_run,
        )

    def execute(self) -> RepositoryPlan:
        retry: list[_Pending] = []
        error: str | None = None
        self.in_flight: Sequence[_Pending] = ()
        phases = sorted({a.phase for a in self.plan.actions})
        try:
            for phase in phases:
                pending = [_Pending(i, a) for i, a in enumerate(self.results) if a.phase == phase]
                retry.extend(self._run_phase(pending))
            if retry:
                # The index that held these children was deleted meanwhile (or not): one
                # more try after the rest of the repository's deletions, then skip.
                for item in self._run_phase(
                    [_Pending(p.index, self.results[p.index]) for p in retry]
                ):
                    self._skip(item, SkipReason(SkipKind.STILL_REFERENCED), RETRY_LATER)
        except Exception as exc:  # any error, expected or not, must leave a true report
            error = f"deletion stopped: {error_text(exc)}"
            if any(a.kind is ActionKind.ARCHIVE_IMAGE for a in self.plan.actions):
                error = f"deletion and archiving stopped: {error_text(exc)}"
            self.log.error("repository_failed", error=error)
            for item in self.in_flight:
                if self.results[item.index].status is Status.PLANNED:
                    self._finish(item, Status.FAILED, error_code(exc), "outcome unknown")
            for i, action in enumerate(self.results):
                if action.status is Status.PLANNED and not self.dry_run:
                    self.results[i] = action.skipped(SkipReason(SkipKind.AFTER_ERROR))
        finally:
            self._close_pool()
        return replace(
            self.plan,
            actions=tuple(self.results),
            error=error or self.plan.error,
            failed=self.plan.failed or error is not None,
        )

    def _run_phase(self, pending: Sequence[_Pending]) -> list[_Pending]:
        """Run one ordering phase; return what ECR refused as still referenced."""
        if self._stopping(pending):
            return []
        done = {Status.DELETED, Status.ARCHIVED}
        done |= {Status.PLANNED} if self.dry_run else set()
        gone = {a.digest for a in self.results if a.kind in _WHOLE and a.status in done}
        ready = []
        for item in pending:
            blocked = [p for p in item.action.parents if p not in gone]
            if blocked:
                if item.action.kind is ActionKind.ARCHIVE_IMAGE:
                    self._skip(item, SkipReason(SkipKind.PARENT_NOT_ARCHIVED, blocked[0]))
                else:
                    self._skip(item, SkipReason(SkipKind.PARENT_NOT_DELETED, blocked[0]))
            else:
                ready.append(item)
        retry: list[_Pending] = []
        for batch in _batches([p for p in ready if p.action.kind is not ActionKind.ARCHIVE_IMAGE]):
            retry.extend(self._run_batch(batch))
        self._run_archives([p for p in ready if p.action.kind is ActionKind.ARCHIVE_IMAGE])
        return retry

    def _stopping(self, items: Sequence[_Pending]) -> bool:
        """Skip `items` if a stop was requested. The later shares of one action's tags
        (split over batches) still go: stopping there would leave it half done."""
        share = items[0].tags if len(items) == 1 else None
        continuing = share is not None and share[0] != items[0].action.tags[0]
        if continuing or not self.stop.requested():
            return False
        for item in items:
            self._skip(item, self.stop.skip_reason)
        return True

    def _run_batch(self, batch: Sequence[_Pending]) -> list[_Pending]:
        if self._stopping(batch):
            return []
        digests = list(dict.fromkeys(p.action.digest for p in batch))
        current = self.registry.describe(self.plan.repository.name, digests)
        verified = [p for p in batch if self._unchanged(p, current.get(p.action.digest))]
        if not verified:
            return []
        ids = [image_id for p in verified for image_id in p.image_ids()]
        if self.dry_run:
            result = DeleteResult(deleted=ids, failures=[])
        else:
            self.in_flight = verified
            result = self.registry.delete(self.plan.repository.name, ids)
            self.in_flight = ()
        return self._record(verified, result)

    def _unchanged(self, item: _Pending, image: Image | None) -> bool:
        if image is None:
            self._skip(item, SkipReason(SkipKind.IMAGE_GONE))
            return False
        # A later share of a split tag removal: the tags its earlier shares removed are
        # gone because of this action, not because anything changed. Only what ECR
        # confirmed counts: in a dry run nothing was removed, so the registry still
        # holds every tag the inventory saw.
        expected = set(self.expected.get(item.action.digest, ())) - self.removed.get(
            item.index, set()
        )
        if set(image.tags) != expected:
            now = ", ".join(sorted(image.tags)) or "none"
            self._skip(item, SkipReason(SkipKind.TAGS_CHANGED, now))
            return False
        change = storage_change(item.action, image)
        if change is not None:
            self._skip(item, SkipReason(SkipKind.STORAGE_CHANGED, change))
            return False
        return True

    def _record(self, verified: Sequence[_Pending], result: DeleteResult) -> list[_Pending]:
        deleted_digests = {e["imageDigest"] for e in result.deleted if "imageDigest" in e}
        deleted_tags = {e["imageTag"] for e in result.deleted if "imageTag" in e}
        failures = {key: f for f in result.failures for key in _failure_keys(f)}
        retry: list[_Pending] = []
        for item in verified:
            action = item.action
            if action.kind is ActionKind.DELETE_IMAGE:
                keys = [("digest", action.digest)]
                done = action.digest in deleted_digests
            else:
                tags = item.tags or action.tags
                keys = [("tag", t) for t in tags]
                done = all(t in deleted_tags for t in tags)
                if item.tags is not None and not self.dry_run:
                    gone = {
                        t
                        for t in tags
                        if t in deleted_tags
                        or failures.get(("tag", t), {}).get("failureCode") == ALREADY_GONE
                    }
                    self.removed.setdefault(item.index, set()).update(gone)
            failed = [failures[k] for k in keys if k in failures]
            codes = {f.get("failureCode") for f in failed}
            if done or (failed and codes == {ALREADY_GONE}):
                code = ALREADY_GONE if failed else None
                self._finish(item, Status.DELETED, code, "already gone" if failed else None)
            elif RETRY_LATER in codes:
                retry.append(item)
                self.results[item.index] = replace(action, failure_code=RETRY_LATER)
            elif failed:
                first = next(f for f in failed if f.get("failureCode") != ALREADY_GONE)
                self._finish(
                    item, Status.FAILED, first.get("failureCode"), first.get("failureReason")
                )
            else:
                self._finish(item, Status.FAILED, "NoResult", "ECR returned no result for it")
        return retry

    def _skip(self, item: _Pending, why: SkipReason, code: str | None = None) -> None:
        self._finish(item, Status.SKIPPED, code, why)

    def _finish(
        self, item: _Pending, status: Status, code: str | None, note: str | SkipReason | None
    ) -> None:
        action = self.results[item.index]
        if action.status is Status.FAILED:
            return  # a tag removal split over batches: one failed share fails the action
        if self.dry_run and status in (Status.DELETED, Status.ARCHIVED):
            status = Status.PLANNED  # dry-run: the delete (archive) call was replaced
        if isinstance(note, SkipReason):
            action = action.skipped(note)
            note = None
        reason = f"{action.reason}; {note}" if note else action.reason
        done = replace(action, status=status, failure_code=code, reason=reason)
        self.results[item.index] = done
        log_action(self.log, done, self.dry_run)
        counted = Status.PLANNED if self.dry_run else Status.DELETED
        if done.status is counted and action.kind is not ActionKind.ARCHIVE_IMAGE:
            self.progress.deleted(
                1 if action.kind is ActionKind.DELETE_IMAGE else len(item.tags or action.tags)
            )


_WHOLE = (ActionKind.DELETE_IMAGE, ActionKind.ARCHIVE_IMAGE)


def _failure_keys(failure: Mapping[str, object]) -> list[tuple[str, str]]:
    """Every id a failure can answer. ECR echoes the id that was sent, but an endpoint
    that adds the other half (a tag to a digest, or back) must not make a failure go
    unmatched: one batch never holds a digest deletion and a tag removal of one image,
    so matching on either half is unambiguous."""
    image_id = failure.get("imageId") or {}
    assert isinstance(image_id, dict)
    keys = []
    if "imageTag" in image_id:
        keys.append(("tag", str(image_id["imageTag"])))
    if "imageDigest" in image_id:
        keys.append(("digest", str(image_id["imageDigest"])))
    return keys


def _batches(items: Sequence[_Pending]) -> list[list[_Pending]]:
    """Pack whole actions into batches of at most BATCH_SIZE ids (a tag removal with
    more tags than that is split over batches of its own)."""
    batches: list[list[_Pending]] = []
    current: list[_Pending] = []
    size = 0
    for item in items:
        n = len(item.image_ids())
        if n > BATCH_SIZE:
            tags = item.action.tags
            for start in range(0, n, BATCH_SIZE):
                share = tags[start : start + BATCH_SIZE]
                batches.append([_Pending(item.index, item.action, share)])
            continue
        if current and size + n > BATCH_SIZE:
            batches.append(current)
            current, size = [], 0
        current.append(item)
        size += n
    if current:
        batches.append(current)
    return batches

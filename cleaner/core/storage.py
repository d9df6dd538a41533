"""What ECR's archive storage class changes in a plan (docs/archive.md). Pure.

- Archiving takes an image out of service like deleting does: `keep_at_least` and the
  deletion ratio count both, over the images in service (ACTIVE).
- ECR will not serve an archived manifest, so an archived index has no known
  children: its archived platform images are top-level images of their own, which ECR
  refuses to delete while the index exists. Archived indexes therefore go first.
- An archived image that a workload still names is protected like any in-use image,
  and reported loudly: its pulls fail.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from cleaner.config.model import Limits
from cleaner.core.model import Action, ActionKind, Image, ImageStatus, Inventory, RepositoryPlan

_CLASSES = (ImageStatus.ACTIVE, ImageStatus.ARCHIVED)


def in_service(image: Image) -> bool:
    return image.status is ImageStatus.ACTIVE


def whole_image_action(
    kind: ActionKind,
    image: Image,
    rule: str,
    reason: str,
    *,
    phase: int = 0,
    parents: tuple[str, ...] = (),
) -> Action:
    """Deleting or archiving `image`, with what the inventory saw of it for the re-check."""
    tags = image.tags if len(image.tags) < 2 else tuple(sorted(set(image.tags)))
    return Action(
        kind,
        image.digest,
        tags,
        rule,
        reason,
        image.size,
        phase,
        parents=parents,
        pushed_at=image.pushed_at,
        seen_status=image.status,
        seen_pulled=image.last_pulled,
    )


def dependent_kind(
    image: Image, parents: Sequence[str], archived: set[str], deleted: set[str]
) -> ActionKind | None:
    """What becomes of a dependent (a child, a referrer) of images the plan removes:
    deleted, or archived with an archived owner (ECR would refuse to delete it while the
    owner exists, and restoring the owner needs it); None when it is archived already.
    Updates `archived` and `deleted` (what later dependents wait for) to match."""
    if archived.isdisjoint(parents):
        return ActionKind.DELETE_IMAGE
    archived.add(image.digest)
    if not in_service(image):
        deleted.discard(image.digest)  # archived already: nothing to wait for
        return None
    return ActionKind.ARCHIVE_IMAGE


def ratio_error(
    top_level: Iterable[Image], removed: set[str], archived: set[str], ratio: float
) -> str | None:
    """Why a repository is not touched: the share of its top-level images of one storage
    class (active, archived) that the plan removes (deletes or archives) is above `ratio`."""
    if ratio >= 1:
        return None  # no share is above 1
    by_class: dict[ImageStatus, list[Image]] = {status: [] for status in _CLASSES}
    for image in top_level:
        by_class.get(image.status, []).append(image)
    mixed = bool(by_class[ImageStatus.ARCHIVED])
    for status in _CLASSES:
        images = by_class[status]
        gone = [i.digest for i in images if i.digest in removed]
        if not images or len(gone) / len(images) <= ratio:
            continue
        verb = "delete or archive" if any(d in archived for d in gone) else "delete"
        what = f"{status.lower()} top-level images" if mixed else "top-level images"
        share = 100 * len(gone) / len(images)
        return (
            f"not touched: the plan would {verb} {len(gone)} of {len(images)} {what} "
            f"({share:.0f}%), above limits.max_deletion_ratio {ratio}"
        )
    return None


def archived_indexes_first(actions: Sequence[Action], images: Mapping[str, Image]) -> list[Action]:
    """Deletions of archived indexes before everything else: the archived images they
    list (unknown to the plan) can only be deleted after them."""
    first = {
        a.digest
        for a in actions
        if a.kind is ActionKind.DELETE_IMAGE
        and a.phase == 0
        and images[a.digest].status is ImageStatus.ARCHIVED
        and images[a.digest].is_index
    }
    if not first:
        return list(actions)
    return [a if a.digest in first else replace(a, phase=a.phase + 1) for a in actions]


def archived_in_use(inventory: Inventory, in_use: Mapping[str, str]) -> tuple[str, ...]:
    """A warning for each archived image that a workload names: it cannot be pulled."""
    warnings = []
    name, region = inventory.repository.name, inventory.repository.region
    for digest, workload in sorted(in_use.items()):
        image = inventory.images.get(digest)
        if image is None or image.status is not ImageStatus.ARCHIVED:
            continue
        tags = f" ({', '.join(sorted(image.tags))})" if image.tags else ""
        warnings.append(
            f"{name}: archived image {digest}{tags} is in use by {workload}: it cannot be "
            f"pulled; restore it with: ecr-cleaner restore --config FILE --region {region} "
            f"--repository {name} --digest {digest}"
        )
    return tuple(warnings)


def check_max_deletions(plans: Sequence[RepositoryPlan], limits: Limits) -> str | None:
    """A warning when the whole run would delete (or archive) more than
    limits.max_deletions, else None."""
    return max_deletions_warning(deletion_counts(plans), limits)


def deletion_counts(plans: Sequence[RepositoryPlan]) -> tuple[int, int, int]:
    """(images deleted, images archived, tags removed) by these plans: what
    limits.max_deletions counts. The counts of parts of a run add up to the run's."""
    images = sum(1 for p in plans for a in p.actions if a.kind is ActionKind.DELETE_IMAGE)
    archives = sum(1 for p in plans for a in p.actions if a.kind is ActionKind.ARCHIVE_IMAGE)
    tags = sum(len(a.tags) for p in plans for a in p.actions if a.kind is ActionKind.REMOVE_TAG)
    return images, archives, tags


def max_deletions_warning(counts: tuple[int, int, int], limits: Limits) -> str | None:
    """check_max_deletions from the deletion_counts of the whole run."""
    images, archives, tags = counts
    if images + archives + tags <= limits.max_deletions:
        return None
    archiving = f", archive {archives} images" if archives else ""
    return (
        f"the plan would delete {images} images{archiving} and remove {tags} tags "
        f"({images + archives + tags} in total), above limits.max_deletions "
        f"{limits.max_deletions}"
    )

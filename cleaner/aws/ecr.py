"""ECR itself: paging, manifests (cached by digest), re-describe, delete, storage class."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from cleaner.aws.pacing import RateLimiter, Unlimited
from cleaner.core.model import INDEX_MEDIA_TYPES, Image, ImageStatus, Inventory, RepositoryRef
from cleaner.errors import error_code

PAGE_SIZE = 1000
BATCH_SIZE = 100
# Indexes must come back as themselves, never converted to one platform's manifest,
# or the cleaner would not see their children.
ACCEPTED_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
]


class ManifestUnreadable(Exception):
    """An index manifest could not be read: its children are unknown, so planning this
    repository could delete a live image's platforms. The repository must be skipped."""


@dataclass(frozen=True, slots=True)
class DeleteResult:
    deleted: list[dict[str, str]]
    failures: list[dict[str, Any]]


class ManifestCache:
    """Index digest -> child digests, per repository, kept across runs by `serve`.

    Manifests are immutable by digest, so an entry never goes stale; but an index
    deleted from its repository must not stay forever (CI pushing thousands of
    multi-arch images a day would grow a long-running process by gigabytes a year).
    So each inventory replaces its repository's entries with exactly the indexes the
    repository still holds, and `keep_only` forgets repositories a run no longer sees.
    Per repository, an index pushed to two repositories is read once for each: a small
    price for knowing, without reference counts, what nothing holds any longer.

    One repository is inventoried by one thread at a time, and replacing its entries is
    one dict assignment, so threads need no lock here."""

    def __init__(self) -> None:
        self._repositories: dict[RepositoryRef, dict[str, tuple[str, ...]]] = {}

    def known(self, repository: RepositoryRef) -> Mapping[str, tuple[str, ...]]:
        """The children of the repository's indexes as last read (empty if never)."""
        return self._repositories.get(repository, {})

    def keep(self, repository: RepositoryRef, children: dict[str, tuple[str, ...]]) -> None:
        """What the repository holds now: its indexes and their children, nothing else."""
        self._repositories[repository] = children

    def keep_only(self, repositories: Iterable[RepositoryRef]) -> None:
        """Forget every repository but these (the ones the last run reported)."""
        wanted = set(repositories)
        for repository in [r for r in self._repositories if r not in wanted]:
            del self._repositories[repository]

    def export(
        self, repositories: Iterable[RepositoryRef]
    ) -> dict[RepositoryRef, dict[str, tuple[str, ...]]]:
        """These repositories' entries, to hand to another process."""
        return {r: self._repositories[r] for r in repositories if r in self._repositories}

    def absorb(self, entries: Mapping[RepositoryRef, dict[str, tuple[str, ...]]]) -> None:
        """Entries another process read (see `export`)."""
        self._repositories.update(entries)

    def __len__(self) -> int:
        return sum(len(c) for c in list(self._repositories.values()))


_STATUSES = {status.value: status for status in ImageStatus}


def image_from_detail(detail: Mapping[str, Any]) -> Image:
    # A listing makes one Image per image: each lookup here counts (bench/call_cost.py).
    get = detail.get
    pushed = _aware(detail["imagePushedAt"])
    activated = get("lastActivatedAt")
    if activated:
        # ECR: a restored image behaves like a new push (else the rule that archived it
        # would archive it again on the next run).
        pushed = max(pushed, _aware(activated))
    pulled = get("lastRecordedPullTime")
    archived = get("lastArchivedAt")
    status = get("imageStatus") or ImageStatus.ACTIVE
    return Image(
        digest=detail["imageDigest"],
        tags=tuple(get("imageTags") or ()),
        pushed_at=pushed,
        last_pulled=_aware(pulled) if pulled else None,
        size=int(get("imageSizeInBytes") or 0),
        media_type=get("imageManifestMediaType") or "",
        artifact_media_type=get("artifactMediaType"),
        subject=get("subjectManifestDigest"),
        status=_STATUSES.get(status) or ImageStatus(status),
        archived_at=_aware(archived) if archived else None,
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _children_of(manifest_text: str) -> tuple[str, ...]:
    document = json.loads(manifest_text)
    return tuple(entry["digest"] for entry in document.get("manifests", []))


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Registry:
    """One registry (account + region) through its ECR clients. Every ECR call waits
    for `limiter` first: the threads working on this registry share its rate.

    Deletions may go through a client of their own (`delete_client`): ECR throttles each
    API on its own, but botocore's adaptive rate limiter is per client, so throttled
    DescribeImages calls would otherwise slow BatchDeleteImage down too (measured with
    bench/throttling.py: 63% of the allowed delete rate on one client, 97% on two)."""

    def __init__(
        self,
        client: Any,
        region: str,
        registry_id: str | None = None,
        limiter: RateLimiter | Unlimited | None = None,
        delete_client: Any = None,
        *,
        storage_client: Any = None,
        concurrency: int = 1,
    ) -> None:
        self.client = client
        self.delete_client = delete_client or client
        # UpdateImageStorageClass, one call per image: a client (and retry state) of its own.
        self.storage_client = storage_client or self.delete_client
        self.region = region
        self.registry_id = registry_id
        self.limiter = limiter or Unlimited()
        # How many per-image calls (UpdateImageStorageClass) may be in flight at once.
        self.concurrency = concurrency

    def _pages(self, operation: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Each page of a paged call, paced one call at a time (a paginator would fetch
        its pages without asking the limiter)."""
        token = None
        while True:
            self.limiter.acquire()
            page: dict[str, Any] = getattr(self.client, operation)(
                **params, maxResults=PAGE_SIZE, **({"nextToken": token} if token else {})
            )
            yield page
            token = page.get("nextToken")
            if not token:
                return

    def _ids(self, repository: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.registry_id:
            params["registryId"] = self.registry_id
        if repository is not None:
            params["repositoryName"] = repository
        return params

    def repositories(self) -> list[RepositoryRef]:
        refs = []
        for page in self._pages("describe_repositories", self._ids()):
            for repo in page["repositories"]:
                refs.append(RepositoryRef(self.region, repo["registryId"], repo["repositoryName"]))
        return sorted(refs)

    def inventory(
        self, repository: RepositoryRef, cache: ManifestCache, *, archived: bool = False
    ) -> Inventory:
        """Every ACTIVE image; with `archived`, every image whatever its storage class
        (one listing: filter.imageStatus ANY). ECR serves the manifests of ACTIVE
        images only, so an archived index comes without children."""
        images: dict[str, Image] = {}
        params = self._ids(repository.name)
        if archived:
            params["filter"] = {"imageStatus": "ANY"}
        for page in self._pages("describe_images", params):
            for detail in page["imageDetails"]:
                image = image_from_detail(detail)
                images[image.digest] = image
        active = ImageStatus.ACTIVE
        indexes = [d for d, i in images.items() if i.is_index and i.status is active]
        children = self.index_children(repository, indexes, cache)
        return Inventory(repository, images, children)

    def index_children(
        self, repository: RepositoryRef, digests: Sequence[str], cache: ManifestCache
    ) -> dict[str, tuple[str, ...]]:
        """Children of each index, reading only manifests not in the cache (<=100 a
        call); the cache then holds exactly these indexes for the repository."""
        known = cache.known(repository)
        result = {d: known[d] for d in digests if d in known}
        missing = [d for d in digests if d not in result]
        for chunk in _chunks(missing, BATCH_SIZE):
            self.limiter.acquire()
            response = self.client.batch_get_image(
                **self._ids(repository.name),
                imageIds=[{"imageDigest": d} for d in chunk],
                acceptedMediaTypes=ACCEPTED_MEDIA_TYPES,
            )
            for image in response.get("images", []):
                if image.get("imageManifestMediaType") not in INDEX_MEDIA_TYPES:
                    raise ManifestUnreadable(
                        f"index {image['imageId'].get('imageDigest')} came back as "
                        f"{image.get('imageManifestMediaType')}, not as an index"
                    )
                result[image["imageId"]["imageDigest"]] = _children_of(image["imageManifest"])
            for failure in response.get("failures", []):
                raise ManifestUnreadable(
                    f"cannot read index {failure['imageId'].get('imageDigest')}: "
                    f"{failure.get('failureCode')} {failure.get('failureReason', '')}".strip()
                )
        for digest in missing:
            if digest not in result:
                raise ManifestUnreadable(f"index {digest} was not returned by BatchGetImage")
        ordered = {d: result[d] for d in digests}
        cache.keep(repository, ordered)
        return ordered

    def lifecycle_policy(self, repository: str) -> str | None:
        """The repository's ECR lifecycle policy text, or None if it has none."""
        self.limiter.acquire()
        try:
            response = self.client.get_lifecycle_policy(**self._ids(repository))
        except ClientError as exc:
            if error_code(exc) == "LifecyclePolicyNotFoundException":
                return None
            raise
        return str(response["lifecyclePolicyText"])

    def describe(self, repository: str, digests: Sequence[str]) -> dict[str, Image]:
        """The current state of up to 100 images; absent ones are missing from the result.

        ECR fails the whole call when one id is missing, so on ImageNotFoundException
        the batch is halved until the missing images are isolated."""
        if not digests:
            return {}
        try:
            self.limiter.acquire()
            response = self.client.describe_images(
                **self._ids(repository), imageIds=[{"imageDigest": d} for d in digests]
            )
        except ClientError as exc:
            if error_code(exc) != "ImageNotFoundException":
                raise
            if len(digests) == 1:
                return {}
            middle = len(digests) // 2
            return {
                **self.describe(repository, digests[:middle]),
                **self.describe(repository, digests[middle:]),
            }
        return {
            image.digest: image
            for image in (image_from_detail(d) for d in response["imageDetails"])
        }

    def move(self, repository: str, digest: str, target: str) -> str:
        """UpdateImageStorageClass (`target` ARCHIVE or STANDARD) of one image; the image's
        status after the call. Errors are raised as botocore's ClientError."""
        self.limiter.acquire()
        response = self.storage_client.update_image_storage_class(
            **self._ids(repository), imageId={"imageDigest": digest}, targetStorageClass=target
        )
        return str(response.get("imageStatus", ""))

    def delete(self, repository: str, image_ids: Sequence[dict[str, str]]) -> DeleteResult:
        if len(image_ids) > BATCH_SIZE:
            raise ValueError(f"BatchDeleteImage takes at most {BATCH_SIZE} ids")
        self.limiter.acquire()
        response = self.delete_client.batch_delete_image(
            **self._ids(repository), imageIds=list(image_ids)
        )
        return DeleteResult(response.get("imageIds", []), response.get("failures", []))

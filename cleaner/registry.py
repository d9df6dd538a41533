"""The only module that talks to ECR: paging, manifests (cached by digest), re-describe, delete."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError
from botocore.utils import parse_timestamp

from cleaner.credentials import Role, TimeFetcher, assumed_session
from cleaner.model import INDEX_MEDIA_TYPES, Image, Inventory, RepositoryRef
from cleaner.pacing import RateLimiter, Unlimited
from cleaner.policy import Target
from cleaner.retries import CONNECT_TIMEOUT, watch_retries

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
# ECR publishes no rate for DescribeImages/BatchDeleteImage: adaptive mode backs off on
# ThrottlingException and retries 5xx; enough attempts to ride out a burst.
# A short connect timeout: an unreachable endpoint must be reported within seconds
# (cleaner/retries.py bounds its retries); a slow answer still has the default 60 s.
RETRY_CONFIG = BotoConfig(
    retries={"mode": "adaptive", "max_attempts": 10}, connect_timeout=CONNECT_TIMEOUT
)
# One connection per worker thread (limits.concurrency is at most 64); the default of
# 10 would make threads beyond that wait for a connection, or discard them.
CLIENT_CONFIG = RETRY_CONFIG.merge(BotoConfig(max_pool_connections=64))


def error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__


def error_text(exc: Exception) -> str:
    """One line for the report and the log: the AWS error code and message."""
    if isinstance(exc, ClientError):
        return f"{error_code(exc)}: {exc.response.get('Error', {}).get('Message', '')}"
    return f"{type(exc).__name__}: {exc}"


class ManifestUnreadable(Exception):
    """An index manifest could not be read: its children are unknown, so planning this
    repository could delete a live image's platforms. The repository must be skipped."""


@dataclass(frozen=True, slots=True)
class DeleteResult:
    deleted: list[dict[str, str]]
    failures: list[dict[str, Any]]


class ManifestCache:
    """Index digest → child digests. Manifests are immutable by digest, so an entry never
    goes stale; `serve` keeps one cache across runs."""

    def __init__(self) -> None:
        self._children: dict[str, tuple[str, ...]] = {}

    def get(self, digest: str) -> tuple[str, ...] | None:
        return self._children.get(digest)

    def put(self, digest: str, children: tuple[str, ...]) -> None:
        self._children[digest] = children

    def __len__(self) -> int:
        return len(self._children)


def image_from_detail(detail: Mapping[str, Any]) -> Image:
    return Image(
        digest=detail["imageDigest"],
        tags=tuple(detail.get("imageTags") or ()),
        pushed_at=_aware(detail["imagePushedAt"]),
        last_pulled=_aware(detail["lastRecordedPullTime"])
        if detail.get("lastRecordedPullTime")
        else None,
        size=int(detail.get("imageSizeInBytes") or 0),
        media_type=detail.get("imageManifestMediaType") or "",
        artifact_media_type=detail.get("artifactMediaType"),
        subject=detail.get("subjectManifestDigest"),
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
    ) -> None:
        self.client = client
        self.delete_client = delete_client or client
        self.region = region
        self.registry_id = registry_id
        self.limiter = limiter or Unlimited()

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

    def inventory(self, repository: RepositoryRef, cache: ManifestCache) -> Inventory:
        images: dict[str, Image] = {}
        for page in self._pages("describe_images", self._ids(repository.name)):
            for detail in page["imageDetails"]:
                image = image_from_detail(detail)
                images[image.digest] = image
        indexes = [d for d, image in images.items() if image.is_index]
        children = self.index_children(repository.name, indexes, cache)
        return Inventory(repository, images, children)

    def index_children(
        self, repository: str, digests: Sequence[str], cache: ManifestCache
    ) -> dict[str, tuple[str, ...]]:
        """Children of each index, reading only manifests not in the cache (≤100 a call)."""
        missing = [d for d in digests if cache.get(d) is None]
        for chunk in _chunks(missing, BATCH_SIZE):
            self.limiter.acquire()
            response = self.client.batch_get_image(
                **self._ids(repository),
                imageIds=[{"imageDigest": d} for d in chunk],
                acceptedMediaTypes=ACCEPTED_MEDIA_TYPES,
            )
            for image in response.get("images", []):
                if image.get("imageManifestMediaType") not in INDEX_MEDIA_TYPES:
                    raise ManifestUnreadable(
                        f"index {image['imageId'].get('imageDigest')} came back as "
                        f"{image.get('imageManifestMediaType')}, not as an index"
                    )
                cache.put(image["imageId"]["imageDigest"], _children_of(image["imageManifest"]))
            for failure in response.get("failures", []):
                raise ManifestUnreadable(
                    f"cannot read index {failure['imageId'].get('imageDigest')}: "
                    f"{failure.get('failureCode')} {failure.get('failureReason', '')}".strip()
                )
        result: dict[str, tuple[str, ...]] = {}
        for digest in digests:
            children = cache.get(digest)
            if children is None:
                raise ManifestUnreadable(f"index {digest} was not returned by BatchGetImage")
            result[digest] = children
        return result

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

    def delete(self, repository: str, image_ids: Sequence[dict[str, str]]) -> DeleteResult:
        if len(image_ids) > BATCH_SIZE:
            raise ValueError(f"BatchDeleteImage takes at most {BATCH_SIZE} ids")
        self.limiter.acquire()
        response = self.delete_client.batch_delete_image(
            **self._ids(repository), imageIds=list(image_ids)
        )
        return DeleteResult(response.get("imageIds", []), response.get("failures", []))


def _utc_timestamp(value: Any) -> datetime:
    if isinstance(value, int | float):  # the JSON protocols' epoch seconds
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed.astimezone(UTC)


def utc_timestamps(session: Any) -> None:
    """Parse response timestamps as UTC epoch seconds. botocore's default converts every
    one to the local zone through dateutil: a third of the client's CPU when listing a
    large registry (profiled with bench/latency.py), for times the cleaner only compares."""
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=_utc_timestamp)


class Clients:
    """AWS clients per target from the standard AWS chain (AWS_ENDPOINT_URL[_ECR] and the
    like honoured by botocore), acting as the target's `role_arn` where it names one.

    ECR, ECS and Lambda clients of a target share its region, role and retry settings.
    boto3 clients are thread-safe but sessions are not: clients are made under a lock,
    once per (service, region, role), and then shared by the worker threads.
    """

    def __init__(self, session: Any = None, *, time_fetcher: TimeFetcher | None = None) -> None:
        import boto3

        self.session: Any = session or boto3.session.Session()
        self._time_fetcher = time_fetcher  # for the credentials' expiry; tests inject it
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, Role | None, str], Any] = {}
        self._sessions: dict[Role, Any] = {}

    def for_target(self, service: str, target: Target, lane: str = "") -> Any:
        """The target's client; clients of different `lane`s keep separate retry and
        rate-limiter state (see Registry)."""
        role = None
        if target.role_arn is not None:
            role = Role(target.role_arn, target.external_id, target.session_name)
        return self.client(service, target.region, role, lane)

    def ecr(self, region: str, role_arn: str | None = None) -> Any:
        return self.client("ecr", region, Role(role_arn) if role_arn else None)

    def client(self, service: str, region: str, role: Role | None = None, lane: str = "") -> Any:
        key = (service, region, role, lane)
        with self._lock:
            if key not in self._clients:
                session = self.session if role is None else self._assumed(role, region)
                utc_timestamps(session)
                client = session.client(service, region_name=region, config=CLIENT_CONFIG)
                watch_retries(client)
                self._clients[key] = client
            return self._clients[key]

    def _assumed(self, role: Role, region: str) -> Any:
        """One session per role, whatever the region: its credentials work in all."""
        if role not in self._sessions:
            sts = self.session.client("sts", region_name=region, config=RETRY_CONFIG)
            watch_retries(sts)
            self._sessions[role] = assumed_session(
                sts, role, region, time_fetcher=self._time_fetcher
            )
        return self._sessions[role]

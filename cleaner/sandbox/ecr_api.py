"""ECR's JSON API over the sandbox store, following ECR's documented behaviour.

Each handler takes the decoded request body and returns the response body; errors are
raised as ApiError with ECR's exception name. Per-image problems of the batch calls are
returned in `failures[]`, as ECR does, never raised.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from cleaner.sandbox import lifecycle_api, manifests
from cleaner.sandbox.store import Store, StoredImage, StoredRepository

Body = dict[str, Any]
MAX_BATCH_IDS = 100
MAX_PAGE = 1000
DEFAULT_PAGE = 100
TAG_PATTERN = re.compile(r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,299}$")
REPOSITORY_PATTERN = re.compile(
    r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$"
)
DEFAULT_ACCEPTED = (manifests.DOCKER_MANIFEST, manifests.OCI_MANIFEST)


class ApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _ts(value: datetime) -> float:
    return value.timestamp()


class EcrApi:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._handlers: dict[str, Callable[[str, str, Body], Body]] = {
            "CreateRepository": self.create_repository,
            "DescribeRepositories": self.describe_repositories,
            "DeleteRepository": self.delete_repository,
            "PutImage": self.put_image,
            "BatchGetImage": self.batch_get_image,
            "DescribeImages": self.describe_images,
            "ListImages": self.list_images,
            "BatchDeleteImage": self.batch_delete_image,
            "GetAuthorizationToken": self.get_authorization_token,
            **lifecycle_api.handlers(self),
            "UpdateImageStorageClass": self.update_image_storage_class,
        }

    def handles(self, operation: str) -> bool:
        return operation in self._handlers

    def call(self, operation: str, account: str, region: str, body: Body) -> Body:
        with self.store.lock:
            self.store.settle()  # restores whose delay has passed are ACTIVE now
            return self._handlers[operation](account, region, body)

    def update_image_storage_class(self, account: str, region: str, body: Body) -> Body:
        from cleaner.sandbox.storage_api import update_image_storage_class

        return update_image_storage_class(self, account, region, body)

    # -- repositories ---------------------------------------------------------------

    def _repo(self, account: str, region: str, body: Body) -> StoredRepository:
        registry = body.get("registryId") or account
        name = body.get("repositoryName", "")
        repo = self.store.repository(registry, region, name)
        if repo is None:
            raise ApiError(
                "RepositoryNotFoundException",
                f"The repository with name '{name}' does not exist in the registry "
                f"with id '{registry}'",
            )
        return repo

    @staticmethod
    def _repository_body(repo: StoredRepository) -> Body:
        return {
            "repositoryArn": repo.arn,
            "registryId": repo.registry_id,
            "repositoryName": repo.name,
            "repositoryUri": repo.uri,
            "createdAt": _ts(repo.created_at),
            "imageTagMutability": repo.tag_mutability,
            "imageScanningConfiguration": {"scanOnPush": False},
            "encryptionConfiguration": {"encryptionType": "AES256"},
        }

    def create_repository(self, account: str, region: str, body: Body) -> Body:
        registry = body.get("registryId") or account
        name = body.get("repositoryName", "")
        if not (2 <= len(name) <= 256 and REPOSITORY_PATTERN.match(name)):
            raise ApiError("InvalidParameterException", f"Invalid repository name '{name}'")
        if self.store.repository(registry, region, name) is not None:
            raise ApiError(
                "RepositoryAlreadyExistsException",
                f"The repository with name '{name}' already exists in the registry "
                f"with id '{registry}'",
            )
        repo = self.store.create_repository(
            registry, region, name, tag_mutability=body.get("imageTagMutability", "MUTABLE")
        )
        return {"repository": self._repository_body(repo)}

    def describe_repositories(self, account: str, region: str, body: Body) -> Body:
        registry_id = body.get("registryId") or account
        registry = self.store.registry(registry_id, region)
        names = body.get("repositoryNames")
        if names is not None:
            if "nextToken" in body or "maxResults" in body:
                raise ApiError(
                    "InvalidParameterException",
                    "nextToken and maxResults cannot be used with repositoryNames",
                )
            found = []
            for name in names:
                if name not in registry:
                    self._repo(account, region, {"registryId": registry_id, "repositoryName": name})
                found.append(self._repository_body(registry[name]))
            return {"repositories": found}
        after = _decode_token(body.get("nextToken"), "DescribeRepositories")
        limit = _page_size(body)
        # The token names the last repository returned, so repositories created or
        # deleted between pages never make another be skipped or repeated.
        remaining = sorted(n for n in registry if after is None or n > str(after[0]))
        page = remaining[:limit]
        result: Body = {"repositories": [self._repository_body(registry[n]) for n in page]}
        if len(remaining) > limit:
            result["nextToken"] = _encode_token([page[-1]], "DescribeRepositories")
        return result

    def delete_repository(self, account: str, region: str, body: Body) -> Body:
        repo = self._repo(account, region, body)
        if repo.images and not body.get("force"):
            raise ApiError(
                "RepositoryNotEmptyException",
                f"The repository with name '{repo.name}' in registry with id "
                f"'{repo.registry_id}' cannot be deleted because it still contains images",
            )
        del self.store.registry(repo.registry_id, region)[repo.name]
        return {"repository": self._repository_body(repo)}

    def get_authorization_token(self, account: str, region: str, body: Body) -> Body:
        token = base64.b64encode(b"AWS:sandbox-password").decode()
        return {
            "authorizationData": [
                {
                    "authorizationToken": token,
                    "expiresAt": _ts(self.store.clock()) + 43200,
                    "proxyEndpoint": f"https://{account}.dkr.ecr.{region}.amazonaws.com",
                }
            ]
        }

    # -- images ---------------------------------------------------------------------

    def put_image(self, account: str, region: str, body: Body) -> Body:
        repo = self._repo(account, region, body)
        text = body.get("imageManifest", "")
        try:
            parsed = manifests.parse(text, body.get("imageManifestMediaType"))
        except manifests.ManifestError as exc:
            raise ApiError("InvalidParameterException", str(exc)) from exc
        digest = manifests.digest_of(text)
        claimed = body.get("imageDigest")
        if claimed is not None and claimed != digest:
            raise ApiError(
                "ImageDigestDoesNotMatchException",
                f"The imageDigest '{claimed}' does not match the digest '{digest}' "
                "calculated for the manifest",
            )
        tag = body.get("imageTag")
        if tag is not None and not TAG_PATTERN.match(tag):
            raise ApiError("InvalidParameterException", f"Invalid parameter at 'imageTag': {tag}")
        missing = [child for child in parsed.children if child not in repo.images]
        if missing:
            raise ApiError(
                "ReferencedImagesNotFoundException",
                f"The manifest list references images that do not exist: {', '.join(missing)}",
            )
        existing = repo.images.get(digest)
        if existing is not None and existing.status != "ACTIVE":
            # ECR: pushing an archived image again restores it, at once.
            existing.status, existing.activated_at = "ACTIVE", self.store.clock()
            existing.activating_until = None
        elif existing is not None and (tag is None or repo.tags.get(tag) == digest):
            raise ApiError(
                "ImageAlreadyExistsException",
                f"Image with digest '{digest}' and tag '{tag}' already exists in the "
                f"repository with name '{repo.name}' in registry with id '{repo.registry_id}'",
            )
        if tag is not None and repo.tag_mutability == "IMMUTABLE" and tag in repo.tags:
            raise ApiError(
                "ImageTagAlreadyExistsException",
                f"The image tag '{tag}' already exists in the '{repo.name}' repository and "
                "cannot be overwritten because the repository is immutable.",
            )
        if existing is None:
            size = parsed.layers_size
            if parsed.children:
                size = max(repo.images[child].size for child in parsed.children)
            repo.add(
                StoredImage(
                    digest=digest,
                    manifest=text,
                    media_type=parsed.media_type,
                    artifact_media_type=parsed.artifact_media_type,
                    subject=parsed.subject,
                    children=parsed.children,
                    size=size,
                    pushed_at=self.store.clock(),
                )
            )
        if tag is not None:
            repo.set_tag(tag, digest)
        image_id: Body = {"imageDigest": digest}
        if tag is not None:
            image_id["imageTag"] = tag
        return {
            "image": {
                "registryId": repo.registry_id,
                "repositoryName": repo.name,
                "imageId": image_id,
                "imageManifest": text,
                "imageManifestMediaType": parsed.media_type,
            }
        }

    def describe_images(self, account: str, region: str, body: Body) -> Body:
        repo = self._repo(account, region, body)
        ids = body.get("imageIds")
        if ids is not None:
            if "nextToken" in body or "maxResults" in body:
                raise ApiError(
                    "InvalidParameterException",
                    "nextToken and maxResults cannot be used with imageIds",
                )
            _check_batch_size(ids)
            details: dict[str, Body] = {}
            for image_id in ids:
                image = _resolve(repo, image_id)
                if isinstance(image, str):
                    raise ApiError(
                        "ImageNotFoundException",
                        f"The image with imageId {_format_id(image_id)} does not exist within "
                        f"the repository with name '{repo.name}' in the registry with id "
                        f"'{repo.registry_id}'",
                    )
                details.setdefault(image.digest, _detail(repo, image))
            return {"imageDetails": list(details.values())}
        return _page(repo, body, "DescribeImages", "imageDetails", lambda i: [_detail(repo, i)])

    def list_images(self, account: str, region: str, body: Body) -> Body:
        repo = self._repo(account, region, body)

        def ids(image: StoredImage) -> list[Body]:
            if not image.tags:
                return [{"imageDigest": image.digest}]
            return [{"imageDigest": image.digest, "imageTag": t} for t in image.tags]

        return _page(repo, body, "ListImages", "imageIds", ids)

    def batch_get_image(self, account: str, region: str, body: Body) -> Body:
        repo = self._repo(account, region, body)
        ids = body.get("imageIds", [])
        _check_batch_size(ids)
        accepted = tuple(body.get("acceptedMediaTypes") or DEFAULT_ACCEPTED)
        images: list[Body] = []
        failures: list[Body] = []
        now = self.store.clock()
        for image_id in ids:
            image = _resolve(repo, image_id)
            if isinstance(image, str):
                failures.append(_failure(image_id, image))
                continue
            if image.status != "ACTIVE":
                # An archived (or still activating) image cannot be pulled: ECR answers 404.
                failures.append(_failure(image_id, "ImageNotFound"))
                continue
            served = image
            if image.is_index and image.media_type not in accepted:
                # ECR converts an index the client cannot take into one platform's manifest.
                served = repo.images[image.children[0]] if image.children else image
            if self.store.record_pulls_on_get:
                image.last_pull = now
            resolved: Body = {"imageDigest": image.digest}
            if "imageTag" in image_id:
                resolved["imageTag"] = image_id["imageTag"]
            images.append(
                {
                    "registryId": repo.registry_id,
                    "repositoryName": repo.name,
                    "imageId": resolved,
                    "imageManifest": served.manifest,
                    "imageManifestMediaType": served.media_type,
                }
            )
        return {"images": images, "failures": failures}

    def batch_delete_image(self, account: str, region: str, body: Body) -> Body:
        repo = self._repo(account, region, body)
        ids = body.get("imageIds", [])
        _check_batch_size(ids)
        # ECR checks manifest-list references against the repository as the call finds it.
        referenced = {d for d, owners in repo.parents.items() if owners}
        deleted: list[Body] = []
        failures: list[Body] = []
        for image_id in ids:
            image = _resolve(repo, image_id)
            if isinstance(image, str):
                failures.append(_failure(image_id, image))
                continue
            tag = image_id.get("imageTag")
            injected = self.store.delete_failures.get(tag or image.digest)
            if injected is not None:
                failures.append(_failure(image_id, injected))
                continue
            deletes_image = "imageDigest" in image_id or image.tags == [tag]
            if deletes_image and image.digest in referenced:
                failures.append(_failure(image_id, "ImageReferencedByManifestList"))
                continue
            if deletes_image:
                removed = repo.remove(image.digest)
                deleted.extend(
                    [{"imageDigest": removed.digest, "imageTag": t} for t in removed.tags]
                    or [{"imageDigest": removed.digest}]
                )
            else:
                repo.remove_tag(tag)
                deleted.append({"imageDigest": image.digest, "imageTag": tag})
        if len(repo.order) > 2 * len(repo.images) + 1024:
            repo.compact()
        return {"imageIds": deleted, "failures": failures}


# -- helpers --------------------------------------------------------------------------

FAILURE_REASONS = {
    "ImageNotFound": "Requested image not found",
    "MissingDigestAndTag": "Either imageDigest or imageTag must be specified",
    "InvalidImageDigest": "Invalid request parameters: image digest should satisfy the regex "
    "'[a-zA-Z0-9-_+.]+:[a-fA-F0-9]+'",
    "InvalidImageTag": "Invalid request parameters: image tag should satisfy the regex "
    "'[a-zA-Z0-9_][a-zA-Z0-9._-]{0,299}'",
    "ImageTagDoesNotMatchDigest": "Invalid request parameters: given tag does not map to the "
    "given digest",
    "ImageReferencedByManifestList": "Requested image is referenced by a manifest list",
}


def _failure(image_id: Body, code: str) -> Body:
    reason = FAILURE_REASONS.get(code, f"{code} (injected by the sandbox)")
    return {"imageId": dict(image_id), "failureCode": code, "failureReason": reason}


def _resolve(repo: StoredRepository, image_id: Body) -> StoredImage | str:
    """The image an imageId names, or the failure code ECR gives for it."""
    digest = image_id.get("imageDigest")
    tag = image_id.get("imageTag")
    if digest is None and tag is None:
        return "MissingDigestAndTag"
    if digest is not None and not manifests.is_valid_digest(digest):
        return "InvalidImageDigest"
    if tag is not None and not TAG_PATTERN.match(tag):
        return "InvalidImageTag"
    if tag is not None:
        tagged = repo.tags.get(tag)
        if tagged is None:
            return "ImageNotFound"
        if digest is not None and tagged != digest:
            return "ImageTagDoesNotMatchDigest"
        return repo.images[tagged]
    image = repo.images.get(digest or "")
    return image if image is not None else "ImageNotFound"


def _format_id(image_id: Body) -> str:
    parts = [f"{k}:'{image_id[k]}'" for k in ("imageDigest", "imageTag") if k in image_id]
    return "{" + ", ".join(parts) + "}"


def _check_batch_size(ids: list[Body]) -> None:
    if not 1 <= len(ids) <= MAX_BATCH_IDS:
        raise ApiError(
            "InvalidParameterException",
            f"1 validation error detected: Value at 'imageIds' failed to satisfy constraint: "
            f"Member must have length between 1 and {MAX_BATCH_IDS} (got {len(ids)})",
        )


def _page_size(body: Body) -> int:
    size = body.get("maxResults", DEFAULT_PAGE)
    if not isinstance(size, int) or not 1 <= size <= MAX_PAGE:
        raise ApiError(
            "InvalidParameterException",
            f"1 validation error detected: Value '{size}' at 'maxResults' failed to satisfy "
            f"constraint: Member must have value between 1 and {MAX_PAGE}",
        )
    return size


def _encode_token(position: list[Any], operation: str) -> str:
    raw = json.dumps({"p": position, "o": operation}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str | None, operation: str) -> list[Any] | None:
    if token is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        if data["o"] == operation and isinstance(data["p"], list):
            return list(data["p"])
    except (ValueError, KeyError, TypeError):
        pass
    raise ApiError("InvalidParameterException", "Invalid parameter at 'nextToken'")


def _filter(body: Body) -> Callable[[StoredImage], bool]:
    filt = body.get("filter") or {}
    tag_status = filt.get("tagStatus", "ANY")
    image_status = filt.get("imageStatus", "ACTIVE")
    if tag_status not in ("TAGGED", "UNTAGGED", "ANY"):
        raise ApiError("InvalidParameterException", f"Invalid tagStatus '{tag_status}'")
    if image_status not in ("ACTIVE", "ARCHIVED", "ACTIVATING", "ANY"):
        raise ApiError("InvalidParameterException", f"Invalid imageStatus '{image_status}'")

    def accept(image: StoredImage) -> bool:
        if image_status != "ANY" and image.status != image_status:
            return False
        if tag_status == "TAGGED":
            return bool(image.tags)
        if tag_status == "UNTAGGED":
            return not image.tags
        return True

    return accept


def _page(
    repo: StoredRepository,
    body: Body,
    operation: str,
    key: str,
    render: Callable[[StoredImage], Iterable[Body]],
) -> Body:
    """The response of a paged image listing: `key` holds this page's entries."""
    entries, token = _entries(repo, body, operation, _filter(body), render)
    page: Body = {key: entries}
    if token:
        page["nextToken"] = token
    return page


def _entries(
    repo: StoredRepository,
    body: Body,
    operation: str,
    accept: Callable[[StoredImage], bool],
    render: Callable[[StoredImage], Iterable[Body]],
) -> tuple[list[Body], str | None]:
    """One page of at most maxResults entries, images in push order.

    The token is (push number, entries of that image already returned): deletions or
    compaction between pages never make an image be skipped or repeated, and an image
    with more tags than the page has room for continues on the next page."""
    limit = _page_size(body)
    token = _decode_token(body.get("nextToken"), operation)
    start_seq, skip = (int(token[0]), int(token[1])) if token else (0, 0)
    out: list[Body] = []
    for image in repo.iter_from(start_seq):
        if not accept(image):
            continue
        done = skip if image.seq == start_seq else 0
        entries = list(render(image))[done:]
        room = limit - len(out)
        if room == 0:
            return out, _encode_token([image.seq, done], operation)
        if len(entries) > room:
            out.extend(entries[:room])
            return out, _encode_token([image.seq, done + room], operation)
        out.extend(entries)
    return out, None


def _detail(repo: StoredRepository, image: StoredImage) -> Body:
    detail: Body = {
        "registryId": repo.registry_id,
        "repositoryName": repo.name,
        "imageDigest": image.digest,
    }
    if image.tags:
        detail["imageTags"] = list(image.tags)
    detail["imageSizeInBytes"] = image.size
    detail["imagePushedAt"] = _ts(image.pushed_at)
    detail["imageManifestMediaType"] = image.media_type
    if image.artifact_media_type is not None:
        detail["artifactMediaType"] = image.artifact_media_type
    if image.last_pull is not None:
        detail["lastRecordedPullTime"] = _ts(image.last_pull)
    if image.subject is not None:
        detail["subjectManifestDigest"] = image.subject
    detail["imageStatus"] = image.status
    if image.archived_at is not None:
        detail["lastArchivedAt"] = _ts(image.archived_at)
    if image.activated_at is not None:
        detail["lastActivatedAt"] = _ts(image.activated_at)
    return detail

"""ECR's archive storage class in the sandbox: UpdateImageStorageClass.

One image per call. ARCHIVE moves an ACTIVE image to ARCHIVED (`lastArchivedAt`);
STANDARD moves an ARCHIVED image to ACTIVATING, which becomes ACTIVE (`lastActivatedAt`)
once the store's `restore_delay` has passed on its clock. ECR's API reference lists the
errors but not every case that raises them; what the sandbox answers where it is silent
is said in docs/archive.md#the-sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cleaner.sandbox.ecr_api import ApiError, Body, _resolve
from cleaner.sandbox.store import StoredRepository

if TYPE_CHECKING:
    from cleaner.sandbox.ecr_api import EcrApi

TARGETS = ("STANDARD", "ARCHIVE")
# The image status each target storage class needs to start from.
STARTS_FROM = {"ARCHIVE": "ACTIVE", "STANDARD": "ARCHIVED"}
# BatchDeleteImage-style failure codes for an imageId, as this operation raises them.
ID_ERRORS = {
    "ImageNotFound": "ImageNotFoundException",
    "MissingDigestAndTag": "InvalidParameterException",
    "InvalidImageDigest": "InvalidParameterException",
    "InvalidImageTag": "InvalidParameterException",
    "ImageTagDoesNotMatchDigest": "InvalidParameterException",
}


def update_image_storage_class(api: EcrApi, account: str, region: str, body: Body) -> Body:
    _validate(body)
    repo = api._repo(account, region, body)
    image_id = body["imageId"]
    image = _resolve(repo, image_id)
    if isinstance(image, str):
        raise ApiError(ID_ERRORS.get(image, "InvalidParameterException"), _id_message(image))
    target = body["targetStorageClass"]
    if image.status != STARTS_FROM[target]:
        raise ApiError(
            "ImageStorageClassUpdateNotSupportedException",
            f"The image {image.digest} is {image.status}: it cannot be moved to the "
            f"{target} storage class",
        )
    store = api.store
    if target == "ARCHIVE":
        # ECR archives an index before its children; the API's error for a child whose
        # index is still in standard storage is not documented (docs/archive.md).
        live = sorted(p for p in repo.parents.get(image.digest, ()) if _not_archived(repo, p))
        if live:
            raise ApiError(
                "InvalidParameterException",
                f"The image {image.digest} is referenced by the image index {live[0]}, which "
                "is not archived: archive the index first",
            )
        store.archive(image)
    else:
        store.restore(repo, image)
    answer_id: Body = {"imageDigest": image.digest}
    if "imageTag" in image_id:
        answer_id["imageTag"] = image_id["imageTag"]
    return {
        "registryId": repo.registry_id,
        "repositoryName": repo.name,
        "imageId": answer_id,
        "imageStatus": image.status,
    }


def _not_archived(repo: StoredRepository, digest: str) -> bool:
    parent = repo.images.get(digest)
    return parent is not None and parent.status != "ARCHIVED"


def _validate(body: Body) -> None:
    """The JSON protocol's own checks, which ECR reports as one ValidationException."""
    problems = [
        f"Value null at '{name}' failed to satisfy constraint: Member must not be null"
        for name in ("repositoryName", "imageId", "targetStorageClass")
        if body.get(name) is None
    ]
    target = body.get("targetStorageClass")
    if target is not None and target not in TARGETS:
        problems.append(
            f"Value '{target}' at 'targetStorageClass' failed to satisfy constraint: Member "
            f"must satisfy enum value set: [{', '.join(TARGETS)}]"
        )
    if problems:
        count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected"
        raise ApiError("ValidationException", f"{count}: {'; '.join(problems)}")


def _id_message(code: str) -> str:
    if code == "ImageNotFound":
        return "The image requested does not exist in the specified repository"
    return f"Invalid parameter at 'imageId': {code}"

"""Manifests as ECR stores them: exact bytes, digests of those bytes, what ECR reads from them.

ECR identifies an image by the sha256 of its manifest bytes, so the sandbox does the same
(moto does not). Builders here produce deterministic compact JSON so that tests can
predict digests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
INDEX_MEDIA_TYPES = frozenset({DOCKER_MANIFEST_LIST, OCI_INDEX})
MANIFEST_MEDIA_TYPES = frozenset({DOCKER_MANIFEST, OCI_MANIFEST})
SUPPORTED_MEDIA_TYPES = INDEX_MEDIA_TYPES | MANIFEST_MEDIA_TYPES

DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_EMPTY = "application/vnd.oci.empty.v1+json"
COSIGN_SIGNATURE = "application/vnd.dev.cosign.simplesigning.v1+json"
IN_TOTO = "application/vnd.in-toto+json"

DIGEST_HEX_LENGTH = 64


class ManifestError(ValueError):
    """The bytes are not a manifest ECR would accept."""


def digest_of(manifest: str) -> str:
    return "sha256:" + hashlib.sha256(manifest.encode("utf-8")).hexdigest()


def blob_digest(seed: str) -> str:
    """A stable fake blob digest; the sandbox stores no blobs, only their descriptors."""
    return "sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()


def is_valid_digest(value: str) -> bool:
    algorithm, _, hex_part = value.partition(":")
    return (
        algorithm == "sha256"
        and len(hex_part) == DIGEST_HEX_LENGTH
        and all(c in "0123456789abcdef" for c in hex_part)
    )


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), sort_keys=False)


def image_manifest(
    *,
    seed: str,
    layer_sizes: Sequence[int],
    oci: bool = False,
    config_media_type: str | None = None,
    subject: tuple[str, str, int] | None = None,
    artifact_type: str | None = None,
    annotations: dict[str, str] | None = None,
) -> str:
    """A single-platform manifest; `seed` makes its config (and so its digest) unique.

    `subject` is (digest, media type, size) of the manifest this one refers to (OCI 1.1).
    """
    layer_type = OCI_LAYER if oci else DOCKER_LAYER
    doc: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
    }
    if artifact_type is not None:
        doc["artifactType"] = artifact_type
    doc["config"] = {
        "mediaType": config_media_type or (OCI_CONFIG if oci else DOCKER_CONFIG),
        "size": 1024,
        "digest": blob_digest("config:" + seed),
    }
    doc["layers"] = [
        {"mediaType": layer_type, "size": size, "digest": blob_digest(f"layer:{seed}:{i}")}
        for i, size in enumerate(layer_sizes)
    ]
    if subject is not None:
        doc["subject"] = {"mediaType": subject[1], "digest": subject[0], "size": subject[2]}
    if annotations:
        doc["annotations"] = dict(annotations)
    return dumps(doc)


@dataclass(frozen=True, slots=True)
class ChildRef:
    digest: str
    media_type: str
    size: int
    platform: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


def index_manifest(children: Sequence[ChildRef], *, oci: bool = False) -> str:
    entries: list[dict[str, Any]] = []
    for child in children:
        entry: dict[str, Any] = {
            "mediaType": child.media_type,
            "size": child.size,
            "digest": child.digest,
        }
        if child.platform is not None:
            entry["platform"] = dict(child.platform)
        if child.annotations:
            entry["annotations"] = dict(child.annotations)
        entries.append(entry)
    media_type = OCI_INDEX if oci else DOCKER_MANIFEST_LIST
    return dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": entries})


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    media_type: str
    artifact_media_type: str | None
    subject: str | None
    children: tuple[str, ...]
    layers_size: int
    platforms: tuple[str | None, ...]


def parse(manifest: str, declared_media_type: str | None) -> ParsedManifest:
    """Read what ECR derives from a manifest; raise ManifestError for what ECR rejects."""
    try:
        doc = json.loads(manifest)
    except ValueError as exc:
        raise ManifestError(f"Invalid parameter at 'imageManifest': not JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 2:
        raise ManifestError("Invalid parameter at 'imageManifest': schemaVersion must be 2")
    inner_type = doc.get("mediaType")
    if declared_media_type and inner_type and declared_media_type != inner_type:
        raise ManifestError(
            f"Invalid parameter at 'imageManifestMediaType': {declared_media_type} does not "
            f"match the manifest's mediaType {inner_type}"
        )
    media_type = declared_media_type or inner_type
    if media_type is None:
        media_type = OCI_INDEX if "manifests" in doc else None
    if media_type not in SUPPORTED_MEDIA_TYPES:
        raise ManifestError(f"Invalid parameter at 'imageManifestMediaType': {media_type!r}")
    subject = doc.get("subject")
    subject_digest = subject.get("digest") if isinstance(subject, dict) else None
    if media_type in INDEX_MEDIA_TYPES:
        entries = doc.get("manifests")
        if not isinstance(entries, list):
            raise ManifestError("Invalid parameter at 'imageManifest': index without manifests")
        children = tuple(_descriptor_digest(e) for e in entries)
        platforms = tuple(_platform(e) for e in entries)
        return ParsedManifest(
            media_type, doc.get("artifactType"), subject_digest, children, 0, platforms
        )
    config = doc.get("config")
    layers = doc.get("layers", [])
    if not isinstance(config, dict) or not isinstance(layers, list):
        raise ManifestError("Invalid parameter at 'imageManifest': config and layers required")
    artifact_type = doc.get("artifactType") or config.get("mediaType")
    size = sum(int(layer.get("size", 0)) for layer in layers if isinstance(layer, dict))
    return ParsedManifest(media_type, artifact_type, subject_digest, (), size, ())


def _descriptor_digest(entry: Any) -> str:
    digest = entry.get("digest") if isinstance(entry, dict) else None
    if not isinstance(digest, str) or not is_valid_digest(digest):
        raise ManifestError(f"Invalid parameter at 'imageManifest': bad descriptor {entry!r}")
    return digest


def _platform(entry: dict[str, Any]) -> str | None:
    platform = entry.get("platform")
    if not isinstance(platform, dict):
        return None
    return f"{platform.get('os')}/{platform.get('architecture')}"

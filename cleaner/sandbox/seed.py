"""Seeding API: build registries directly in the sandbox store (no HTTP, no O(n) scans).

Everything goes through the same store methods and manifest rules as PutImage, so a
seeded image is indistinguishable from a pushed one: its digest is the sha256 of its
manifest, indexes reference children that exist, tags move like ECR's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cleaner.sandbox import manifests as mf
from cleaner.sandbox.store import Store, StoredImage, StoredRepository

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
BUILDX_ATTESTATION = "attestation-manifest"


@dataclass(frozen=True, slots=True)
class IndexInfo:
    digest: str
    children: tuple[str, ...]  # platform images
    attestations: tuple[str, ...]  # buildx-style attestation manifests


class Seeder:
    def __init__(
        self, store: Store, account: str = DEFAULT_ACCOUNT, region: str = DEFAULT_REGION
    ) -> None:
        self.store = store
        self.account = account
        self.region = region

    def repository(
        self,
        name: str,
        *,
        account: str | None = None,
        region: str | None = None,
        tag_mutability: str = "MUTABLE",
    ) -> RepoSeeder:
        with self.store.lock:
            acct, reg = account or self.account, region or self.region
            repo = self.store.repository(acct, reg, name) or self.store.create_repository(
                acct, reg, name, tag_mutability=tag_mutability
            )
        return RepoSeeder(self.store, repo)


class RepoSeeder:
    def __init__(self, store: Store, repo: StoredRepository) -> None:
        self.store = store
        self.repo = repo

    # -- single images ----------------------------------------------------------------

    def image(
        self,
        tags: Sequence[str] = (),
        *,
        pushed_at: datetime | None = None,
        last_pulled: datetime | None = None,
        size: int = 10_000_000,
        layers: int = 2,
        oci: bool = False,
        status: str = "ACTIVE",
        name: str | None = None,
    ) -> str:
        """A single-platform image of `size` bytes (split over `layers`); its digest."""
        seed = name or f"{self.repo.name}#{self._nonce()}"
        sizes = _split(size, layers)
        text = mf.image_manifest(seed=seed, layer_sizes=sizes, oci=oci)
        media = mf.OCI_MANIFEST if oci else mf.DOCKER_MANIFEST
        config = mf.OCI_CONFIG if oci else mf.DOCKER_CONFIG
        return self._add(text, media, config, None, (), size, tags, pushed_at, last_pulled, status)

    def index(
        self,
        tags: Sequence[str] = (),
        *,
        platforms: Sequence[str] = ("linux/amd64", "linux/arm64"),
        attestations: bool = False,
        pushed_at: datetime | None = None,
        last_pulled: datetime | None = None,
        child_size: int = 10_000_000,
        oci: bool = True,
        reuse_children: Sequence[str] = (),
    ) -> IndexInfo:
        """A multi-arch index with one untagged child per platform (plus, with
        `attestations`, one buildx attestation manifest per platform). Children in
        `reuse_children` (existing digests) are listed instead of new ones."""
        when = pushed_at or self.store.clock()
        children = list(reuse_children)
        refs = [self._ref(d, None) for d in children]
        for platform in platforms[len(children) :]:
            child = self.image(pushed_at=when, size=child_size, oci=oci)
            children.append(child)
            refs.append(self._ref(child, platform))
        attestation_digests = []
        if attestations:
            for child in children:
                att = self.image(pushed_at=when, size=2048, layers=1, oci=True)
                attestation_digests.append(att)
                refs.append(
                    mf.ChildRef(
                        att,
                        mf.OCI_MANIFEST,
                        len(self.repo.images[att].manifest),
                        {"architecture": "unknown", "os": "unknown"},
                        {
                            "vnd.docker.reference.digest": child,
                            "vnd.docker.reference.type": BUILDX_ATTESTATION,
                        },
                    )
                )
        text = mf.index_manifest(refs, oci=oci)
        media = mf.OCI_INDEX if oci else mf.DOCKER_MANIFEST_LIST
        size = max((self.repo.images[c].size for c in children), default=0)
        all_children = (*children, *attestation_digests)
        digest = self._add(text, media, None, None, all_children, size, tags, when, last_pulled)
        return IndexInfo(digest, tuple(children), tuple(attestation_digests))

    def cosign(self, subject: str, kind: str = "sig", *, pushed_at: datetime | None = None) -> str:
        """A cosign-style artifact tagged `sha256-<hex>.<kind>` (no OCI subject)."""
        tag = subject.replace(":", "-") + "." + kind
        layer = {"sig": mf.COSIGN_SIGNATURE, "att": mf.IN_TOTO, "sbom": "text/spdx+json"}[kind]
        seed = f"cosign:{self.repo.name}:{tag}:{self._nonce()}"
        text = mf.image_manifest(
            seed=seed, layer_sizes=[512], oci=True, annotations={"dev.sigstore.cosign": layer}
        )
        return self._add(
            text, mf.OCI_MANIFEST, mf.OCI_CONFIG, None, (), 512, [tag], pushed_at, None
        )

    def referrer(
        self,
        subject: str,
        artifact_type: str = "application/vnd.cncf.notary.signature",
        *,
        pushed_at: datetime | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        """An OCI 1.1 referrer whose `subject` is `subject` (which may be absent)."""
        known = self.repo.images.get(subject)
        descriptor = (subject, known.media_type if known else mf.OCI_MANIFEST, 1024)
        text = mf.image_manifest(
            seed=f"referrer:{self._nonce()}",
            layer_sizes=[700],
            oci=True,
            config_media_type=mf.OCI_EMPTY,
            subject=descriptor,
            artifact_type=artifact_type,
        )
        return self._add(
            text, mf.OCI_MANIFEST, artifact_type, subject, (), 700, tags, pushed_at, None
        )

    # -- bulk fast path ---------------------------------------------------------------

    def bulk(
        self,
        count: int,
        *,
        start: datetime,
        step: timedelta = timedelta(minutes=1),
        tag_every: int = 1,
        tag_prefix: str = "build-",
        size: int = 1_000_000,
        pulled_every: int = 0,
    ) -> list[str]:
        """`count` single-platform images pushed `step` apart from `start`; every
        `tag_every`-th is tagged `<tag_prefix><n>` (0: none), every `pulled_every`-th
        was pulled at its push time + 1 day (0: none). About 100k images a few seconds."""
        digests = []
        for n in range(count):
            tags = [f"{tag_prefix}{n}"] if tag_every and n % tag_every == 0 else []
            pushed = start + step * n
            pulled = pushed + timedelta(days=1) if pulled_every and n % pulled_every == 0 else None
            digests.append(
                self.image(tags, pushed_at=pushed, last_pulled=pulled, size=size, layers=1)
            )
        return digests

    # -- changes ----------------------------------------------------------------------

    def tag(self, tag: str, digest: str) -> None:
        with self.store.lock:
            self.repo.set_tag(tag, digest)

    def untag(self, tag: str) -> None:
        with self.store.lock:
            self.repo.remove_tag(tag)

    def delete(self, digest: str) -> None:
        with self.store.lock:
            self.repo.remove(digest)

    def set_pulled(self, digest: str, when: datetime | None) -> None:
        self.repo.images[digest].last_pull = when

    def archive(self, digest: str, at: datetime | None = None) -> None:
        """Put an image in archive storage, archived `at` (default: the store's clock),
        without UpdateImageStorageClass's checks: any state ECR could have reached."""
        with self.store.lock:
            image = self.repo.images[digest]
            image.status, image.archived_at = "ARCHIVED", at or self.store.clock()

    def snapshot(self) -> dict[str, tuple[str, ...]]:
        """digest -> sorted tags, for asserting what a run left behind."""
        with self.store.lock:
            return {d: tuple(sorted(i.tags)) for d, i in self.repo.images.items()}

    # -- internals ----------------------------------------------------------------------

    def lifecycle_policy(self, text: str) -> None:
        """Give the repository this lifecycle policy, as PutLifecyclePolicy would."""
        from cleaner.sandbox.lifecycle_api import check_text

        check_text(text)
        with self.store.lock:
            self.repo.lifecycle_policy = text

    def _nonce(self) -> int:
        """Unique within the repository and independent of anything seeded elsewhere, so
        the same seeding code gives the same digests in every process."""
        self.repo.seeded += 1
        return self.repo.seeded

    def _ref(self, digest: str, platform: str | None) -> mf.ChildRef:
        image = self.repo.images[digest]
        plat = None
        if platform is not None:
            os_name, _, arch = platform.partition("/")
            plat = {"architecture": arch, "os": os_name}
        return mf.ChildRef(digest, image.media_type, len(image.manifest), plat)

    def _add(
        self,
        text: str,
        media_type: str,
        artifact_type: str | None,
        subject: str | None,
        children: tuple[str, ...],
        size: int,
        tags: Iterable[str],
        pushed_at: datetime | None,
        last_pulled: datetime | None,
        status: str = "ACTIVE",
    ) -> str:
        digest = mf.digest_of(text)
        with self.store.lock:
            if digest not in self.repo.images:
                image = StoredImage(
                    digest=digest,
                    manifest=text,
                    media_type=media_type,
                    artifact_media_type=artifact_type,
                    subject=subject,
                    children=children,
                    size=size,
                    pushed_at=pushed_at or self.store.clock(),
                    last_pull=last_pulled,
                    status=status,
                    archived_at=self.store.clock() if status == "ARCHIVED" else None,
                )
                self.repo.add(image)
            for tag in tags:
                self.repo.set_tag(tag, digest)
        return digest


def _split(total: int, parts: int) -> list[int]:
    parts = max(parts, 1)
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]

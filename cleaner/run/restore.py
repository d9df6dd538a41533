"""`ecr-cleaner restore`: bring archived images back to ECR standard storage.

From a run's report (every image it archived) or by name. Each image is described
first: an ACTIVE or ACTIVATING image is reported as such, not moved (restoring twice is
harmless). Images that an index lists go before the index, so that a restored index
never names archived platform images. ECR then takes up to about 20 minutes to make a
restored image ACTIVE: it is reported ACTIVATING until then.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import structlog

from cleaner.aws.ecr import BATCH_SIZE, Registry
from cleaner.aws.pacing import RateLimiter, Unlimited
from cleaner.config.model import Config, Target
from cleaner.core.model import Image, ImageStatus
from cleaner.errors import error_code, error_text
from cleaner.exitcodes import ExitCode
from cleaner.inuse.reader import TargetClients

log = structlog.get_logger("cleaner.run.restore")

STANDARD = "STANDARD"
NOT_SUPPORTED = "ImageStorageClassUpdateNotSupportedException"
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}")


class RestoreError(Exception):
    """Bad input (the report, the names, no target for them): exit 2, nothing touched."""


@dataclass(frozen=True)
class Wanted:
    """Images to restore in one repository, and the config target that reaches it."""

    target: Target
    registry_id: str | None
    repository: str
    digests: tuple[str, ...]
    tags: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Restored:
    region: str
    registry_id: str | None
    repository: str
    digest: str
    tags: tuple[str, ...]
    result: str  # restored | already active | already activating | failed
    status: str | None  # the image's status now (None: unknown, or gone)
    failure_code: str | None = None
    message: str | None = None


def from_report(config: Config, path: str) -> list[Wanted]:
    """Every image the run in `path` archived (status `archived`), by repository."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        entries = [(r, a) for r in data["repositories"] for a in r["actions"]]
        found: dict[tuple[str, str, str], dict[str, tuple[str, ...]]] = {}
        for repo, action in entries:
            if action["kind"] == "archive_image" and action["status"] == "archived":
                key = (repo["region"], repo["registry_id"], repo["repository"])
                found.setdefault(key, {})[action["digest"]] = tuple(action["tags"])
    except OSError as exc:
        raise RestoreError(f"--report {path}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise RestoreError(f"--report {path}: not an ecr-cleaner JSON report ({exc!r})") from None
    wanted = []
    for (region, registry_id, repository), tags in sorted(found.items()):
        target = _target(config, region, registry_id)
        if target is None:
            raise RestoreError(
                f"--report {path}: images in {region}/{registry_id} ({repository}), which no "
                "target of the config reaches"
            )
        wanted.append(Wanted(target, registry_id, repository, tuple(tags), tags))
    return wanted


def _target(config: Config, region: str, registry_id: str) -> Target | None:
    """The first target reaching that registry: named by its id, or the caller's own."""
    reaching = [t for t in config.targets if t.region == region]
    named = [t for t in reaching if t.registry_id == registry_id]
    return next(iter(named or [t for t in reaching if t.registry_id is None]), None)


def by_name(
    config: Config,
    repository: str,
    digests: Sequence[str],
    *,
    region: str | None,
    registry_id: str | None,
) -> list[Wanted]:
    """Named images of one repository, in the config's target for `region` (default:
    the only region the config has) and `registry_id` (default: that target's)."""
    bad = [d for d in digests if not _DIGEST.fullmatch(d)]
    if bad:
        raise RestoreError(f"--digest {bad[0]}: not an image digest like sha256:<hex>")
    regions = sorted({t.region for t in config.targets})
    if region is None and len(regions) > 1:
        raise RestoreError(f"the config's targets are in {', '.join(regions)}: say --region")
    region = region or regions[0]
    if registry_id is not None:
        target = _target(config, region, registry_id)
        if target is None:
            raise RestoreError(f"no target of the config reaches {region}/{registry_id}")
    else:
        candidates = [t for t in config.targets if t.region == region]
        if not candidates:
            raise RestoreError(f"no target of the config is in {region}")
        if len({t.registry_id for t in candidates}) > 1:
            raise RestoreError(f"several registries have targets in {region}: say --registry-id")
        target = candidates[0]
    unique = tuple(dict.fromkeys(digests))
    return [Wanted(target, registry_id or target.registry_id, repository, unique, {})]


def restore(wanted: Iterable[Wanted], clients: TargetClients, config: Config) -> list[Restored]:
    """Restore every wanted image; one repository's failure never stops the others."""
    results: list[Restored] = []
    rate = config.limits.requests_per_second
    limiters: dict[tuple[str | None, str | None, str], RateLimiter] = {}
    with ThreadPoolExecutor(config.limits.concurrency, thread_name_prefix="restore") as pool:
        for item in wanted:
            limiter: RateLimiter | Unlimited = Unlimited()
            if rate is not None:
                key = (item.registry_id, item.target.role_arn, item.target.region)
                limiter = limiters.setdefault(key, RateLimiter(rate))
            registry = Registry(
                clients.for_target("ecr", item.target),
                item.target.region,
                item.registry_id,
                limiter,
                storage_client=clients.for_target("ecr", item.target, lane="storage"),
            )
            results.extend(_Repository(registry, item, pool).restore())
    return results


class _Repository:
    def __init__(self, registry: Registry, wanted: Wanted, pool: ThreadPoolExecutor) -> None:
        self.registry = registry
        self.wanted = wanted
        self.pool = pool
        self.tags = dict(wanted.tags)
        self.log = log.bind(
            region=registry.region, registry_id=wanted.registry_id, repository=wanted.repository
        )

    def restore(self) -> list[Restored]:
        name = self.wanted.repository
        current: dict[str, Image] = {}
        try:
            for start in range(0, len(self.wanted.digests), BATCH_SIZE):
                chunk = self.wanted.digests[start : start + BATCH_SIZE]
                current.update(self.registry.describe(name, chunk))
        except Exception as exc:  # RepositoryNotFoundException, denied: every image failed
            return [self._failed(d, exc) for d in self.wanted.digests]
        for digest, image in current.items():
            self.tags.setdefault(digest, image.tags)
        out: dict[str, Restored] = {}
        archived: list[Image] = []
        for digest in self.wanted.digests:
            found = current.get(digest)
            if found is None:
                out[digest] = self._done(digest, "failed", None, "ImageNotFound", "not found")
            elif found.status is ImageStatus.ARCHIVED:
                archived.append(found)
            else:
                out[digest] = self._done(digest, f"already {found.status.lower()}", found.status)
        # What an index lists goes before the index (nested indexes are rare).
        for index in (False, True):
            wave = [i.digest for i in archived if i.is_index is index]
            out.update(zip(wave, self.pool.map(self._move, wave), strict=True))
        return [out[d] for d in self.wanted.digests]

    def _move(self, digest: str) -> Restored:
        try:
            status = self.registry.move(self.wanted.repository, digest, STANDARD)
        except Exception as exc:
            if error_code(exc) == NOT_SUPPORTED:  # restored meanwhile: say what it is now
                now = self.registry.describe(self.wanted.repository, [digest]).get(digest)
                if now is not None and now.status is not ImageStatus.ARCHIVED:
                    return self._done(digest, f"already {now.status.lower()}", now.status)
            return self._failed(digest, exc)
        return self._done(digest, "restored", status)

    def _failed(self, digest: str, exc: Exception) -> Restored:
        return self._done(digest, "failed", None, error_code(exc), error_text(exc))

    def _done(
        self,
        digest: str,
        result: str,
        status: str | None,
        code: str | None = None,
        message: str | None = None,
    ) -> Restored:
        w = self.wanted
        tags = self.tags.get(digest, ())
        where = (w.target.region, w.registry_id, w.repository)
        done = Restored(*where, digest, tags, result, status, code, message)
        event = "image_restored" if result == "restored" else "restore_" + result.replace(" ", "_")
        emit = self.log.warning if code else self.log.info
        emit(event, digest=digest, tags=list(tags), status=status, failure_code=code, error=message)
        return done


def to_json(results: Sequence[Restored]) -> str:
    body = {"summary": summary(results), "images": [asdict(r) for r in results]}
    return json.dumps(body, indent=2) + "\n"


def summary(results: Sequence[Restored]) -> dict[str, int]:
    counts = dict.fromkeys(("restored", "already active", "already activating", "failed"), 0)
    for r in results:
        counts[r.result] += 1
    return {"images": len(results), **{k.replace(" ", "_"): n for k, n in counts.items()}}


def to_table(results: Sequence[Restored]) -> str:
    if not results:
        return "nothing to restore: no image was archived\n"
    header = ["region", "registry", "repository", "digest", "tags", "now", "result"]
    rows = [header]
    for r in results:
        result = r.result + (f" ({r.failure_code}: {r.message})" if r.failure_code else "")
        tags = ", ".join(r.tags) or "<untagged>"
        where = [r.region, r.registry_id or "default", r.repository, r.digest[:19]]
        rows.append([*where, tags, r.status or "-", result])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        for row in rows
    ]
    s = summary(results)
    lines.append(
        f"{s['images']} images: {s['restored']} restored, {s['already_active']} already active, "
        f"{s['already_activating']} already activating, {s['failed']} failed"
    )
    if s["restored"] or s["already_activating"]:
        lines.append("ECR makes a restored image ACTIVE (pullable) within about 20 minutes.")
    return "\n".join(lines) + "\n"


def restore_command(args: argparse.Namespace, config: Config) -> int:
    """`ecr-cleaner restore`: exit 0 when every image is (being) restored, 1 when one could
    not be, 2 for bad input (nothing touched)."""
    from cleaner import logs
    from cleaner.aws.clients import Clients

    logs.configure(args.log_format, args.log_level)
    try:
        if args.report is not None:
            if args.digest:
                raise RestoreError("--digest goes with --repository, not with --report")
            wanted = from_report(config, args.report)
        else:
            if not args.digest:
                raise RestoreError("--repository needs --digest DIGEST...")
            wanted = by_name(
                config,
                args.repository,
                args.digest,
                region=args.region,
                registry_id=args.registry_id,
            )
    except RestoreError as exc:
        print(f"ecr-cleaner: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    results = restore(wanted, Clients(), config)
    sys.stdout.write(to_json(results) if args.format == "json" else to_table(results))
    return ExitCode.FAILURES if any(r.result == "failed" for r in results) else ExitCode.OK

"""targets → this shard's repositories → in-use → inventory → plan, on a thread pool.

Everything is planned before anything is deleted (limits.max_deletions is checked on
the whole plan). Work runs concurrently, but results come back in input order and
sorted by repository, so a report never depends on which thread finished first.
"""

from __future__ import annotations

import contextvars
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

import structlog

from cleaner.aws.ecr import ManifestCache, Registry
from cleaner.aws.pacing import Pacing, RateLimiter, Unlimited
from cleaner.config.model import Config, InUseSource, OrphanedReferrers, Policy, Target
from cleaner.core.model import RepositoryPlan, RepositoryRef, Shard
from cleaner.core.planner import plan_repository
from cleaner.core.references import Usage, UsageIndex, resolve_in_use
from cleaner.errors import error_text
from cleaner.inuse.reader import InUseReader, InUseUnavailable, TargetClients
from cleaner.run.progress import Progress
from cleaner.run.stopping import StopRequest

log = structlog.get_logger("cleaner.run.pipeline")

NOT_FOUND = "repository not found"
# fnmatch's special characters: a name without them names one repository.
_GLOB = re.compile(r"[*?\[]")

# One repository planned at a time in a process. Planning is pure CPU, so threads
# planning together only take turns at the GIL every few milliseconds, each evicting
# the others' data from the CPU caches (bench/planning_threads.py). Listing and
# deleting, which wait on the network, still overlap; and plans finish one by one, so
# their repositories' deletions start sooner.
PLANNING = threading.Lock()

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Planned:
    plan: RepositoryPlan
    registry: Registry | None  # None: nothing to execute (failed or skipped)
    expected_tags: Mapping[str, tuple[str, ...]]
    seconds: float = 0.0  # spent listing its images and planning


@dataclass
class Work:
    """One repository to plan, with what its target's sources found in use."""

    registry: Registry
    ref: RepositoryRef
    policy: Policy
    usages: UsageIndex | None
    target: int = 0  # position in config.targets: another process rebuilds `registry` from it


@dataclass
class _Scan:
    work: list[Work] = field(default_factory=list)
    # Reported as they are, never executed: failures, and repositories not found.
    reported: list[Planned] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def in_pool(pool: Executor, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """fn over items on the pool, results in the order of `items`. Each task runs in a
    copy of the caller's context, so structlog's bound context variables follow it."""
    futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
    return [f.result() for f in futures]


@dataclass
class Planner:
    config: Config
    clients: TargetClients
    now: datetime
    cache: ManifestCache
    shard: Shard | None = None
    pacing: Pacing = field(default_factory=Pacing)
    stop: StopRequest = field(default_factory=StopRequest)
    progress: Progress = field(default_factory=Progress)
    _limiters: dict[tuple[str | None, str | None, str], RateLimiter] = field(default_factory=dict)
    _registries: dict[int, Registry] = field(default_factory=dict)
    # Run-level warnings of the last plan_all (repositories not found), in target order.
    warnings: list[str] = field(default_factory=list)

    def plan_all(self, pool: Executor) -> list[Planned]:
        work, reported = self.scan_all(pool)
        return self.plan_scanned(pool, work, reported)

    def plan_scanned(
        self, pool: Executor, work: Sequence[Work], reported: Sequence[Planned]
    ) -> list[Planned]:
        """What scan_all found, planned, sorted by repository (as the report lists it)."""
        planned = in_pool(pool, self.plan, work) + list(reported)
        planned.sort(key=lambda p: p.plan.repository)
        self.warnings += [w for p in planned for w in p.plan.warnings]
        return planned

    def scan_all(self, pool: Executor) -> tuple[list[Work], list[Planned]]:
        """Each repository to work on (with what its sources see in use), and those only
        to report (failed, not found)."""
        # Targets are set up one after another (clients, limiters: cheap and not all
        # thread-safe); listing and the in-use sources then run on the pool.
        registries = [(i, self.registry(i)) for i in range(len(self.config.targets))]
        scans = in_pool(pool, lambda ir: self._listed(self._scan(*ir)), registries)
        self.warnings = [w for s in scans for w in s.warnings]
        return [w for s in scans for w in s.work], [p for s in scans for p in s.reported]

    def _listed(self, scan: _Scan) -> _Scan:
        # What is reported without planning is as good as planned.
        self.progress.target_listed(len(scan.work) + len(scan.reported))
        for _ in scan.reported:
            self.progress.repository_planned(0)
        return scan

    def registry(self, target: int) -> Registry:
        """The Registry of config.targets[target], made once (not thread-safe)."""
        if target not in self._registries:
            self._registries[target] = self._registry(self.config.targets[target])
        return self._registries[target]

    def _registry(self, target: Target) -> Registry:
        rate = self.config.limits.requests_per_second
        limiter: RateLimiter | Unlimited = Unlimited()
        if rate is not None:
            # One cap per registry, shared by every thread and target that reaches it.
            key = (target.registry_id, target.role_arn, target.region)
            if key not in self._limiters:
                self._limiters[key] = RateLimiter(
                    rate, clock=self.pacing.clock, sleep=self.pacing.sleep
                )
            limiter = self._limiters[key]
        client = self.clients.for_target("ecr", target)
        deleter = self.clients.for_target("ecr", target, lane="delete")
        mover = self.clients.for_target("ecr", target, lane="storage")
        return Registry(
            client,
            target.region,
            target.registry_id,
            limiter,
            deleter,
            storage_client=mover,
            concurrency=self.config.limits.concurrency,
        )

    def _scan(self, index: int, registry: Registry) -> _Scan:
        """The target's repositories in this shard, and what its in-use sources see."""
        target = self.config.targets[index]
        try:
            repositories = registry.repositories()
        except Exception as exc:  # one target's failure never stops the others
            ref = RepositoryRef(target.region, target.registry_id or "default", "*")
            error = f"cannot list repositories: {error_text(exc)}"
            log.error(
                "target_failed",
                target=f"{target.region}/{target.registry_id or 'default registry'}",
                region=target.region,
                registry_id=target.registry_id,
                error=error,
            )
            plan = RepositoryPlan(ref, None, 0, error=error, failed=True, whole_target=True)
            return _Scan(reported=[Planned(plan, None, {})])
        missing = self._not_found(target, repositories)
        chosen = []
        for ref in repositories:
            policy = self.config.policy_for(ref.name)
            if policy is None or not target.repositories.matches(ref.name):
                continue
            if self.shard is None or self.shard.owns(ref):
                chosen.append((ref, policy))
        wanted = [s for _, policy in chosen for s in policy.protect.in_use]
        try:
            found = InUseReader(self.clients).read(target, wanted) if wanted else {}
        except InUseUnavailable as exc:
            # Fail closed: no repository of this target is touched.
            failed = [_failed(ref, p.name, f"not touched: {exc}") for ref, p in chosen]
            return replace(missing, reported=missing.reported + failed)
        indexes: dict[tuple[InUseSource, ...], UsageIndex] = {}
        work = []
        for ref, policy in chosen:
            usages = None
            if policy.protect.in_use:
                usages = indexes.get(policy.protect.in_use)
                if usages is None:
                    usages = indexes[policy.protect.in_use] = _index(found, policy.protect.in_use)
            work.append(Work(registry, ref, policy, usages, index))
        return replace(missing, work=work)

    def _not_found(self, target: Target, listed: Sequence[RepositoryRef]) -> _Scan:
        """Repositories the target names literally (no glob) that the registry lacks: a
        typo must be seen. A name the target excludes or no policy matches would not
        have been cleaned anyway, so its absence says nothing."""
        names = {ref.name for ref in listed}
        # DescribeRepositories without a registryId lists the caller's own registry.
        registry_id = target.registry_id or (listed[0].registry_id if listed else "default")
        scan = _Scan()
        for name in dict.fromkeys(target.repositories.include):
            if _GLOB.search(name) or name in names or not target.repositories.matches(name):
                continue
            policy = self.config.policy_for(name)
            ref = RepositoryRef(target.region, registry_id, name)
            if policy is None or (self.shard is not None and not self.shard.owns(ref)):
                continue
            log.warning(
                "repository_not_found", repository=name, region=ref.region, registry_id=registry_id
            )
            scan.warnings.append(f"repository {name} not found in {ref.region}/{registry_id}")
            plan = RepositoryPlan(ref, policy.name, 0, error=NOT_FOUND)
            scan.reported.append(Planned(plan, None, {}))
        return scan

    def plan(self, work: Work) -> Planned:
        """Inventory and plan one repository (any thread)."""
        began = time.monotonic()
        planned = self._plan_one(work)
        planned.seconds = time.monotonic() - began
        self.progress.repository_planned(planned.plan.images_scanned)
        return planned

    def _plan_one(self, work: Work) -> Planned:
        ref = work.ref
        if self.stop.requested():
            # Not a failure: the operator asked to stop, and the report says so.
            plan = RepositoryPlan(
                ref, work.policy.name, 0, error=f"not planned: {self.stop.reason}"
            )
            return Planned(plan, None, {})
        with structlog.contextvars.bound_contextvars(
            repository=ref.name, region=ref.region, registry_id=ref.registry_id
        ):
            try:
                inventory = work.registry.inventory(ref, self.cache, archived=self._archived(work))
                with PLANNING:
                    usages = work.usages
                    in_use = None if usages is None else resolve_in_use(inventory, usages)
                    plan = plan_repository(
                        inventory, work.policy, self.config.limits, self.now, in_use=in_use
                    )
            except Exception as exc:  # one repository's failure never stops the others
                error = f"not touched: {error_text(exc)}"
                log.error("repository_failed", repository=ref.name, error=error)
                return _failed(ref, work.policy.name, error)
        for warning in plan.warnings:
            log.warning("archived_image_in_use", repository=ref.name, message=warning)
        expected = {a.digest: inventory.images[a.digest].tags for a in plan.actions}
        return Planned(plan, work.registry, expected)

    def _archived(self, work: Work) -> bool:
        """Whether archived images must be listed: a rule selects them, or referrers are
        deleted as orphans (a referrer of an archived subject is not an orphan)."""
        orphans = self.config.limits.orphaned_referrers is OrphanedReferrers.DELETE
        return work.policy.lists_archived or orphans


def _failed(ref: RepositoryRef, policy: str | None, error: str) -> Planned:
    """A repository that is reported with its error and not executed."""
    return Planned(RepositoryPlan(ref, policy, 0, error=error, failed=True), None, {})


def _index(
    found: Mapping[InUseSource, Sequence[Usage]], sources: Sequence[InUseSource]
) -> UsageIndex:
    """The usages of just these sources: a policy is protected by the sources it names."""
    return UsageIndex(u for s in dict.fromkeys(sources) for u in found.get(s, ()))

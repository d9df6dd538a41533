"""One run over several processes, as its first process sees it.

The repositories to plan (in the order one process would plan them) are handed out
one at a time, to whichever process asks first: this process's threads and the
workers' (cleaner/run/worker.py), each repository with one of the run's
limits.concurrency slots (cleaner/run/slots.py). A worker still starting simply asks
later, so a small run is not held up by it: this process's threads use every slot
meanwhile. Every process plans what it was handed and reports how much it would
delete. Nothing is deleted until this process has added those up and checked
limits.max_deletions over the whole run: then every process executes what it planned,
or none does. Results are put back in the order one process produces them, so the
report, the exit code and serve's metrics are the same as with one process.

A worker that dies does not take the run with it: the repositories it was handed are
reported as failed, saying whether it could have changed them. Only a worker that was
told to go ahead with a repository's execution can have.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial

from cleaner.core.model import RepositoryPlan
from cleaner.core.references import UsageIndex
from cleaner.core.storage import deletion_counts, max_deletions_warning
from cleaner.run import wire
from cleaner.run.finish import finish, makes_calls, repository_done
from cleaner.run.fleet import Fleet, Worker
from cleaner.run.parallel import Outcome, decide, share_limits
from cleaner.run.scan import Planned, Planner, Work, in_pool
from cleaner.run.slots import Slots


class Fanout:
    def __init__(
        self,
        planner: Planner,
        fleet: Fleet,
        work: list[Work],
        reported: list[Planned],
        *,
        dry_run: bool,
    ) -> None:
        self.planner = planner
        self.fleet = fleet
        self.work = work
        self.reported = reported
        self.dry_run = dry_run
        threads = planner.config.limits.concurrency
        self.slots = Slots(threads, len(work), fleet.lock)

    def run(self) -> Outcome:
        p = self.planner
        limits = share_limits(p.config.limits, len(self.fleet.workers) + 1)
        # This process's own registries, paced at its share of the rate.
        own = replace(p, config=replace(p.config, limits=limits), _limiters={}, _registries={})
        for target in sorted({w.target for w in self.work}):  # not thread-safe: first
            own.registry(target)
        self.fleet.go(limits, self.slots, self._item)
        planned: dict[int, Planned] = {}
        threads = limits.concurrency
        with ThreadPoolExecutor(threads, thread_name_prefix="cleaner") as pool:
            context = contextvars.copy_context
            loops = [pool.submit(context().run, self._plan, own, planned) for _ in range(threads)]
            for loop in loops:
                loop.result()
            self.fleet.wait(lambda: all(w.done_planning for w in self.fleet.workers))
            warning = max_deletions_warning(self._counts(planned), p.config.limits)
            limit_hit = decide(warning, self.dry_run)
            self.fleet.decide(limit_hit)
            mine = sorted(planned)
            step = partial(self._finish, limit_hit=limit_hit)
            finished = in_pool(pool, step, [planned[i] for i in mine] + self.reported)
        self.fleet.wait(lambda: all(w.over for w in self.fleet.workers))
        results = dict(zip(mine, finished[: len(mine)], strict=True))
        for worker in self.fleet.workers:
            results.update(worker.results)
            results.update(self._lost(worker))
        # In the order one process lists them: its work, then what was only reported;
        # sorted by repository (a stable sort, as one process's).
        ordered = [results[i] for i in range(len(self.work))] + finished[len(mine) :]
        ordered.sort(key=lambda plan: plan.repository)
        warnings = (*p.warnings, *(w for plan in ordered for w in plan.warnings))
        return Outcome(ordered, warnings, warning, limit_hit)

    def _plan(self, own: Planner, planned: dict[int, Planned]) -> None:
        """One of this process's threads: plan what is left until nothing is."""
        while (position := self.slots.next()) is not None:
            work = self.work[position]
            try:
                planned[position] = own.plan(replace(work, registry=own.registry(work.target)))
            finally:
                self.slots.release()
        self.fleet.dismiss_idle()

    def _finish(self, item: Planned, *, limit_hit: bool) -> RepositoryPlan:
        p = self.planner
        slot = makes_calls(item, limit_hit=limit_hit)
        if slot:
            self.slots.hold()
        try:
            return finish(
                item, limit_hit=limit_hit, dry_run=self.dry_run, stop=p.stop, progress=p.progress
            )
        finally:
            if slot:
                self.slots.release()

    def _item(self, position: int) -> wire.Item:
        """A repository for a worker to plan, with what it needs: the usages that can
        name its images (not the target's every usage), the index manifests known."""
        work = self.work[position]
        usages = None if work.usages is None else UsageIndex(work.usages.candidates(work.ref))
        manifests = dict(self.planner.cache.known(work.ref))
        return wire.Item(position, work.target, work.ref, usages, manifests)

    def _counts(self, planned: dict[int, Planned]) -> tuple[int, int, int]:
        """What the whole run would delete, archive and untag: this process's plans and
        what each worker reported of its own (also one that died since: its plans do
        not go ahead, but a run must not delete more because a process failed)."""
        parts = [deletion_counts([item.plan for item in planned.values()])]
        with self.fleet.lock:
            for worker in self.fleet.workers:
                parts.extend(worker.planned.values())
        images, archives, tags = (sum(part[k] for part in parts) for k in range(3))
        return images, archives, tags

    def _lost(self, worker: Worker) -> dict[int, RepositoryPlan]:
        """A worker that ended early: its repositories without a result are failures,
        and the run's progress counts them as planned and done."""
        if worker.failure is None:
            return {}
        lost = {}
        for position in worker.positions:
            if position in worker.results:
                continue
            work = self.work[position]
            if position in worker.executing and not self.dry_run:
                error = (
                    f"failed: {worker.failure} while executing it; what it deleted or "
                    "archived in this repository before is not known"
                )
            elif position in worker.planned:
                error = f"not touched: {worker.failure} after planning it"
            else:
                error = f"not touched: {worker.failure}"
            plan = RepositoryPlan(work.ref, work.policy.name, 0, error=error, failed=True)
            repository_done(plan, self.dry_run, 0.0)
            lost[position] = plan
        handed = len(worker.positions)
        self.planner.progress.merge(
            {"planned": handed - worker.counted["planned"], "done": handed - worker.counted["done"]}
        )
        return lost

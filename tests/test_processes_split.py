"""limits.processes without processes: the default from the usable cores (affinity and
the cgroup's CPU quota), how the limits are shared out, plans crossing processes, the
progress a worker sends."""

from __future__ import annotations

import pickle
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cleaner.config.load import load_config_text
from cleaner.config.model import Limits
from cleaner.core.model import (
    Action,
    ActionKind,
    Kept,
    RepositoryPlan,
    RepositoryRef,
    SkipKind,
    SkipReason,
    Status,
)
from cleaner.run import cores
from cleaner.run.parallel import process_count, share_limits
from cleaner.run.progress import Progress, Snapshot
from cleaner.run.slots import Slots


def mounts(tmp_path: Path, *lines: tuple[str, str, str, str]) -> Path:
    """A mountinfo file: (root, mount point under tmp_path, fs type, super options)."""
    text = "".join(
        f"{30 + n} 1 0:{n} {root} {tmp_path / point} rw,nosuid - {kind} {kind} {options}\n"
        for n, (root, point, kind, options) in enumerate(lines)
    )
    path = tmp_path / "mountinfo"
    path.write_text(text)
    return path


def files(tmp_path: Path, contents: dict[str, str]) -> None:
    for name, text in contents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)


V2 = ("/", "cg2", "cgroup2", "rw")
V1_CPU = ("/", "cg1/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct")


@pytest.mark.parametrize(
    ("membership", "mount", "contents", "quota"),
    [
        pytest.param("0::/\n", V2, {"cg2/cpu.max": "max 100000\n"}, None, id="v2-no-limit"),
        pytest.param("0::/\n", V2, {"cg2/cpu.max": "150000 100000\n"}, 1.5, id="v2-1.5-cpus"),
        pytest.param("0::/\n", V2, {"cg2/cpu.max": "50000 100000\n"}, 0.5, id="v2-half-a-cpu"),
        pytest.param("0::/\n", V2, {"cg2/cpu.max": "200000\n"}, 2.0, id="v2-default-period"),
        pytest.param("0::/\n", V2, {"cg2/cpu.max": "garbage\n"}, None, id="v2-unreadable"),
        pytest.param("0::/\n", V2, {}, None, id="v2-no-file"),
        pytest.param(
            "0::/kubepods/pod1/c1\n",
            V2,
            {
                "cg2/kubepods/pod1/cpu.max": "200000 100000\n",  # the pod's limit
                "cg2/kubepods/pod1/c1/cpu.max": "max 100000\n",
            },
            2.0,
            id="v2-an-ancestor-holds-the-limit",
        ),
        pytest.param(
            "0::/kubepods/pod1/c1\n",
            ("/kubepods/pod1/c1", "cg2", "cgroup2", "rw"),  # a container sees its own cgroup
            {"cg2/cpu.max": "300000 100000\n"},
            3.0,
            id="v2-container-root",
        ),
        pytest.param(
            "4:cpu,cpuacct:/docker/abc\n",
            ("/docker/abc", "cg1/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct"),
            {
                "cg1/cpu,cpuacct/cpu.cfs_quota_us": "50000\n",
                "cg1/cpu,cpuacct/cpu.cfs_period_us": "100000",
            },
            0.5,
            id="v1-container-root",
        ),
        pytest.param(
            "4:cpu,cpuacct:/\n",
            V1_CPU,
            {
                "cg1/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                "cg1/cpu,cpuacct/cpu.cfs_period_us": "100000",
            },
            None,
            id="v1-no-limit",
        ),
        pytest.param(
            "2:cpuacct:/\n1:name=systemd:/\n",
            V1_CPU,
            {
                "cg1/cpu,cpuacct/cpu.cfs_quota_us": "50000\n",
                "cg1/cpu,cpuacct/cpu.cfs_period_us": "100000",
            },
            None,
            id="v1-not-in-a-cpu-hierarchy",
        ),
    ],
)
def test_the_cgroup_cpu_quota(
    tmp_path: Path,
    membership: str,
    mount: tuple[str, str, str, str],
    contents: dict[str, str],
    quota: float | None,
) -> None:
    files(tmp_path, contents)
    (tmp_path / mount[1]).mkdir(parents=True, exist_ok=True)
    proc = tmp_path / "cgroup"
    proc.write_text(membership)
    assert cores.cgroup_cpu_quota(proc, mounts(tmp_path, mount)) == quota


def test_hybrid_mounts_take_the_tighter_quota(tmp_path: Path) -> None:
    files(
        tmp_path,
        {
            "cg2/cpu.max": "300000 100000\n",
            "cg1/cpu,cpuacct/cpu.cfs_quota_us": "150000",
            "cg1/cpu,cpuacct/cpu.cfs_period_us": "100000",
        },
    )
    proc = tmp_path / "cgroup"
    proc.write_text("4:cpu,cpuacct:/\n0::/\n")
    assert cores.cgroup_cpu_quota(proc, mounts(tmp_path, V2, V1_CPU)) == 1.5


def test_nothing_to_read_means_no_quota(tmp_path: Path) -> None:
    assert cores.cgroup_cpu_quota(tmp_path / "none", tmp_path / "none") is None


@pytest.mark.parametrize(
    ("affinity", "quota", "expected"),
    [(8, None, 8), (8, 1.5, 2), (8, 0.5, 1), (2, 4.0, 2), (1, None, 1)],
)
def test_usable_cores_is_the_affinity_lowered_to_the_quota_rounded_up(
    monkeypatch: pytest.MonkeyPatch, affinity: int, quota: float | None, expected: int
) -> None:
    monkeypatch.setattr(cores.os, "sched_getaffinity", lambda _: set(range(affinity)))
    monkeypatch.setattr(cores, "cgroup_cpu_quota", lambda *_: quota)
    assert cores.usable_cores() == expected


POLICY = """
version: 1
targets: [{region: us-east-1}]
policies: [{name: p, rules: []}]
limits: LIMITS
"""


@pytest.mark.parametrize(
    ("limits", "repositories", "cores_here", "expected"),
    [
        ("{}", 100, 4, 4),  # the default: the usable cores
        ("{}", 3, 4, 3),  # never more than the repositories
        ("{}", 0, 4, 1),
        ("{processes: 1}", 100, 4, 1),
        ("{processes: 8}", 100, 2, 8),  # asked for: more than the cores
        ("{processes: 8, concurrency: 3}", 100, 2, 3),  # each process needs a thread
        ("{concurrency: 1}", 100, 4, 1),
    ],
)
def test_process_count(
    monkeypatch: pytest.MonkeyPatch, limits: str, repositories: int, cores_here: int, expected: int
) -> None:
    monkeypatch.setattr("cleaner.run.parallel.usable_cores", lambda: cores_here)
    config = load_config_text(POLICY.replace("LIMITS", limits))
    assert process_count(config, repositories) == expected


@pytest.mark.parametrize(
    ("rate", "shares", "each"), [(30.0, 3, 10.0), (None, 2, None), (5.0, 2, 2.5)]
)
def test_each_process_gets_its_share_of_the_request_rate(
    rate: float | None, shares: int, each: float | None
) -> None:
    limits = Limits(max_deletions=7, concurrency=16, requests_per_second=rate, processes=3)
    assert share_limits(limits, shares) == Limits(
        max_deletions=7, concurrency=16, requests_per_second=each, processes=1
    )


class Asker:
    """A process asking the slots for work: what it was granted, in order."""

    def __init__(self, slots: Slots, name: str, log: list[tuple[str, int | None]]) -> None:
        self.slots, self.name, self.log = slots, name, log
        self.alive = True
        self.held: list[int] = []

    def ask_next(self) -> None:
        self.slots.ask_next(self.granted, taken=self.held.append, alive=lambda: self.alive)

    def ask_slot(self, position: int) -> None:
        self.slots.ask_slot(self.granted, position, alive=lambda: self.alive)

    def granted(self, position: int | None) -> None:
        self.log.append((self.name, position))


def test_slots_hand_out_repositories_in_order_never_more_at_once_than_the_limit() -> None:
    log: list[tuple[str, int | None]] = []
    slots = Slots(2, 4, threading.Condition())
    first, worker = Asker(slots, "first", log), Asker(slots, "worker", log)
    first.ask_next()
    first.ask_next()
    worker.ask_next()  # both slots are taken: it waits its turn
    assert log == [("first", 0), ("first", 1)]
    slots.release()  # first finished planning 0
    first.ask_next()  # ... and asks again, after the worker
    assert log[2:] == [("worker", 2)]
    slots.release()
    assert log[3:] == [("first", 3)]
    worker.ask_next()  # nothing left: answered at once, without a slot
    assert log[4:] == [("worker", None)]
    assert slots.free == 0 and slots.all_handed_out
    worker.ask_slot(2)  # executing waits for a slot too
    assert log[5:] == []
    slots.release(2)
    assert log[5:] == [("worker", 2)] and slots.free == 1


def test_slots_drop_the_requests_of_a_process_that_is_gone() -> None:
    log: list[tuple[str, int | None]] = []
    slots = Slots(1, 3, threading.Condition())
    first, worker = Asker(slots, "first", log), Asker(slots, "worker", log)
    first.ask_next()
    worker.ask_next()
    worker.alive = False  # it died waiting
    slots.release()
    first.ask_next()
    assert log == [("first", 0), ("first", 1)]  # repository 1 went to a live process
    assert worker.held == []


def test_plans_cross_processes_unchanged() -> None:
    ref = RepositoryRef("us-east-1", "123456789012", "team/app")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    action = Action(
        ActionKind.REMOVE_TAG, "sha256:a", ("x", "y"), "r", "why", 5, 2, Status.FAILED, "E", ("p",)
    )
    skipped = action.skipped(SkipReason(SkipKind.TAGS_CHANGED, "z"))
    kept = Kept("sha256:b", ("v1",), "kept", pushed_at=at, size_bytes=3)
    plan = RepositoryPlan(ref, "p", 9, (action, skipped), (kept,), "e", True, False, ("w",))
    again = pickle.loads(pickle.dumps(plan))
    assert again == plan
    assert again.kept[0].pushed_at == at and again.actions[1].skip == skipped.skip


def test_progress_merges_what_another_process_counted() -> None:
    progress = Progress(clock=lambda: 0.0)
    progress.start(1, dry_run=False)
    progress.target_listed(3)
    progress.repository_planned(10)
    progress.merge({"planned": 2, "images_scanned": 30, "deletions": 4, "done": 1})
    assert progress.snapshot() == Snapshot(1, 1, 3, 3, 1, 40, 4, 0.0, False)

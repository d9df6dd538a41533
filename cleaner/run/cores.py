"""How many CPU cores this process may really use: the default of limits.processes.

os.cpu_count() counts the machine's cores. A process pinned with taskset or cpusets
may run on fewer, and a container with a CPU limit (Kubernetes
`resources.limits.cpu`) gets a share of them through its cgroup's CPU quota: more
processes than that only take turns.

The quota is read where the kernel says the cgroup is: /proc/self/cgroup names the
process's cgroup in each hierarchy, /proc/self/mountinfo where each hierarchy is
mounted and which part of it (a container sees its own cgroup as the mount's root).
cgroup v2 keeps the quota in `cpu.max` ("max 100000" or "150000 100000"), v1 in
`cpu.cfs_quota_us` and `cpu.cfs_period_us`; the cgroup's ancestors up to the mount
can hold a tighter one (a Kubernetes pod's limit above its container's).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

PROC_CGROUP = Path("/proc/self/cgroup")
MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class _Mount:
    root: str  # the part of the hierarchy mounted here
    point: Path
    version: int  # 1 or 2


def usable_cores(proc_cgroup: Path = PROC_CGROUP, mountinfo: Path = MOUNTINFO) -> int:
    """The CPUs this process may run on, lowered to its cgroup's CPU quota (rounded up:
    a 1.5-CPU limit is better used by 2 processes than by 1). At least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_quota(proc_cgroup, mountinfo)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def cgroup_cpu_quota(proc_cgroup: Path = PROC_CGROUP, mountinfo: Path = MOUNTINFO) -> float | None:
    """The tightest CPU quota of this process's cgroup and its ancestors, in CPUs, or
    None when there is none (or nothing can be read: not Linux, no cgroup mounted)."""
    try:
        memberships = proc_cgroup.read_text().splitlines()
        mounts = _cgroup_mounts(mountinfo.read_text())
    except OSError:
        return None
    quotas: list[float] = []
    for line in memberships:
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "-", "")
        version = 2 if controllers == "" else 1
        if version == 1 and "cpu" not in controllers.split(","):
            continue
        for mount in (m for m in mounts if m.version == version):
            for directory in _upwards(mount, path):
                quota = _v2_quota(directory) if version == 2 else _v1_quota(directory)
                if quota is not None:
                    quotas.append(quota)
    return min(quotas) if quotas else None


def _cgroup_mounts(text: str) -> list[_Mount]:
    """cgroup2 mounts and cgroup v1 mounts of the cpu controller, from mountinfo:
    `id parent major:minor root mount-point options [optional...] - type source super-options`."""
    mounts = []
    for line in text.splitlines():
        left, dash, right = line.partition(" - ")
        fields, kind = left.split(), right.split()
        if not dash or len(fields) < 5 or len(kind) < 3:
            continue
        root, point = _unescape(fields[3]), Path(_unescape(fields[4]))
        if kind[0] == "cgroup2":
            mounts.append(_Mount(root, point, 2))
        elif kind[0] == "cgroup" and "cpu" in kind[2].split(","):
            mounts.append(_Mount(root, point, 1))
    return mounts


def _unescape(field: str) -> str:
    # mountinfo writes a space, tab, newline and backslash in a path as octal escapes.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _upwards(mount: _Mount, path: str) -> list[Path]:
    """The cgroup's directory under the mount, then its ancestors up to the mount's
    point. A cgroup outside the mounted part of the hierarchy: the mount point only."""
    cgroup, root = PurePosixPath(path or "/"), PurePosixPath(mount.root or "/")
    try:
        parts = cgroup.relative_to(root).parts
    except ValueError:
        parts = ()
    return [mount.point.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _v2_quota(directory: Path) -> float | None:
    try:
        quota, _, period = (directory / "cpu.max").read_text().strip().partition(" ")
        if quota == "max":
            return None
        return _ratio(int(quota), int(period or 100_000))
    except (OSError, ValueError):
        return None


def _v1_quota(directory: Path) -> float | None:
    try:
        quota = int((directory / "cpu.cfs_quota_us").read_text())
        period = int((directory / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return _ratio(quota, period)


def _ratio(quota: int, period: int) -> float | None:
    # v1 writes -1 for no quota; a zero period would be a broken file.
    return quota / period if quota > 0 and period > 0 else None

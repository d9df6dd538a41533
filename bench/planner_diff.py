"""Differential check of the planner: the same random repositories and policies planned
by two versions of the code must give the same plans, field for field and in order
(every action, every kept image, every reason, warnings, errors, what
`check_max_deletions` says and, for a lifecycle policy, the lifecycle audit).

A change meant to make planning faster, not different, is proven by this check: any
difference in any case fails it. The baseline is another commit's `cleaner` package
(`git archive` into a temporary directory); each version plans every case in its own
process, so the two never share a module.

    python -m bench.planner_diff [--cases N] [--seed S] [--baseline REF] [--show K]

`--baseline` defaults to `main`; `--show K` prints case K (its policy, its images) and
both plans where they differ. Exits 1 if any case differs.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import enum
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2027, 1, 1, tzinfo=UTC)
INDEX_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
]
MANIFEST_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
]
ARTIFACT_TYPES = [None, "application/vnd.dev.cosign.artifact.sig.v1+json", "application/spdx+json"]
TAG_POOL = [
    "latest", "stable", "main", "dev", "v1.0.0", "v1.2.3", "1.10.0", "2.0.0-rc.1",
    "2.0.0-rc.2", "2.0.0", "v2.0.0+build.5", "1.0.0-alpha.beta", "1.0.0-alpha.1",
    "feature-login-1", "feature-login-2", "feature-pay-1", "feature-pay-7", "feature-x",
    "pr-12", "pr-7", "build-1", "build-2", "nightly-2026-01-01", "release-1.0", "v10.0.1",
    "Latest", "a", "b",
]  # fmt: skip
PATTERNS = [
    "*", "feature-*", "v*", "latest", "pr-*", "build-?", "[a-c]", "*-rc.*", "sha256-*",
    "re:^v?\\d+\\.\\d+\\.\\d+$", "re:pr-\\d+", "re:feature-(login|pay)-\\d+", "re:.*", "nomatch",
    "re:(a|b)", "*[!0-9]",
]  # fmt: skip
GROUP_BY = ["^feature-([a-z]+)-", "^v?(\\d+)\\.", "^[a-z]+", "(x)?-\\d", "re:^(pr)-", "rc"]
DURATIONS = ["1h", "12h", "36h", "1d", "2d", "7d", "14d", "30d", "90d", "120d", "1w", "90m"]
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = {d: timedelta(seconds=int(d[:-1]) * _UNITS[d[-1]]) for d in DURATIONS}
LIFECYCLE_PATTERNS = ["prod*", "v*", "feature-*", "*-1", "latest", "*", "*a*", "pr-*"]
LIFECYCLE_PREFIXES = ["feature", "v1", "pr", "build", "l"]


# ---- cases: random repositories and policies, each reproducible from (seed, number)


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _when(rng: random.Random, ties: list[timedelta]) -> timedelta:
    """An age; often one shared with other images, so that ordering ties are common, or
    exactly one of the policy's durations, where `more than` and `within` part."""
    if ties and rng.random() < 0.3:
        return rng.choice(ties)
    if rng.random() < 0.1:
        return _DURATION[rng.choice(DURATIONS)]
    scale = rng.choice([1, 24 * 7, 24 * 60, 24 * 400, 24 * 400])  # hours
    seconds = rng.randrange(0, scale * 3600 + 1)
    return timedelta(seconds=seconds, microseconds=rng.choice([0, 0, rng.randrange(10**6)]))


def _images(rng: random.Random) -> dict[str, Any]:
    n = rng.choice(
        [0, 1, 2, *(rng.randrange(3, 12), rng.randrange(5, 40)) * 2, rng.randrange(20, 150)]
    )
    digests = [f"sha256:{_hex(rng)}" for _ in range(n)]
    absent = [f"sha256:{_hex(rng)}" for _ in range(3)]
    ties = [_when(rng, []) for _ in range(rng.randrange(0, 4))]
    archive_share = rng.choice([0.0, 0.0, 0.2, 0.6])
    tags: dict[int, list[str]] = {k: [] for k in range(n)}
    subject: dict[int, str] = {}
    children: dict[str, list[str]] = {}
    owned: set[int] = set()
    pool = [*TAG_POOL, *(f"feature-b{rng.randrange(5)}-{i}" for i in range(10))]
    pool += [f"v{rng.randrange(3)}.{rng.randrange(12)}.{rng.randrange(4)}" for _ in range(8)]
    rng.shuffle(pool)
    untagged_children = rng.random() < 0.8
    for k in range(n):
        kind = rng.choice(["plain"] * 4 + ["index", "index", "oci", "cosign", "both"])
        later = list(range(k + 1, n))
        if kind == "index" and later:
            # Owners have lower numbers than what they own (no cycles), except rarely.
            kids = rng.sample(later, min(len(later), rng.randrange(0, 5)))
            listed = [digests[c] for c in kids]
            if rng.random() < 0.1:
                listed.append(rng.choice(absent))  # a child the repository lacks
            if rng.random() < 0.03 and k:
                listed.append(digests[rng.randrange(k)])  # a cycle
            children[digests[k]] = listed
            owned.update(kids)
        if kind in ("oci", "cosign", "both"):
            target = (
                rng.choice(absent) if not k or rng.random() < 0.3 else digests[rng.randrange(k)]
            )
            if rng.random() < 0.03:
                target = digests[k]  # names itself
            if kind in ("oci", "both"):
                subject[k] = target
            if kind in ("cosign", "both"):
                other = (
                    target if kind == "cosign" else rng.choice([*absent, *digests[:k]] or absent)
                )
                flavour = rng.choice(["sig", "att", "sbom", "sig", "txt"])
                tags[k].append(f"{other.replace(':', '-')}.{flavour}")
    if rng.random() < 0.05 and digests:
        children[rng.choice(absent)] = digests[:2]  # an index the repository lacks
    for k in range(n):
        if k in owned and untagged_children:
            continue
        want = rng.choice([0, 0, 1, 1, 1, 2, 3])
        while want and pool:
            tags[k].append(pool.pop())
            want -= 1
        if tags[k] and rng.random() < 0.02:
            tags[k].append(tags[k][0])  # the same tag twice
    images = []
    for k, digest in enumerate(digests):
        pushed = _when(rng, ties)
        if rng.random() < 0.02:
            pushed = -pushed  # pushed "after now": a skewed clock
        pulled = None
        if rng.random() < 0.6:
            pulled = rng.uniform(0, 1) * pushed
            if rng.random() < 0.05:
                pulled = pushed + _when(rng, [])  # pulled before pushed: a restored image
            if ties and rng.random() < 0.2:
                pulled = rng.choice(ties)
        status, archived_at = "ACTIVE", None
        if rng.random() < archive_share:
            status = rng.choice(["ARCHIVED"] * 5 + ["ACTIVATING"])
            if rng.random() < 0.8:
                archived_at = rng.uniform(0, 1) * pushed
        media = rng.choice(INDEX_TYPES if digest in children else MANIFEST_TYPES)
        images.append(
            {
                "digest": digest,
                "tags": tags[k],
                "pushed_at": (NOW - pushed).isoformat(),
                "last_pulled": None if pulled is None else (NOW - pulled).isoformat(),
                "size": rng.choice([0, rng.randrange(1, 10**10)]),
                "media_type": media,
                "artifact_media_type": rng.choice(ARTIFACT_TYPES) if k in subject else None,
                "subject": subject.get(k),
                "status": status,
                "archived_at": None if archived_at is None else (NOW - archived_at).isoformat(),
            }
        )
    rng.shuffle(images)  # DescribeImages order is no order
    named = [*digests, *absent]
    in_use = {
        d: f"ecs:svc-{i}"
        for i, d in enumerate(rng.sample(named, rng.randrange(0, min(4, len(named)))))
    }
    return {"images": images, "children": children, "in_use": in_use}


def _rule(rng: random.Random, name: str) -> dict[str, Any]:
    select: dict[str, Any] = {}
    status = rng.choice([None, "tagged", "tagged", "untagged", "any"])
    if status is not None:
        select["tag_status"] = status
    if status != "untagged" and rng.random() < 0.6:
        select["tags"] = rng.sample(PATTERNS, rng.randrange(1, 4))
    archived = rng.random() < 0.15
    if archived:
        select["storage"] = "archived"
    rule: dict[str, Any] = {"name": name}
    if select:
        rule["select"] = select
    if rng.random() < 0.5:
        keep: dict[str, Any] = {"most_recent": rng.randrange(1, 6)}
        if rng.random() < 0.6:
            keep["order_by"] = rng.choice(["pushed", "pulled", "semver"])
        if rng.random() < 0.4:
            keep["group_by"] = rng.choice(GROUP_BY)
        rule["keep"] = keep
    if "keep" not in rule or rng.random() < 0.6:
        conditions = ["pushed_before", "not_pulled_for"] + (["archived_before"] if archived else [])
        chosen = rng.sample(conditions, rng.randrange(1, len(conditions) + 1))
        rule["expire"] = {c: rng.choice(DURATIONS) for c in chosen}
    if not archived and rng.random() < 0.2:
        rule["action"] = "archive"
    return rule


def _lifecycle(rng: random.Random) -> dict[str, Any]:
    statuses = ["tagged"] * rng.randrange(0, 4)
    if rng.random() < 0.5:
        statuses.insert(rng.randrange(0, len(statuses) + 1), "untagged")
    if rng.random() < 0.5 or not statuses:
        statuses.append("any")
    priorities = sorted(rng.sample(range(1, 60), len(statuses)))
    rules = []
    for priority, status in zip(priorities, statuses, strict=True):
        selection: dict[str, Any] = {"tagStatus": status}
        if status == "tagged":
            if rng.random() < 0.5:
                selection["tagPatternList"] = rng.sample(LIFECYCLE_PATTERNS, rng.randrange(1, 3))
            else:
                selection["tagPrefixList"] = rng.sample(LIFECYCLE_PREFIXES, rng.randrange(1, 3))
        count = rng.choice(["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled"])
        action = (
            "transition" if count == "sinceImagePulled" else rng.choice(["expire", "transition"])
        )
        selection["countType"] = count
        most = 5 if count == "imageCountMoreThan" else 60
        selection["countNumber"] = rng.randrange(1, most)
        if count != "imageCountMoreThan":
            selection["countUnit"] = "days"
        act: dict[str, Any] = {"type": action}
        if action == "transition":
            act["targetStorageClass"] = "archive"
        rules.append({"rulePriority": priority, "selection": selection, "action": act})
    if rng.random() < 0.3:
        count = rng.choice(["imageCountMoreThan", "sinceImagePushed", "sinceImageTransitioned"])
        selection = {"tagStatus": rng.choice(["any", "untagged"]), "storageClass": "archive"}
        selection["countType"] = count
        selection["countNumber"] = rng.randrange(1, 30)
        if count != "imageCountMoreThan":
            selection["countUnit"] = "days"
        rules.append({"rulePriority": 61, "selection": selection, "action": {"type": "expire"}})
    rng.shuffle(rules)
    return {"rules": rules}


def _policy(rng: random.Random) -> str:
    protect: dict[str, Any] = {}
    if rng.random() < 0.5:
        protect["tags"] = rng.sample(PATTERNS, rng.randrange(0, 3))
    if rng.random() < 0.3:
        protect["pulled_within"] = rng.choice(DURATIONS)
    if rng.random() < 0.7:
        protect["keep_at_least"] = rng.choice([0, 0, 1, 2, 3, 5, 10])
    policy: dict[str, Any] = {"name": "p", "protect": protect}
    if rng.random() < 0.2:
        policy["lifecycle_policy"] = _lifecycle(rng)
    else:
        count = 0 if rng.random() < 0.05 else rng.randrange(1, 5)
        names = rng.sample(["a", "b", "c", "old", "zz", "r1", "r2", "keep"], count)
        policy["rules"] = [_rule(rng, name) for name in names]
    limits = {
        "max_deletions": rng.choice([1000, 1000, 3, 0]),
        "max_deletion_ratio": rng.choice([1.0, 1.0, 0.9, 0.5, 0.3]),
        "orphaned_referrers": rng.choice(["keep", "delete"]),
    }
    document = {
        "version": 1,
        "targets": [{"region": "us-east-1"}],
        "policies": [policy],
        "limits": limits,
    }
    return json.dumps(document)  # JSON is YAML


def case(seed: int, number: int) -> dict[str, Any]:
    """Case `number` of `seed`: a policy the loader accepts, and a repository."""
    rng = random.Random(f"{seed}/{number}")
    from cleaner.config.load import ConfigError, load_config_text

    while True:
        text = _policy(rng)
        try:
            load_config_text(text)
        except ConfigError:
            continue  # an invalid combination (the generator does not know every rule)
        return {"number": number, "policy": text, **_images(rng)}


# ---- planning one version's way, in a process of its own


def _encode(value: Any) -> Any:
    """Every field of every value, in order: what `==` ignores (compare=False) too."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return [[_encode(k), _encode(v)] for k, v in value.items()]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


def _plan(spec: dict[str, Any]) -> tuple[Any, float]:
    from cleaner.config.load import load_config_text
    from cleaner.core.model import Image, ImageStatus, Inventory, RepositoryRef
    from cleaner.core.planner import check_max_deletions, plan_repository

    config = load_config_text(spec["policy"])
    images = {}
    for fields in spec["images"]:
        values = dict(fields, tags=tuple(fields["tags"]), status=ImageStatus(fields["status"]))
        for key in ("pushed_at", "last_pulled", "archived_at"):
            if values[key] is not None:
                values[key] = datetime.fromisoformat(values[key])
        images[values["digest"]] = Image(**values)
    children = {index: tuple(kids) for index, kids in spec["children"].items()}
    inventory = Inventory(RepositoryRef("us-east-1", "123456789012", "team/app"), images, children)
    in_use = spec["in_use"]
    started = time.perf_counter()
    try:
        plan = plan_repository(inventory, config.policies[0], config.limits, NOW, in_use=in_use)
    except Exception as exc:  # the same failure on both sides is the same behaviour
        return {"raised": f"{type(exc).__name__}: {exc}"}, time.perf_counter() - started
    seconds = time.perf_counter() - started
    result = {"plan": _encode(plan), "limit": check_max_deletions([plan], config.limits)}
    policy = config.policies[0]
    if policy.lifecycle is not None:  # the audit shares the graph and the protections
        from cleaner.core.lifecycle.audit import audit_repository

        audit = audit_repository(inventory, policy.lifecycle, policy.protect, NOW, in_use=in_use)
        result["audit"] = _encode(audit)
    return result, seconds


def worker(cases_path: str, out_path: str) -> None:
    import cleaner

    planning = 0.0
    with open(cases_path) as cases, open(out_path, "w") as out:
        out.write(json.dumps({"cleaner": cleaner.__file__}) + "\n")
        for line in cases:
            result, seconds = _plan(json.loads(line))
            planning += seconds
            out.write(json.dumps(result, sort_keys=True) + "\n")
        out.write(json.dumps({"planning_s": planning}) + "\n")


# ---- the comparison


def baseline_tree(ref: str) -> tuple[str, Path]:
    """The `cleaner` package of commit `ref`, unpacked once per commit."""
    sha = subprocess.run(
        ["git", "rev-parse", "--verify", f"{ref}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    where = Path(tempfile.gettempdir()) / f"planner-baseline-{sha[:12]}"
    if not (where / "cleaner").is_dir():
        archive = subprocess.run(
            ["git", "archive", "--format=tar", sha, "cleaner"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout
        partial = where.with_name(where.name + f".{os.getpid()}")
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(where)
    return sha, where


def _run_both(cases_path: Path, trees: dict[str, Path], workdir: Path) -> dict[str, Path]:
    outputs, procs = {}, []
    for side, tree in trees.items():
        outputs[side] = workdir / f"{side}.jsonl"
        env = dict(os.environ, PYTHONPATH=str(tree))
        # The script by path, not `-m`: sys.path[0] is then bench/, which holds no
        # `cleaner` that could shadow the one PYTHONPATH names.
        command = [sys.executable, __file__, "--worker", str(cases_path), str(outputs[side])]
        procs.append((side, subprocess.Popen(command, env=env)))
    for side, proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"the {side} worker failed")
    return outputs


def _lines(path: Path) -> Iterator[str]:
    with open(path) as f:
        yield from (line.rstrip("\n") for line in f)


def _shape(result: dict[str, Any]) -> Counter[str]:
    """What a plan exercised, to show the cases are not trivial."""
    seen: Counter[str] = Counter()
    if "raised" in result:
        seen["raised"] += 1
        return seen
    plan = dict(result["plan"])
    if plan["error"]:
        seen["held by max_deletion_ratio"] += 1
    if plan["warnings"]:
        seen["with warnings"] += 1
    if result["limit"]:
        seen["over max_deletions"] += 1
    kinds = {a["kind"] for a in plan["actions"]}
    for kind in sorted(kinds):
        seen[f"with {kind.split('.')[1].lower()}"] += 1
    if any(a["phase"] > 0 for a in plan["actions"]):
        seen["with dependents (phase > 0)"] += 1
    if any("keep_at_least" in k["reason"] for k in plan["kept"]):
        seen["keep_at_least spared"] += 1
    if any("which is deleted" in k["reason"] for k in plan["kept"]):
        seen["protected dependent kept"] += 1
    if plan["actions"] or plan["kept"]:
        seen["non-empty"] += 1
    if result.get("audit") and dict(result["audit"])["findings"]:
        seen["audit findings"] += 1
    seen["actions"] += len(plan["actions"])
    seen["kept"] += len(plan["kept"])
    return seen


@dataclasses.dataclass
class Outcome:
    numbers: list[int]  # the cases planned
    differing: list[int]  # the cases whose plans differ
    totals: Counter[str]  # what the current plans exercised (see `_shape`)


def compare(numbers: list[int], seed: int, baseline: Path, *, verbose: bool = True) -> Outcome:
    """Plan cases `numbers` of `seed` with the `cleaner` package under `baseline` and with
    this tree's; print what differs (the first three cases) when `verbose`."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="planner-diff-") as tmp:
        workdir = Path(tmp)
        cases_path = workdir / "cases.jsonl"
        with open(cases_path, "w") as out:
            for number in numbers:
                out.write(json.dumps(case(seed, number)) + "\n")
        generated = time.perf_counter() - started
        outputs = _run_both(cases_path, {"baseline": baseline, "current": ROOT}, workdir)
        base, cur = list(_lines(outputs["baseline"])), list(_lines(outputs["current"]))
    header_b, header_c = json.loads(base.pop(0)), json.loads(cur.pop(0))
    timing_b, timing_c = json.loads(base.pop()), json.loads(cur.pop())
    # Each side really planned with its own package (PYTHONPATH first on sys.path).
    assert header_b["cleaner"].startswith(str(baseline)), header_b
    assert header_c["cleaner"].startswith(str(ROOT)), header_c
    differing = [n for n, b, c in zip(numbers, base, cur, strict=True) if b != c]
    totals: Counter[str] = Counter()
    for line in cur:
        totals.update(_shape(json.loads(line)))
    if verbose:
        print(
            f"{len(numbers)} cases generated in {generated:.1f} s; planning time baseline "
            f"{timing_b['planning_s']:.2f} s, current {timing_c['planning_s']:.2f} s"
        )
        print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(totals.items())))
        for n, b, c in zip(numbers, base, cur, strict=True):
            if b == c or n not in differing[:3]:
                continue
            print(f"case {n} differs (rerun: --seed {seed} --show {n}):")
            old, new = (json.dumps(json.loads(x), indent=1).splitlines() for x in (b, c))
            diff = difflib.unified_diff(old, new, "baseline", "current", lineterm="", n=2)
            print("\n".join(list(diff)[:80]))
    return Outcome(numbers, differing, totals)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", default="main", help="a commit (default: main)")
    parser.add_argument("--show", type=int, help="print this case and its plans' differences")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    sha, tree = baseline_tree(args.baseline)
    print(f"baseline {args.baseline} = {sha[:12]} ({tree}) vs {ROOT}; seed {args.seed}")
    if args.show is not None:
        print(json.dumps(case(args.seed, args.show), indent=1))
    numbers = [args.show] if args.show is not None else list(range(args.cases))
    outcome = compare(numbers, args.seed, tree)
    print(f"{len(outcome.differing)} of {len(numbers)} cases differ")
    return 1 if outcome.differing else 0


if __name__ == "__main__":
    sys.exit(main())

"""`ecr-cleaner demo`: the whole flow against an embedded, seeded ECR sandbox.

Starts the sandbox in this process, points the AWS SDK at it (only while the demo
runs), seeds a realistic registry, prints the policy, the plan with its reasons,
runs it, and shows what is left in each repository and why. No AWS account needed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from cleaner import logs
from cleaner.aws.clients import Clients
from cleaner.aws.ecr import ManifestCache, Registry
from cleaner.config.load import load_config_text
from cleaner.core.graph import EdgeKind, build_graph
from cleaner.core.model import ActionKind, Inventory, RepositoryPlan, Status
from cleaner.report.model import RunReport
from cleaner.report.render import summary_line, to_table
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once

POLICY_FILE = "policy.yaml"
EXIT_USAGE = 2


def policy_text() -> str:
    return resources.files("cleaner.demo").joinpath(POLICY_FILE).read_text(encoding="utf-8")


@contextlib.contextmanager
def kubernetes_environment(kubeconfig: Path) -> Iterator[None]:
    """Point the `kubernetes` source at the sandbox's cluster until the block ends:
    $KUBECONFIG set, and the variables that mean "in a pod" set aside (in a pod, the
    source would otherwise read the pod's own cluster)."""
    names = ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT")
    saved = {k: os.environ.pop(k) for k in names if k in os.environ}
    os.environ["KUBECONFIG"] = str(kubeconfig)
    try:
        yield
    finally:
        for name in names:
            os.environ.pop(name, None)
        os.environ.update(saved)


@contextlib.contextmanager
def sandbox_environment(variables: dict[str, str]) -> Iterator[None]:
    """Point the AWS SDK at the sandbox, and only at it, until the block ends.

    Every AWS_* variable of the caller is set aside (a profile, a session token, or
    AWS_ENDPOINT_URL_ECR would otherwise win over the sandbox's endpoint), and the
    shared config files are hidden; all of it is restored afterwards."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    for name in saved:
        del os.environ[name]
    endpoint = variables["AWS_ENDPOINT_URL"]
    os.environ.update(
        variables,
        AWS_ENDPOINT_URL_ECR=endpoint,
        AWS_ENDPOINT_URL_STS=endpoint,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    try:
        yield
    finally:
        for name in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(saved)


def run_demo(
    log_format: str = "auto",
    log_level: str = "warning",
    *,
    out: TextIO | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    inspect: Callable[[Any], None] | None = None,
) -> int:
    """`inspect(sandbox)` is called at the end, before the sandbox goes (for tests)."""
    out = out or sys.stdout
    try:
        import kubernetes  # noqa: F401  (the demo's policy reads the sandbox's cluster)

        from cleaner.sandbox import Sandbox
        from cleaner.sandbox.demo import DEMO_CLUSTER, seed_demo
    except ImportError as exc:  # moto is an extra: `pip install 'ecr-cleaner[sandbox]'`
        print(f"ecr-cleaner demo needs the sandbox extra ({exc.name} is missing):", file=out)
        print("  pip install 'ecr-cleaner[sandbox]'   (or: make demo)", file=out)
        return EXIT_USAGE
    logs.configure(log_format, log_level)
    started = time.monotonic()
    text = policy_text()
    config = load_config_text(text, source=POLICY_FILE)
    now = clock()  # read once: seeding and both passes see the same time

    def say(line: str = "") -> None:
        print(line, file=out, flush=True)

    with (
        Sandbox() as sandbox,
        sandbox_environment(sandbox.environment()),
        tempfile.TemporaryDirectory(prefix="ecr-cleaner-demo-") as scratch,
        kubernetes_environment(sandbox.kubeconfig(Path(scratch) / "kubeconfig", [DEMO_CLUSTER])),
    ):
        seed_demo(sandbox.store, now, sandbox.kube_seeder(DEMO_CLUSTER))
        cache = ManifestCache()
        before = _inventories(config.targets[0].region, cache)
        images = sum(len(i.images) for i in before)
        say(f"ecr-cleaner demo: an embedded ECR sandbox at {sandbox.endpoint_url}")
        say(f"seeded with {len(before)} repositories and {images} images; no AWS account used.")
        _heading(say, f"1. The policy ({POLICY_FILE})")
        say(text.rstrip())
        _heading(say, "2. The plan: what would go and what stays, with reasons (deletes nothing)")
        plan = run_once(config, Clients(), now, RunOptions(dry_run=True, cache=cache)).report
        say(to_table(plan).rstrip())
        _heading(say, "3. The run: the same plan, carried out batch by batch")
        result = run_once(config, Clients(), now, RunOptions(dry_run=False, cache=cache))
        for line in _outcome(result.report):
            say(line)
        say(summary_line(result.report))
        _heading(say, "4. What remains, and why")
        for inventory in _inventories(config.targets[0].region, cache):
            policy = config.policy_for(inventory.repository.name)
            unselected = (
                f"policy {policy.name} has no rules"
                if policy is not None and not policy.rules
                else "no rule selects it"
            )
            for line in _remaining(inventory, plan, now, unselected):
                say(line)
        if inspect is not None:
            inspect(sandbox)
    say()
    say(f"demo finished in {time.monotonic() - started:.1f}s, exit code {result.exit_code}")
    return result.exit_code


def _heading(say: Callable[[str], None], title: str) -> None:
    say("")
    say(title)
    say("-" * len(title))


def _inventories(region: str, cache: ManifestCache) -> list[Inventory]:
    registry = Registry(Clients().ecr(region), region)
    return [registry.inventory(ref, cache) for ref in registry.repositories()]


def _outcome(report: RunReport) -> list[str]:
    lines = []
    for plan in sorted(report.repositories, key=lambda p: p.repository):
        images = sum(
            1
            for a in plan.actions
            if a.kind is ActionKind.DELETE_IMAGE and a.status is Status.DELETED
        )
        tags = sum(
            len(a.tags)
            for a in plan.actions
            if a.kind is ActionKind.REMOVE_TAG and a.status is Status.DELETED
        )
        parts = [f"deleted {_plural(images, 'image')}"] if images else []
        parts += [f"removed {_plural(tags, 'tag')} from images that stay"] if tags else []
        for status in (Status.SKIPPED, Status.FAILED):
            n = sum(1 for a in plan.actions if a.status is status)
            parts += [f"{n} {status.value}"] if n else []
        lines.append(f"  {plan.repository.name:<20} {', '.join(parts) or 'nothing to do'}")
    return lines


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _age(now: datetime, when: datetime) -> str:
    delta = now - when
    return f"{delta.days}d ago" if delta >= timedelta(days=1) else "today"


def _remaining(inventory: Inventory, plan: RunReport, now: datetime, unselected: str) -> list[str]:
    graph = build_graph(inventory)
    repo_plan = next((p for p in plan.repositories if p.repository == inventory.repository), None)
    why = _kept_reasons(repo_plan)
    top = sorted(graph.top_level, key=lambda d: inventory.images[d].pushed_at, reverse=True)
    title = f"== {inventory.repository.name}: {len(inventory.images)} images"
    if len(top) < len(inventory.images):
        title += f" ({len(top)} top-level, the rest their platforms, attestations, signatures)"
    rows = []
    for digest in top:
        image = inventory.images[digest]
        notes = []
        dependents = graph.dependents.get(digest, ())
        children = [d for d in dependents if graph.kinds[(digest, d)] is EdgeKind.CHILD]
        if children:
            notes.append(f"multi-arch index of {len(children)} manifests")
        if len(children) < len(dependents):
            notes.append("signed")
        if image.last_pulled is not None:
            notes.append(f"pulled {_age(now, image.last_pulled)}")
        notes.append(f"kept: {why.get(digest, unselected)}")
        tags = ", ".join(image.tags) or "<untagged>"
        rows.append((tags, f"pushed {_age(now, image.pushed_at)}", "; ".join(notes)))
    widths = [max((len(r[i]) for r in rows), default=0) for i in (0, 1)]
    lines = ["", title]
    lines.extend(f"   {a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows)
    return lines


def _kept_reasons(plan: RepositoryPlan | None) -> dict[str, str]:
    if plan is None:
        return {}
    if not plan.actions and not plan.kept:
        return {}
    return {k.digest: k.reason for k in plan.kept}

"""The in-use sources: where running workloads' image references are read from.

Each reader returns every `Usage` it can see, or raises: a source that cannot be read
completely must stop deletion in its target (cleaner.inuse.reader fails closed), so nothing
here skips an error. AWS calls go through the target's ECS and Lambda clients, made
like its ECR client (same region, role and retries).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from cleaner.core.references import Usage, parse_reference
from cleaner.inuse import listing

DESCRIBE_TASKS_MAX = 100
DESCRIBE_SERVICES_MAX = 10
DEFAULT_COMMAND_TIMEOUT = timedelta(minutes=2)
OUTPUT_EXCERPT = 300
Runner = Callable[..., "subprocess.CompletedProcess[str]"]


class SourceError(Exception):
    """A source could not be read; the message says why, in one line."""


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _paginate(client: Any, operation: str, key: str, **params: Any) -> list[Any]:
    return [
        item for page in client.get_paginator(operation).paginate(**params) for item in page[key]
    ]


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _with_digest(image: str, digest: str | None) -> str:
    """The container's image, pinned to the digest ECS resolved it to when known."""
    if not digest:
        return image
    return f"{image.split('@', 1)[0]}@{digest}"


def _usages(pairs: Iterable[tuple[str, str]], source: str) -> list[Usage]:
    out = []
    for text, workload in pairs:
        try:
            out.append(Usage(parse_reference(text), workload))
        except ValueError as exc:
            raise SourceError(f"{source}: {workload}: {exc}") from None
    return out


# -- ECS ------------------------------------------------------------------------------


def read_ecs(client: Any, *, task_definition_revisions: int = 0) -> list[Usage]:
    """Running and pending tasks, every ACTIVE service's task definitions (current and
    every deployment's), and the latest N revisions of each task definition family."""
    found: list[tuple[str, str]] = []
    definitions = _TaskDefinitions(client)
    for cluster in _paginate(client, "list_clusters", "clusterArns"):
        found.extend(_tasks(client, cluster))
        found.extend(_services(client, cluster, definitions))
    if task_definition_revisions > 0:
        found.extend(_latest_revisions(client, definitions, task_definition_revisions))
    return _usages(found, "ecs")


def _tasks(client: Any, cluster: str) -> Iterator[tuple[str, str]]:
    # desiredStatus RUNNING (ListTasks' default, spelled out) lists tasks that are
    # PROVISIONING, PENDING, ACTIVATING or RUNNING: whatever may still pull its image.
    arns = _paginate(client, "list_tasks", "taskArns", cluster=cluster, desiredStatus="RUNNING")
    for chunk in _chunks(arns, DESCRIBE_TASKS_MAX):
        response = client.describe_tasks(cluster=cluster, tasks=list(chunk))
        for failure in response.get("failures", []):
            if failure.get("reason") != "MISSING":  # stopped and gone since the listing
                raise SourceError(f"DescribeTasks {failure.get('arn')}: {failure.get('reason')}")
        for task in response.get("tasks", []):
            workload = f"ecs task {task['taskArn']} (cluster {_name(cluster)})"
            for container in task.get("containers", []):
                if container.get("image"):
                    yield _with_digest(container["image"], container.get("imageDigest")), workload


def _services(
    client: Any, cluster: str, definitions: _TaskDefinitions
) -> Iterator[tuple[str, str]]:
    arns = _paginate(client, "list_services", "serviceArns", cluster=cluster)
    for chunk in _chunks(arns, DESCRIBE_SERVICES_MAX):
        response = client.describe_services(cluster=cluster, services=list(chunk))
        for failure in response.get("failures", []):
            if failure.get("reason") != "MISSING":
                raise SourceError(f"DescribeServices {failure.get('arn')}: {failure.get('reason')}")
        for service in response.get("services", []):
            if service.get("status") != "ACTIVE":
                continue
            # A rolling deployment runs the old and the new task definition side by side;
            # CODE_DEPLOY and EXTERNAL controllers keep theirs in task sets.
            arns_used = [service.get("taskDefinition")]
            arns_used += [d.get("taskDefinition") for d in service.get("deployments", [])]
            arns_used += [t.get("taskDefinition") for t in service.get("taskSets", [])]
            for arn in sorted({a for a in arns_used if a}):
                workload = (
                    f"ecs service {service['serviceName']} (cluster {_name(cluster)}, "
                    f"task definition {_name(arn)})"
                )
                yield from ((image, workload) for image in definitions.images(arn))


def _latest_revisions(
    client: Any, definitions: _TaskDefinitions, keep: int
) -> Iterator[tuple[str, str]]:
    # One listing of every ACTIVE revision, grouped here: ListTaskDefinitions'
    # familyPrefix is a prefix match, so per-family calls would mix families anyway.
    families: dict[str, list[tuple[int, str]]] = {}
    for arn in _paginate(client, "list_task_definitions", "taskDefinitionArns", status="ACTIVE"):
        family, _, number = _name(arn).rpartition(":")
        families.setdefault(family, []).append((int(number), arn))
    for family, revisions in sorted(families.items()):
        for revision, arn in sorted(revisions, reverse=True)[:keep]:
            workload = (
                f"ecs task definition {family}:{revision} "
                f"(latest {keep} revisions kept by task_definition_revisions)"
            )
            yield from ((image, workload) for image in definitions.images(arn))


class _TaskDefinitions:
    """Container images per task definition ARN, each described once per read."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._images: dict[str, list[str]] = {}

    def images(self, arn: str) -> list[str]:
        if arn not in self._images:
            definition = self.client.describe_task_definition(taskDefinition=arn)
            containers = definition["taskDefinition"].get("containerDefinitions", [])
            self._images[arn] = [c["image"] for c in containers if c.get("image")]
        return self._images[arn]


# -- Lambda ---------------------------------------------------------------------------


def read_lambda(client: Any) -> list[Usage]:
    """Every version ($LATEST and published) of every container-image function; the
    aliases that route to a version are named with it."""
    found: list[tuple[str, str]] = []
    for function in _paginate(client, "list_functions", "Functions"):
        if function.get("PackageType") != "Image":
            continue
        name = function["FunctionName"]
        aliases: dict[str, list[str]] = {}
        for alias in _paginate(client, "list_aliases", "Aliases", FunctionName=name):
            routed = [alias.get("FunctionVersion")]
            routed += list((alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights", {}))
            for version in routed:
                aliases.setdefault(str(version), []).append(alias["Name"])
        versions = _paginate(client, "list_versions_by_function", "Versions", FunctionName=name)
        for version in versions:
            if version.get("PackageType") != "Image":
                continue
            number = version["Version"]
            code = client.get_function(FunctionName=name, Qualifier=number)["Code"]
            named = sorted(aliases.get(number, []))
            workload = f"lambda {name}:{number}" + (f" (alias {', '.join(named)})" if named else "")
            # ImageUri is what was deployed (maybe a tag, which may have moved since);
            # ResolvedImageUri the digest the function really runs: both stay.
            for key in ("ImageUri", "ResolvedImageUri"):
                if code.get(key):
                    found.append((code[key], workload))
    return _usages(found, "lambda")


# -- command and file -----------------------------------------------------------------


def references_in(text: str, source: str) -> list[Usage]:
    """One reference per line; blank lines and `#` comments are ignored. A line may
    hold several references separated by spaces (kubectl's `{..image}` prints them so)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        for word in line.split("#", 1)[0].split():
            try:
                out.append(Usage(parse_reference(word), f"{source} (line {number})"))
            except ValueError as exc:
                raise SourceError(f"line {number}: {exc}") from None
    return out


def read_command(
    argv: Sequence[str],
    *,
    timeout: timedelta | None,
    environment: Mapping[str, str],
    run: Runner = subprocess.run,
) -> list[Usage]:
    """Run `argv` (no shell) and read the references it prints; a non-zero exit or a
    timeout is a failure. `environment` is added to this process's environment."""
    limit = (timeout or DEFAULT_COMMAND_TIMEOUT).total_seconds()
    try:
        done = run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **environment},
        )
    except subprocess.TimeoutExpired:
        raise SourceError(f"timed out after {limit:g}s") from None
    except OSError as exc:
        raise SourceError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        said = (done.stderr or "").strip()[-OUTPUT_EXCERPT:]
        raise SourceError(f"exited with status {done.returncode}" + (f": {said}" if said else ""))
    return references_in(done.stdout, f"command {argv[0]}")


def read_file(path: str) -> list[Usage]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if listing.is_listing(text):  # what `ecr-cleaner in-use --format json` wrote
        try:
            return listing.usages_from_listing(text, f"file {path}")
        except listing.ListingError as exc:
            raise SourceError(str(exc)) from None
    return references_in(text, f"file {path}")

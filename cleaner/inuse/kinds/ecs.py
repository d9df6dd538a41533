"""`ecs`: the images of running tasks, of every ACTIVE service's deployments, and
optionally of the latest revisions of each task definition family."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cleaner.config import fields as f
from cleaner.config.shape import Key, Shape
from cleaner.core.references import Usage
from cleaner.inuse.kinds import SourceKind, SourceRequest
from cleaner.inuse.reading import SourceError, paginate, usages

DESCRIBE_TASKS_MAX = 100
DESCRIBE_SERVICES_MAX = 10


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _with_digest(image: str, digest: str | None) -> str:
    """The container's image, pinned to the digest ECS resolved it to when known."""
    if not digest:
        return image
    return f"{image.split('@', 1)[0]}@{digest}"


def read_ecs(client: Any, *, task_definition_revisions: int = 0) -> list[Usage]:
    """Running and pending tasks, every ACTIVE service's task definitions (current and
    every deployment's), and the latest N revisions of each task definition family."""
    found: list[tuple[str, str]] = []
    definitions = _TaskDefinitions(client)
    for cluster in paginate(client, "list_clusters", "clusterArns"):
        found.extend(_tasks(client, cluster))
        found.extend(_services(client, cluster, definitions))
    if task_definition_revisions > 0:
        found.extend(_latest_revisions(client, definitions, task_definition_revisions))
    return usages(found, "ecs")


def _tasks(client: Any, cluster: str) -> Iterator[tuple[str, str]]:
    # desiredStatus RUNNING (ListTasks' default, spelled out) lists tasks that are
    # PROVISIONING, PENDING, ACTIVATING or RUNNING: whatever may still pull its image.
    arns = paginate(client, "list_tasks", "taskArns", cluster=cluster, desiredStatus="RUNNING")
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
    arns = paginate(client, "list_services", "serviceArns", cluster=cluster)
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
    for arn in paginate(client, "list_task_definitions", "taskDefinitionArns", status="ACTIVE"):
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


def _read(request: SourceRequest) -> list[Usage]:
    revisions = request.options["task_definition_revisions"]
    assert isinstance(revisions, int)
    client = request.clients.for_target("ecs", request.target)
    return read_ecs(client, task_definition_revisions=revisions)


KIND = SourceKind(
    name="ecs",
    description="ECS: images of running tasks and services.",
    read=_read,
    options=Shape(
        {
            "task_definition_revisions": Key(
                f.at_least(0),
                "Also count the images of this many latest revisions of each task"
                " definition family as in use.",
                default=0,
            ),
        }
    ),
    position=10,
)

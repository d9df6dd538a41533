"""Which image references a Kubernetes object holds, and how the report names it.

Pure: objects come in as the API server's JSON (camelCase keys), references go out as
text for cleaner.core.references to read. The resource table is the one fact that the
client, the sandbox's API server and the ClusterRole test share.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# Container lists of a pod spec: all of them pull images.
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
# Where the kubelet reports the digest each container actually runs.
STATUS_LISTS = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")


@dataclass(frozen=True, slots=True)
class Resource:
    """A resource the source lists: `kind` as manifests name it (`CronJob`), its API
    group ("" is the core group), version and plural, the kubernetes client's API class
    and method stem (`list_<stem>_for_all_namespaces`, `list_namespaced_<stem>`), and
    where its pod template's spec is (() for pods)."""

    kind: str
    group: str
    version: str
    plural: str
    api_class: str
    stem: str
    template: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How reports name the kind: `pod`, `cronjob`."""
        return self.kind.lower()

    @property
    def prefix(self) -> str:
        """The API path that serves the resource's group and version."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    @property
    def all_namespaces_method(self) -> str:
        return f"list_{self.stem}_for_all_namespaces"

    @property
    def namespaced_method(self) -> str:
        return f"list_namespaced_{self.stem}"


_TEMPLATE = ("spec", "template", "spec")
_CRON_TEMPLATE = ("spec", "jobTemplate", "spec", "template", "spec")
POD = Resource("Pod", "", "v1", "pods", "CoreV1Api", "pod")
RESOURCES = (
    POD,
    Resource("Deployment", "apps", "v1", "deployments", "AppsV1Api", "deployment", _TEMPLATE),
    Resource("StatefulSet", "apps", "v1", "statefulsets", "AppsV1Api", "stateful_set", _TEMPLATE),
    Resource("DaemonSet", "apps", "v1", "daemonsets", "AppsV1Api", "daemon_set", _TEMPLATE),
    Resource("ReplicaSet", "apps", "v1", "replicasets", "AppsV1Api", "replica_set", _TEMPLATE),
    Resource("Job", "batch", "v1", "jobs", "BatchV1Api", "job", _TEMPLATE),
    Resource("CronJob", "batch", "v1", "cronjobs", "BatchV1Api", "cron_job", _CRON_TEMPLATE),
)
BY_KIND = {r.kind: r for r in RESOURCES}


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _entries(spec: Any, lists: tuple[str, ...], field: str) -> Iterator[str]:
    for name in lists:
        for entry in _dig(spec, (name,)) or ():
            text = entry.get(field) if isinstance(entry, Mapping) else None
            # `image` may be empty in a template a controller fills in; `imageID` is
            # empty until the image is pulled: neither names anything yet.
            if isinstance(text, str) and text.strip():
                yield text


def pod_references(pod: Mapping[str, Any]) -> list[str]:
    """Every image a pod's containers name, and every digest the kubelet says they
    run: a tag may have moved since the pod started, its imageID has not."""
    spec_images = _entries(pod.get("spec"), CONTAINER_LISTS, "image")
    running = _entries(pod.get("status"), STATUS_LISTS, "imageID")
    return list(dict.fromkeys([*spec_images, *running]))


def template_references(resource: Resource, obj: Mapping[str, Any]) -> list[str]:
    """The images a workload's pod template names: what it will run next."""
    return list(dict.fromkeys(_entries(_dig(obj, resource.template), CONTAINER_LISTS, "image")))


def counts(resource: Resource, obj: Mapping[str, Any]) -> bool:
    """Whether the object can run its images. A ReplicaSet scaled to 0 is a
    Deployment's rollback history, not a workload (its pods, while they last, are
    listed as pods)."""
    if resource is not BY_KIND["ReplicaSet"]:
        return True
    wanted = _dig(obj, ("spec", "replicas"))
    current = _dig(obj, ("status", "replicas"))
    # spec.replicas defaults to 1 when absent.
    return (1 if wanted is None else wanted) > 0 or (current or 0) > 0


def workload_label(resource: Resource, obj: Mapping[str, Any], cluster: str) -> str:
    """`pod prod/api-7d9f (cluster eks-prod)`, `cronjob batch/nightly template (...)`."""
    metadata = obj.get("metadata") or {}
    name = f"{metadata.get('namespace', '')}/{metadata.get('name', '?')}"
    what = "" if resource is POD else " template"
    return f"{resource.label} {name}{what} (cluster {cluster})"


def references(resource: Resource, obj: Mapping[str, Any], cluster: str) -> list[tuple[str, str]]:
    """(reference, workload) for each image the object holds; [] if it runs nothing."""
    if not counts(resource, obj):
        return []
    found = pod_references(obj) if resource is POD else template_references(resource, obj)
    label = workload_label(resource, obj, cluster)
    return [(text, label) for text in found]


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace", ""))

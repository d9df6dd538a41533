"""Seeding the sandbox's clusters from ordinary manifests, the way a cluster would run them.

`apply` takes YAML (several documents, or a `List`) and stores each workload. With
`run=True` (the default) it also does what the controllers and the kubelet would:
a Deployment gets a ReplicaSet, a ReplicaSet, StatefulSet, DaemonSet or Job gets its
pods, and every pod gets `status.containerStatuses` whose `imageID` is the digest its
image resolves to in the sandbox's ECR store at that moment (the tag as it is now). An
image that is not there leaves its container waiting in ErrImagePull with no imageID.
Images of other registries get a stable made-up digest, as if pulled from there.
A CronJob runs nothing until its schedule fires, so it gets no pods.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from copy import deepcopy
from pathlib import Path
from typing import Any

import yaml

from cleaner.core.kube_objects import BY_KIND, CONTAINER_LISTS, POD, STATUS_LISTS, Resource
from cleaner.core.references import parse_reference
from cleaner.sandbox.kube import PREFIX, KubeApi, KubeCluster
from cleaner.sandbox.store import Store

CREATED = "2026-01-01T00:00:00Z"
_POD_OWNERS = ("ReplicaSet", "StatefulSet", "DaemonSet", "Job")


class KubeSeeder:
    """Seeds one cluster. `runtime="docker"` writes imageIDs as dockershim did
    (`docker-pullable://repo@sha256:...`); containerd writes `repo@sha256:...`."""

    def __init__(
        self, cluster: KubeCluster, store: Store, *, runtime: str = "containerd", nodes: int = 1
    ) -> None:
        self.cluster = cluster
        self.store = store
        self.runtime = runtime
        self.nodes = nodes
        self._pulled: dict[str, str | None] = {}

    def apply(self, text: str, *, run: bool = True) -> list[dict[str, Any]]:
        """Every workload of the YAML documents in `text`; other kinds are ignored, as
        the sandbox serves only what the cleaner reads. Returns the stored objects."""
        stored = []
        for document in yaml.safe_load_all(text):
            if not document:
                continue
            items = document.get("items", []) if document.get("kind") == "List" else [document]
            for obj in items:
                if obj.get("kind") in BY_KIND:
                    stored.append(self.add(obj, run=run))
        return stored

    def add(self, obj: dict[str, Any], *, run: bool = True) -> dict[str, Any]:
        resource = BY_KIND[obj["kind"]]
        obj = deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        metadata.setdefault("namespace", "default")
        metadata.setdefault("uid", str(uuid.uuid4()))
        metadata.setdefault("creationTimestamp", CREATED)
        obj.pop("kind", None)  # list items carry no kind or apiVersion
        obj.pop("apiVersion", None)
        if resource is POD and "status" not in obj:
            obj["status"] = self.kubelet_status(obj.get("spec") or {})
        stored = self.cluster.put(resource.plural, obj)
        if run:
            self._run(resource, stored)
        return stored

    def pods(
        self, count: int, image: str, *, namespace: str = "default", name: str = "pod"
    ) -> None:
        """`count` running pods of one image, fast: for paging and scale tests."""
        spec = {"containers": [{"name": "main", "image": image}]}
        status = self.kubelet_status(spec)
        for n in range(count):
            metadata = {"name": f"{name}-{n:05d}", "namespace": namespace, "uid": str(uuid.uuid4())}
            self.cluster.put(
                POD.plural,
                {"metadata": metadata, "spec": deepcopy(spec), "status": deepcopy(status)},
            )

    def kubelet_status(self, spec: dict[str, Any]) -> dict[str, Any]:
        """What the kubelet reports once it tried to start the pod's containers now."""
        status: dict[str, Any] = {"phase": "Running"}
        for containers, statuses in zip(CONTAINER_LISTS, STATUS_LISTS, strict=True):
            for container in spec.get(containers) or ():
                image = container.get("image", "")
                pulled = self.pulled(image)
                entry: dict[str, Any] = {"name": container.get("name", ""), "image": image}
                if pulled is None:
                    status["phase"] = "Pending"
                    entry |= {"imageID": "", "ready": False}
                    entry["state"] = {"waiting": {"reason": "ErrImagePull"}}
                else:
                    entry |= {"imageID": pulled, "ready": True}
                    entry["state"] = {"running": {"startedAt": CREATED}}
                status.setdefault(statuses, []).append(entry)
        return status

    def pulled(self, image: str) -> str | None:
        """The imageID of `image` pulled now, or None if it cannot be pulled."""
        if image not in self._pulled:
            self._pulled[image] = self._pull(image)
        found = self._pulled[image]
        if found is None or self.runtime != "docker":
            return found
        return f"docker-pullable://{found}"

    def _pull(self, image: str) -> str | None:
        try:
            ref = parse_reference(image)
        except ValueError:
            return None
        registry, repository = ref.registry or "docker.io", ref.repository or ""
        if registry == "docker.io" and "/" not in repository:
            repository = f"library/{repository}"  # as containerd names Docker Hub images
        name = f"{registry}/{repository}"
        if ref.ecr is None:
            return f"{name}@{ref.digest or 'sha256:' + _sha(image)}"
        with self.store.lock:
            repo = self.store.repository(*ref.ecr, repository)
            if repo is None:
                return None
            digest = ref.digest if ref.digest else repo.tags.get(ref.tag or "")
            return f"{name}@{digest}" if digest in repo.images else None

    # -- what the controllers would make ------------------------------------------------

    def _run(self, resource: Resource, obj: dict[str, Any]) -> None:
        kind, spec, name = resource.kind, obj.get("spec") or {}, obj["metadata"]["name"]
        template = spec.get("template") or {}
        if kind == "Deployment":
            replicas = spec.get("replicas", 1)
            replica_set = {"replicas": replicas, "template": deepcopy(template)}
            owned = {"spec": replica_set, "status": {"replicas": replicas}}
            rs_name = f"{name}-{_sha(repr(template))[:10]}"
            self.add(_owned(obj, resource, "ReplicaSet", rs_name, owned))
        elif kind in _POD_OWNERS:
            count = {"DaemonSet": self.nodes, "Job": 1}.get(kind, spec.get("replicas", 1))
            for n in range(count):
                suffix = str(n) if kind == "StatefulSet" else _sha(f"{name}/{n}")[:5]
                pod = {"spec": deepcopy(template.get("spec") or {})}
                self.add(_owned(obj, resource, "Pod", f"{name}-{suffix}", pod))


def _owned(
    owner: dict[str, Any], resource: Resource, kind: str, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    """An object that `owner`'s controller made, as manifests would write it."""
    metadata = owner["metadata"]
    reference = {"kind": resource.kind, "name": metadata["name"], "uid": metadata["uid"]}
    reference["controller"] = True
    body["kind"] = kind
    body["metadata"] = {
        "name": name,
        "namespace": metadata["namespace"],
        "ownerReferences": [reference],
    }
    return body


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write_kubeconfig(
    path: Path,
    api: KubeApi,
    endpoint_url: str,
    *,
    clusters: Iterable[str] | None = None,
    current: str | None = None,
) -> Path:
    """A kubeconfig with one context per cluster (named like the cluster), each with
    its server under the sandbox's endpoint and its bearer token."""
    names = list(clusters) if clusters is not None else sorted(api.clusters)
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": n, "cluster": {"server": f"{endpoint_url}{PREFIX}{n}"}} for n in names
        ],
        "users": [{"name": n, "user": {"token": api.cluster(n).token}} for n in names],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in names],
        "current-context": current or (names[0] if names else ""),
        "preferences": {},
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path

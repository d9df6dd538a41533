"""The `kubernetes` in-use source: images that pods run and that workloads will run.

    protect:
      in_use:
        sources:
          - kubernetes                    # the pod's service account, or the kubeconfig
          - kubernetes:
              kubeconfig: ~/.kube/config  # default: in a pod its service account, else
                                          # $KUBECONFIG, else ~/.kube/config
              contexts: [prod, staging]   # default: the current context
              namespaces: ["*", "!kube-system"]   # globs, ! excludes; default all

Per cluster it lists pods (every container's image and the digest the kubelet says it
runs) and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets that
want replicas, Jobs and CronJobs, paged (`limit` + `continue`). Namespaces given as
plain names are listed one by one (a Role in each is enough); any glob or exclude
lists each resource across all namespaces (one call per 500 objects) and filters here.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path

import structlog

from cleaner.config import fields as f
from cleaner.config.fields import Check, Issues
from cleaner.config.model import NamePatterns
from cleaner.config.shape import Key, Shape
from cleaner.core import kube_objects
from cleaner.core.references import ImageReference, Usage, parse_reference
from cleaner.inuse import kube_client
from cleaner.inuse.kinds import SourceKind, SourceRequest
from cleaner.inuse.reading import SourceError

log = structlog.get_logger("cleaner.inuse.kubernetes")

NAME = "kubernetes"
INSTALL = "pip install 'ecr-cleaner[kubernetes]'"
PAGE_SIZE = 500  # kubectl's chunk size
ALL_NAMESPACES = NamePatterns()
_GLOB_CHARACTERS = "*?["


# Lists become tuples (and namespaces NamePatterns), so the frozen config stays hashable.
def _contexts(issues: Issues, path: str, value: object) -> tuple[str, ...] | None:
    names = f.strings(issues, path, value, "kubeconfig context names")
    return tuple(dict.fromkeys(names)) if names is not None else None


def _namespaces(issues: Issues, path: str, value: object) -> NamePatterns | None:
    patterns = f.strings(issues, path, value, "namespace globs")
    if patterns is None:
        return None
    bad = [i for i, p in enumerate(patterns) if p == "!"]
    for i in bad:
        issues.add(f.item(path, i), "'!' must be followed by the glob to exclude")
    return NamePatterns.parse(patterns) if not bad else None


OPTIONS = Shape(
    {
        "kubeconfig": Key(
            f.string,
            "Kubeconfig file. Default: in a pod its service account, else $KUBECONFIG,"
            " else ~/.kube/config.",
        ),
        "contexts": Key(
            Check(_contexts, {"type": "array", "minItems": 1, "items": f.string}),
            "Kubeconfig contexts (clusters) to read. Default: the current context.",
        ),
        "namespaces": Key(
            Check(
                _namespaces,
                {
                    "type": "array",
                    "minItems": 1,
                    "items": {**f.STRING_SCHEMA, "not": {"const": "!"}},
                },
            ),
            "Namespace globs; a leading ! excludes. Default: all namespaces.",
        ),
    }
)


def client_installed() -> bool:
    return importlib.util.find_spec("kubernetes") is not None


def missing_client() -> str | None:
    """Why a policy using this source cannot run here, or None."""
    if not client_installed():
        return f"the kubernetes source needs the kubernetes client, not installed: {INSTALL}"
    return None


def label(options: Mapping[str, object]) -> str:
    """`kubernetes`, or with what the options choose: `kubernetes (contexts a, b)`."""
    parts = []
    if options.get("kubeconfig"):
        parts.append(f"kubeconfig {options['kubeconfig']}")
    contexts = options.get("contexts")
    if isinstance(contexts, tuple) and contexts:
        parts.append(f"contexts {', '.join(str(c) for c in contexts)}")
    namespaces = options.get("namespaces")
    if isinstance(namespaces, NamePatterns) and namespaces != ALL_NAMESPACES:
        shown = [*namespaces.include, *(f"!{p}" for p in namespaces.exclude)]
        parts.append(f"namespaces {', '.join(shown)}")
    return f"{NAME} ({'; '.join(parts)})" if parts else NAME


def listed_namespaces(patterns: NamePatterns) -> tuple[str, ...] | None:
    """The namespaces to list one by one, or None: list across all namespaces."""
    if patterns.exclude or any(c in p for p in patterns.include for c in _GLOB_CHARACTERS):
        return None
    return tuple(dict.fromkeys(patterns.include))


def read_kubernetes(
    options: Mapping[str, object],
    *,
    environ: Mapping[str, str] = os.environ,
    page_size: int = PAGE_SIZE,
    service_account: Path = kube_client.SERVICE_ACCOUNT,
) -> list[Usage]:
    """Every image reference of every cluster the options name; raises SourceError,
    naming the cluster and the cause, if any list of any cluster cannot be read."""
    kubeconfig = options.get("kubeconfig")
    contexts = options.get("contexts") or ()
    patterns = options.get("namespaces") or ALL_NAMESPACES
    assert isinstance(kubeconfig, str | None) and isinstance(contexts, tuple)
    assert isinstance(patterns, NamePatterns)
    clusters = kube_client.connect(
        kubeconfig, tuple(str(c) for c in contexts), environ, account=service_account
    )
    found: dict[tuple[str, str], None] = {}
    try:
        for cluster in clusters:
            for pair in _read_cluster(cluster, patterns, page_size):
                found[pair] = None
    finally:
        for cluster in clusters:
            cluster.client.close()
    usages = []
    parsed: dict[str, ImageReference] = {}  # many pods run one image: read it once
    for text, workload in found:
        try:
            reference = parsed.get(text) or parsed.setdefault(text, parse_reference(text))
        except ValueError as exc:
            raise SourceError(f"{workload}: {exc}") from None
        usages.append(Usage(reference, workload))
    return usages


def _read_cluster(
    cluster: kube_client.Cluster, patterns: NamePatterns, page_size: int
) -> list[tuple[str, str]]:
    namespaces = listed_namespaces(patterns)
    found: list[tuple[str, str]] = []
    for resource in kube_objects.RESOURCES:

        def extract(
            obj: Mapping[str, object], resource: kube_objects.Resource = resource
        ) -> list[tuple[str, str]]:
            if not patterns.matches(kube_objects.namespace_of(obj)):
                return []
            return kube_objects.references(resource, obj, cluster.name)

        for namespace in namespaces or (None,):
            found.extend(
                kube_client.scan_resource(cluster, resource, namespace, page_size, extract)
            )
    log.info(
        "kubernetes_cluster_read",
        cluster=cluster.name,
        calls=cluster.calls,
        references=len(found),
        namespaces="all" if namespaces is None else ",".join(namespaces),
    )
    return found


def _read(request: SourceRequest) -> list[Usage]:
    return read_kubernetes(request.options)


KIND = SourceKind(
    name=NAME,
    description="Kubernetes: images of pods (and the digests they run) and of workload"
    f" templates. Needs the kubernetes extra: {INSTALL}.",
    read=_read,
    options=OPTIONS,
    label=label,
    position=50,
    unavailable=missing_client,
)

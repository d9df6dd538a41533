"""What a Kubernetes object says is in use, and which image of a repository that names
(pure: objects as the API server returns them, resolution as every source's)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cleaner.core.kube_objects import BY_KIND, POD, RESOURCES, references
from cleaner.core.model import Image, Inventory, RepositoryRef
from cleaner.core.references import Usage, UsageIndex, parse_reference, resolve_in_use
from cleaner.inuse.kube_client import short_name

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
OTHER_ACCOUNT = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
OTHER_REGION = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
RUNNING = "sha256:" + "a" * 64  # what the tag pointed to when the pod started
TAGGED = "sha256:" + "b" * 64  # what the tag points to now
PINNED = "sha256:" + "c" * 64
UNUSED = "sha256:" + "d" * 64
REPO = RepositoryRef("us-east-1", "123456789012", "team-a/api")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def inventory() -> Inventory:
    images = {
        RUNNING: Image(RUNNING, (), WHEN),
        TAGGED: Image(TAGGED, ("v2",), WHEN),
        PINNED: Image(PINNED, ("v1",), WHEN),
        UNUSED: Image(UNUSED, ("old",), WHEN),
    }
    return Inventory(REPO, images)


def pod(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
    metadata = {"name": "api-7d9f", "namespace": "prod"}
    return {"metadata": metadata, "spec": spec, "status": status or {}}


def protected(obj: dict[str, Any], kind: str = "Pod") -> set[str]:
    pairs = references(BY_KIND[kind], obj, "eks-prod")
    usages = [Usage(parse_reference(text), workload) for text, workload in pairs]
    return set(resolve_in_use(inventory(), UsageIndex(usages)))


def containers(*images: str, field: str = "image") -> list[dict[str, str]]:
    return [{"name": f"c{i}", field: image} for i, image in enumerate(images)]


# fmt: off
POD_FORMS = [
    # (where, spec, status, digests of the inventory protected)
    ("container by tag", {"containers": containers(f"{ECR}/team-a/api:v2")}, None, {TAGGED}),
    ("init container by tag", {"initContainers": containers(f"{ECR}/team-a/api:v1"),
                               "containers": []}, None, {PINNED}),
    ("ephemeral container", {"ephemeralContainers": containers(f"{ECR}/team-a/api:v1")},
     None, {PINNED}),
    ("container by digest", {"containers": containers(f"{ECR}/team-a/api@{PINNED}")},
     None, {PINNED}),
    ("tag and digest: the digest wins", {"containers": containers(f"{ECR}/team-a/api:v2@{PINNED}")},
     None, {PINNED}),
    ("no registry: any registry's team-a/api", {"containers": containers("team-a/api:v1")},
     None, {PINNED}),
    ("no tag means latest, which is absent", {"containers": containers(f"{ECR}/team-a/api")},
     None, set()),
    ("another account's registry", {"containers": containers(f"{OTHER_ACCOUNT}/team-a/api:v1")},
     None, set()),
    ("another region's registry", {"containers": containers(f"{OTHER_REGION}/team-a/api:v1")},
     None, set()),
    ("another registry altogether", {"containers": containers("ghcr.io/team-a/api:v1")},
     None, set()),
    ("empty image (a template a controller fills in)", {"containers": containers("")},
     None, set()),
    # The kubelet's imageID: the digest actually run, though the tag moved to TAGGED.
    ("containerd imageID", {"containers": containers(f"{ECR}/team-a/api:v2")},
     {"containerStatuses": containers(f"{ECR}/team-a/api@{RUNNING}", field="imageID")},
     {TAGGED, RUNNING}),
    ("docker-pullable imageID", {"containers": containers(f"{ECR}/team-a/api:v2")},
     {"containerStatuses": containers(f"docker-pullable://{ECR}/team-a/api@{RUNNING}",
                                      field="imageID")},
     {TAGGED, RUNNING}),
    ("init container's imageID", {"initContainers": containers(f"{ECR}/team-a/api:v2")},
     {"initContainerStatuses": containers(f"{ECR}/team-a/api@{RUNNING}", field="imageID")},
     {TAGGED, RUNNING}),
    ("ephemeral container's imageID", {},
     {"ephemeralContainerStatuses": containers(f"{ECR}/team-a/api@{RUNNING}",
                                               field="imageID")},
     {RUNNING}),
    ("bare digest imageID names it in any repository", {},
     {"containerStatuses": containers(RUNNING, field="imageID")}, {RUNNING}),
    ("imageID of another account", {},
     {"containerStatuses": containers(f"{OTHER_ACCOUNT}/team-a/api@{RUNNING}",
                                      field="imageID")}, set()),
    ("not pulled yet: empty imageID", {"containers": containers(f"{ECR}/team-a/api:v1")},
     {"containerStatuses": containers("", field="imageID")}, {PINNED}),
    ("every list at once", {"initContainers": containers(f"{ECR}/team-a/api:v1"),
                            "containers": containers(f"{ECR}/team-a/api:v2"),
                            "ephemeralContainers": containers(f"{ECR}/team-a/api@{UNUSED}")},
     {"containerStatuses": containers(f"{ECR}/team-a/api@{RUNNING}", field="imageID")},
     {PINNED, TAGGED, UNUSED, RUNNING}),
]
# fmt: on


@pytest.mark.parametrize(
    ("spec", "status", "expected"),
    [pytest.param(s, st, e, id=w) for w, s, st, e in POD_FORMS],
)
def test_every_reference_form_of_a_pod_resolves_like_any_source(
    spec: dict[str, Any], status: dict[str, Any] | None, expected: set[str]
) -> None:
    assert protected(pod(spec, status)) == expected


def template(kind: str, image: str, **spec: Any) -> dict[str, Any]:
    pod_spec = {"containers": containers(image)}
    if kind == "CronJob":
        spec["jobTemplate"] = {"spec": {"template": {"spec": pod_spec}}}
    else:
        spec["template"] = {"spec": pod_spec}
    return {"metadata": {"name": "nightly", "namespace": "batch"}, "spec": spec}


@pytest.mark.parametrize("kind", [r.kind for r in RESOURCES if r is not POD])
def test_every_workload_template_names_what_it_will_run(kind: str) -> None:
    assert protected(template(kind, f"{ECR}/team-a/api:v1"), kind) == {PINNED}
    (pair,) = references(BY_KIND[kind], template(kind, "app:1"), "eks-prod")
    assert pair == ("app:1", f"{kind.lower()} batch/nightly template (cluster eks-prod)")


@pytest.mark.parametrize(
    ("spec", "status", "counts"),
    [
        ({"replicas": 3}, {"replicas": 3}, True),
        ({}, {}, True),  # spec.replicas defaults to 1
        ({"replicas": 0}, {"replicas": 0}, False),  # a Deployment's rollback history
        ({"replicas": 0}, {}, False),
        ({"replicas": 0}, {"replicas": 2}, True),  # scaling down: pods still run it
    ],
)
def test_a_replicaset_counts_only_while_it_wants_or_has_replicas(
    spec: dict[str, Any], status: dict[str, Any], counts: bool
) -> None:
    obj = template("ReplicaSet", f"{ECR}/team-a/api:v1", **spec)
    obj["status"] = status
    assert protected(obj, "ReplicaSet") == ({PINNED} if counts else set())


def test_pods_are_named_by_namespace_name_and_cluster_and_listed_once_per_reference() -> None:
    image = f"{ECR}/team-a/api:v1"
    obj = pod(
        {"initContainers": containers(image), "containers": containers(image, image)},
        {"containerStatuses": containers(f"{ECR}/team-a/api@{PINNED}", field="imageID")},
    )
    label = "pod prod/api-7d9f (cluster eks-prod)"
    assert references(POD, obj, "eks-prod") == [
        (image, label),
        (f"{ECR}/team-a/api@{PINNED}", label),
    ]


@pytest.mark.parametrize(
    ("context", "name"),
    [
        ("arn:aws:eks:us-east-1:123456789012:cluster/eks-prod", "eks-prod"),
        ("arn:aws-cn:eks:cn-north-1:123456789012:cluster/x", "x"),
        (
            "arn:aws:eks:us-east-1:123456789012:nodegroup/x",
            "arn:aws:eks:us-east-1:123456789012:nodegroup/x",
        ),
        ("eks-prod", "eks-prod"),
        ("kind-kind", "kind-kind"),
    ],
)
def test_clusters_are_named_by_context_and_eks_arns_by_the_cluster_name(
    context: str, name: str
) -> None:
    assert short_name(context) == name

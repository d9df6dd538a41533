"""The sandbox's Kubernetes API over plain HTTP: list paths, paging, errors as Status
objects, and seeding from manifests the way controllers and the kubelet would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from cleaner.sandbox import Sandbox, Seeder
from cleaner.sandbox.kube import PREFIX

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


def get(sb: Sandbox, path: str, token: str | None = "token-c") -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{sb.endpoint_url}{PREFIX}c{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as response:  # 127.0.0.1 only
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def pod(name: str, namespace: str = "default") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  containers: [{{name: main, image: "nginx:1.27"}}]
"""


def test_lists_in_key_order_across_namespaces_and_in_one(sb: Sandbox) -> None:
    seeder = sb.kube_seeder("c")
    seeder.apply("---".join([pod("b", "prod"), pod("a", "prod"), pod("z", "batch")]))
    status, body = get(sb, "/api/v1/pods")
    assert status == 200 and body["kind"] == "PodList" and body["apiVersion"] == "v1"
    names = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]]
    assert names == [("batch", "z"), ("prod", "a"), ("prod", "b")]
    assert "continue" not in body["metadata"]
    _, prod = get(sb, "/api/v1/namespaces/prod/pods")
    assert [i["metadata"]["name"] for i in prod["items"]] == ["a", "b"]
    status, deployments = get(sb, "/apis/apps/v1/deployments")
    assert (status, deployments["kind"], deployments["items"]) == (200, "DeploymentList", [])
    assert get(sb, "/apis/batch/v1/namespaces/x/cronjobs")[1]["apiVersion"] == "batch/v1"


def test_limit_and_continue_page_through_everything_once(sb: Sandbox) -> None:
    sb.kube_seeder("c").pods(7, "nginx:1.27")
    seen, token, pages = [], "", 0
    version = None
    while True:
        _, body = get(sb, "/api/v1/pods?limit=3" + (f"&continue={token}" if token else ""))
        pages += 1
        seen += [i["metadata"]["name"] for i in body["items"]]
        version = version or body["metadata"]["resourceVersion"]
        assert body["metadata"]["resourceVersion"] == version  # the list's, on every page
        token = body["metadata"].get("continue", "")
        if not token:
            break
        assert body["metadata"]["remainingItemCount"] == 7 - len(seen)
    assert pages == 3
    assert seen == [f"pod-{n:05d}" for n in range(7)]


def test_an_expired_continue_token_is_410_gone(sb: Sandbox) -> None:
    sb.kube_seeder("c").pods(4, "nginx:1.27")
    _, first = get(sb, "/api/v1/pods?limit=2")
    sb.kube.cluster("c").compact()
    status, body = get(sb, f"/api/v1/pods?limit=2&continue={first['metadata']['continue']}")
    assert (status, body["kind"], body["reason"], body["code"]) == (410, "Status", "Expired", 410)
    # A new list (no token) works again.
    assert get(sb, "/api/v1/pods?limit=2")[0] == 200


def test_injected_410_hits_only_continued_requests_of_that_resource(sb: Sandbox) -> None:
    sb.kube_seeder("c").pods(4, "nginx:1.27")
    sb.kube.cluster("c").expire_next_continue("pods")
    _, first = get(sb, "/api/v1/pods?limit=2")
    token = first["metadata"]["continue"]
    assert get(sb, f"/api/v1/pods?limit=2&continue={token}")[0] == 410
    assert get(sb, f"/api/v1/pods?limit=2&continue={token}")[0] == 200


@pytest.mark.parametrize(
    ("path", "token", "status", "reason"),
    [
        ("/api/v1/pods", None, 401, "Unauthorized"),
        ("/api/v1/pods", "stale", 401, "Unauthorized"),
        ("/api/v1/services", "token-c", 404, "NotFound"),
        ("/api/v1/pods?continue=garbage", "token-c", 400, "BadRequest"),
    ],
)
def test_errors_are_status_objects(
    sb: Sandbox, path: str, token: str | None, status: int, reason: str
) -> None:
    sb.kube.cluster("c")
    code, body = get(sb, path, token)
    assert (code, body["kind"], body["status"], body["reason"]) == (
        status,
        "Status",
        "Failure",
        reason,
    )


def test_a_denied_resource_is_403_saying_who_cannot_do_what_where(sb: Sandbox) -> None:
    sb.kube.cluster("c").deny("cronjobs")
    code, body = get(sb, "/apis/batch/v1/namespaces/batch/cronjobs")
    assert code == 403
    assert body["message"].startswith('cronjobs is forbidden: User "system:serviceaccount:')
    assert body["message"].endswith(
        'cannot list resource "cronjobs" in API group "batch" in the namespace "batch"'
    )
    assert get(sb, "/apis/batch/v1/jobs")[0] == 200


def test_rbac_rules_allow_what_they_name_and_nothing_else(sb: Sandbox) -> None:
    cluster = sb.kube.cluster("c")
    cluster.rbac = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
    assert get(sb, "/api/v1/pods")[0] == 200
    assert get(sb, "/apis/apps/v1/deployments")[0] == 403
    cluster.rbac = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "watch"]}]
    assert get(sb, "/api/v1/pods")[0] == 403
    assert [(c.resource, c.status) for c in cluster.calls] == [
        ("pods", 200),
        ("deployments", 403),
        ("pods", 403),
    ]


def test_controllers_and_the_kubelet_run_what_manifests_describe(sb: Sandbox) -> None:
    repo = Seeder(sb.store).repository("team-a/api")
    v1 = repo.image(["v1"])
    seeder = sb.kube_seeder("c", nodes=2)
    seeder.apply(f"""
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: api, namespace: prod}}
    spec:
      replicas: 2
      template:
        spec:
          initContainers: [{{name: init, image: "{HOST}/team-a/api:v1"}}]
          containers: [{{name: api, image: "{HOST}/team-a/api:v1"}}]
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {{name: agent, namespace: kube-system}}
    spec: {{template: {{spec: {{containers: [{{name: a, image: "{HOST}/team-a/api:gone"}}]}}}}}}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db, namespace: prod}}
spec: {{replicas: 2, template: {{spec: {{containers: [{{name: db, image: "postgres:16"}}]}}}}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {{name: nightly, namespace: batch}}
spec:
  schedule: "0 1 * * *"
  jobTemplate: {{spec: {{template: {{spec: {{containers: [{{name: n, image: "x:1"}}]}}}}}}}}
---
apiVersion: v1
kind: Service
metadata: {{name: ignored}}
""")
    _, replica_sets = get(sb, "/apis/apps/v1/namespaces/prod/replicasets")
    (replica_set,) = replica_sets["items"]
    assert replica_set["metadata"]["name"].startswith("api-")
    assert replica_set["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert replica_set["spec"]["replicas"] == 2
    _, pods = get(sb, "/api/v1/pods")
    by_owner: dict[str, list[dict[str, Any]]] = {}
    for item in pods["items"]:
        owner = item["metadata"]["ownerReferences"][0]["name"]
        by_owner.setdefault(owner, []).append(item)
    assert set(by_owner) == {"agent", "db", replica_set["metadata"]["name"]}
    assert [p["metadata"]["name"] for p in by_owner["db"]] == ["db-0", "db-1"]
    assert len(by_owner["agent"]) == 2  # one per node
    api = by_owner[replica_set["metadata"]["name"]][0]
    assert api["status"]["phase"] == "Running"
    for statuses in ("initContainerStatuses", "containerStatuses"):
        (status,) = api["status"][statuses]
        assert status["imageID"] == f"{HOST}/team-a/api@{v1}"  # the tag, resolved now
    (agent,) = by_owner["agent"][0]["status"]["containerStatuses"]
    assert agent["imageID"] == "" and agent["state"]["waiting"]["reason"] == "ErrImagePull"
    (db,) = by_owner["db"][0]["status"]["containerStatuses"]
    assert db["imageID"].startswith("docker.io/library/postgres@sha256:")
    _, cron_jobs = get(sb, "/apis/batch/v1/cronjobs")
    assert len(cron_jobs["items"]) == 1
    assert get(sb, "/apis/batch/v1/jobs")[1]["items"] == []  # nothing ran yet


def test_dockershim_image_ids_carry_the_docker_pullable_prefix(sb: Sandbox) -> None:
    digest = Seeder(sb.store).repository("app").image(["v1"])
    seeder = sb.kube_seeder("c", runtime="docker")
    seeder.apply(pod("p").replace("nginx:1.27", f"{HOST}/app:v1"))
    _, pods = get(sb, "/api/v1/pods")
    (status,) = pods["items"][0]["status"]["containerStatuses"]
    assert status["imageID"] == f"docker-pullable://{HOST}/app@{digest}"


def test_a_kubeconfig_names_every_cluster_with_its_server_and_token(
    sb: Sandbox, tmp_path: Any
) -> None:
    import yaml

    sb.kube.cluster("a")
    sb.kube.cluster("b", token="secret")
    document = yaml.safe_load(sb.kubeconfig(tmp_path / "config").read_text())
    assert document["current-context"] == "a"
    servers = {c["name"]: c["cluster"]["server"] for c in document["clusters"]}
    assert servers == {n: f"{sb.endpoint_url}{PREFIX}{n}" for n in ("a", "b")}
    tokens = {u["name"]: u["user"]["token"] for u in document["users"]}
    assert tokens == {"a": "token-a", "b": "secret"}

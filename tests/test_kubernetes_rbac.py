"""deploy/kubernetes/in-use-rbac.yaml grants exactly what the `kubernetes` source
calls: `list` of each resource it reads, none missing (the source would fail with 403
in production), none extra (least privilege).

The calls are taken from the code, not listed by hand: the source calls the kubernetes
client's methods named by its resource table, and the client's own code says which
HTTP request each makes. The sandbox then enforces the ClusterRole on a real read.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import kubernetes.client
import pytest
import yaml

from cleaner.config.model import NamePatterns
from cleaner.core import kube_objects
from cleaner.core.kube_objects import RESOURCES, Resource
from cleaner.inuse.kinds.kubernetes import read_kubernetes
from cleaner.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "deploy" / "kubernetes" / "in-use-rbac.yaml"
SOURCE_MODULES = [ROOT / "cleaner" / "inuse" / n for n in ("kube_client.py", "kinds/kubernetes.py")]
# kubernetes client methods that talk to the API server.
API_METHOD = re.compile(r"^(list|read|create|patch|replace|delete|connect|watch)_")
# Reads the kubeconfig file, not the API server.
NOT_API = {"list_kube_config_contexts"}
REQUEST = re.compile(r"'(/api[^']*)', '(GET|POST|PUT|PATCH|DELETE)'")


def granted() -> dict[tuple[str, str], set[str]]:
    """(api group, resource) -> verbs, over the ClusterRole's rules."""
    (role,) = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d["kind"] == "ClusterRole"]
    grants: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                grants.setdefault((group, resource), set()).update(rule["verbs"])
    return grants


def request_of(resource: Resource, method: str) -> tuple[str, str]:
    """The HTTP method and path template that the client's method sends."""
    api = getattr(kubernetes.client, resource.api_class)
    text = inspect.getsource(getattr(api, f"{method}_with_http_info"))
    (found,) = REQUEST.findall(text)
    return found[1], found[0]


def called() -> dict[tuple[str, str], set[str]]:
    """(api group, resource) -> RBAC verbs of the requests the source makes."""
    calls: dict[tuple[str, str], set[str]] = {}
    for resource in RESOURCES:
        across = request_of(resource, resource.all_namespaces_method)
        one = request_of(resource, resource.namespaced_method)
        assert across == ("GET", f"{resource.prefix}/{resource.plural}")
        assert one == ("GET", f"{resource.prefix}/namespaces/{{namespace}}/{resource.plural}")
        # A GET of a collection is the `list` verb (`get` is one object by name).
        calls.setdefault((resource.group, resource.plural), set()).add("list")
    return calls


def test_the_cluster_role_grants_exactly_list_of_what_the_source_reads() -> None:
    assert granted() == called()


@pytest.mark.parametrize("path", SOURCE_MODULES, ids=lambda p: p.name)
def test_the_source_calls_the_api_only_through_its_resource_table(path: Path) -> None:
    """Any other client call (a `read_namespaced_secret`, say) would need a grant that
    the test above does not know about."""
    tree = ast.parse(path.read_text())
    direct = [
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and API_METHOD.match(node.attr)
        and node.attr not in NOT_API
    ]
    strings = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and API_METHOD.match(node.value)
    ]
    assert direct == [] and strings == []


def test_the_resource_table_holds_every_kind_the_source_promises() -> None:
    assert [(r.group, r.plural) for r in kube_objects.RESOURCES] == [
        ("", "pods"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("apps", "replicasets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
    ]


def test_a_read_under_the_cluster_role_succeeds_and_uses_all_of_it(tmp_path: Path) -> None:
    (role,) = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d["kind"] == "ClusterRole"]
    with Sandbox() as sb:
        cluster = sb.kube.cluster("eks-prod")
        cluster.rbac = role["rules"]
        sb.kube_seeder("eks-prod").pods(3, "nginx:1.27")
        kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")
        options: dict[str, Any] = {"kubeconfig": str(kubeconfig)}
        assert read_kubernetes(options, page_size=2)
        assert read_kubernetes({**options, "namespaces": NamePatterns(("default",))})
        assert {c.status for c in cluster.calls} == {200}
        used = {(c.group, c.resource) for c in cluster.calls}
        assert used == set(granted())
        # One rule less, and the read fails: the role has nothing to spare.
        cluster.rbac = role["rules"][1:]
        with pytest.raises(Exception, match="list pods: 403 Forbidden"):
            read_kubernetes(options)


def test_the_binding_names_the_service_account_of_the_deployment_example() -> None:
    deployment = {
        d["kind"]: d
        for d in yaml.safe_load_all((ROOT / "deploy/kubernetes/deployment.yaml").read_text())
    }
    account = deployment["ServiceAccount"]["metadata"]["name"]
    for doc in yaml.safe_load_all(MANIFEST.read_text()):
        if doc["kind"] in ("ClusterRoleBinding", "RoleBinding"):
            assert doc["roleRef"]["name"] == "ecr-cleaner-in-use"
            assert [s["name"] for s in doc["subjects"]] == [account]

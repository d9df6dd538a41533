"""The deployment examples in deploy/ agree with the image and the CLI: the documented
config path, the health port, the user, a policy that validates, commands that parse."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from cleaner.cli import build_parser
from cleaner.config.load import load_config_text

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
CONFIG_PATH = "/etc/ecr-cleaner/policy.yaml"
UID = 10001


def documents(name: str) -> dict[str, Any]:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()))
    return {doc["kind"]: doc for doc in docs}


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_dockerfile_runs_serve_as_the_documented_user_and_port() -> None:
    text = dockerfile()
    assert f"USER {UID}:{UID}" in text
    assert "EXPOSE 8080" in text
    assert 'ENTRYPOINT ["ecr-cleaner"]' in text
    cmd = json.loads(re.search(r"^CMD (.*)$", text, re.M).group(1))  # type: ignore[union-attr]
    args = build_parser().parse_args(cmd)
    assert (args.command, args.config, args.listen) == ("serve", CONFIG_PATH, "0.0.0.0:8080")


def test_deployment_serves_with_probes_on_healthz_and_the_policy_mounted() -> None:
    docs = documents("deployment.yaml")
    deployment = docs["Deployment"]["spec"]
    assert deployment["replicas"] == 1
    assert deployment["strategy"]["type"] == "Recreate"
    pod = deployment["template"]["spec"]
    (container,) = pod["containers"]
    args = build_parser().parse_args(container["args"])
    assert (args.command, args.config) == ("serve", CONFIG_PATH)
    host_port = args.listen.rsplit(":", 1)
    assert container["ports"][0]["containerPort"] == int(host_port[1])
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == UID
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["policy"] == str(Path(CONFIG_PATH).parent)
    assert mounts["reports"] == args.report_dir
    config_map = docs["ConfigMap"]
    volume = next(v for v in pod["volumes"] if v["name"] == "policy")
    assert volume["configMap"]["name"] == config_map["metadata"]["name"]
    policy = load_config_text(config_map["data"][Path(CONFIG_PATH).name])
    assert policy.schedule is not None  # serve needs one
    assert pod["serviceAccountName"] == docs["ServiceAccount"]["metadata"]["name"]


def test_cronjob_runs_once_per_schedule_without_overlap() -> None:
    cron = documents("cronjob.yaml")["CronJob"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid"
    pod = cron["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = build_parser().parse_args(container["args"])
    assert (args.command, args.config) == ("run", CONFIG_PATH)
    assert pod["securityContext"]["runAsUser"] == UID
    rules = cron["jobTemplate"]["spec"]["podFailurePolicy"]["rules"]
    assert rules[0]["onExitCodes"]["values"] == [2, 3]


def test_ecs_template_runs_the_task_on_an_eventbridge_schedule() -> None:
    template = json.loads((DEPLOY / "ecs" / "scheduled-task.json").read_text())
    resources = template["Resources"]
    kinds = {r["Type"] for r in resources.values()}
    assert {"AWS::ECS::TaskDefinition", "AWS::Events::Rule", "AWS::IAM::Role"} <= kinds
    (container,) = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    args = build_parser().parse_args(container["Command"])
    assert (args.command, args.config) == ("run", CONFIG_PATH)
    assert container["User"] == f"{UID}:{UID}"
    target = resources["ScheduleRule"]["Properties"]["Targets"][0]
    assert target["EcsParameters"]["TaskDefinitionArn"] == {"Ref": "TaskDefinition"}


def test_ecs_template_lets_cloudformation_name_what_would_collide() -> None:
    """IAM names are global to the account and log group names to the region: a fixed
    one fails the second stack (in another region, or the same one) at create time.
    CloudFormation makes unique names when the template gives none. (The task
    definition's Family is no such name: stacks sharing one add revisions to it.)"""
    template = json.loads((DEPLOY / "ecs" / "scheduled-task.json").read_text())
    fixed = {
        f"{logical}.{key}": value
        for logical, resource in template["Resources"].items()
        for key, value in resource.get("Properties", {}).items()
        # A literal *Name; one made with Fn::Sub from the stack or region is unique.
        if key.endswith("Name") and isinstance(value, str)
    }
    assert fixed == {}
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::IAM::Role", "AWS::Logs::LogGroup"} <= kinds
    outputs = template["Outputs"]
    assert outputs["TaskRoleArn"]["Value"] == {"Fn::GetAtt": ["TaskRole", "Arn"]}
    assert outputs["LogGroupName"]["Value"] == {"Ref": "LogGroup"}


# The first Kubernetes release whose API server, as shipped (beta features on), serves
# each kind and field the examples use. Beta here, GA later: see each file's header.
KIND_SINCE = {
    ("v1", "ServiceAccount"): (1, 0),
    ("v1", "ConfigMap"): (1, 2),
    ("apps/v1", "Deployment"): (1, 9),
    ("batch/v1", "CronJob"): (1, 21),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): (1, 8),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): (1, 8),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): (1, 8),
}
FIELD_SINCE = {
    "seccompProfile": (1, 19),
    "completionMode": (1, 22),  # Indexed Jobs, and JOB_COMPLETION_INDEX in their pods
    "timeZone": (1, 25),
    "podFailurePolicy": (1, 26),
    "backoffLimitPerIndex": (1, 29),
    "maxFailedIndexes": (1, 29),
}


def keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node).union(*(keys(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(keys(value) for value in node))
    return set()


@pytest.mark.parametrize(
    "path", sorted((DEPLOY / "kubernetes").glob("*.yaml")), ids=lambda p: p.name
)
def test_each_manifest_states_the_kubernetes_version_it_needs(path: Path) -> None:
    text = path.read_text()
    stated = re.match(r"# Kubernetes >= (\d+)\.(\d+)\b", text)
    assert stated, f"{path.name} does not start with '# Kubernetes >= X.Y'"
    needed = [(1, 0)]
    for doc in yaml.safe_load_all(text):
        needed.append(KIND_SINCE[(doc["apiVersion"], doc["kind"])])
        needed += [FIELD_SINCE[key] for key in keys(doc) & set(FIELD_SINCE)]
    assert (int(stated[1]), int(stated[2])) == max(needed)
    # The operators' guide states the same minimum next to the file's name.
    guide = (ROOT / "docs/operations.md").read_text()
    assert re.search(rf"{re.escape(path.name)}.*Kubernetes >= {stated[1]}\.{stated[2]}\b", guide)


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_kubernetes_example_parses(path: Path) -> None:
    assert all(
        isinstance(doc, dict) and "kind" in doc for doc in yaml.safe_load_all(path.read_text())
    )


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every container spec below `doc` (Deployment, CronJob, Job alike)."""
    found: list[dict[str, Any]] = []
    if isinstance(doc, dict):
        for key, value in doc.items():
            if key == "containers":
                found += value
            else:
                found += _containers(value)
    elif isinstance(doc, list):
        for item in doc:
            found += _containers(item)
    return found


@pytest.mark.parametrize(
    "name", ["deployment.yaml", "cronjob.yaml", "indexed-job.yaml"], ids=lambda n: n
)
def test_each_cleaner_pod_bounds_its_processes_with_a_cpu_limit(name: str) -> None:
    """limits.processes defaults to the cgroup's CPU quota: without a CPU limit a pod
    would start a process per core of its node, each with its own memory, under one
    memory limit."""
    containers = [c for doc in documents(name).values() for c in _containers(doc)]
    cleaners = [c for c in containers if c["name"] == "ecr-cleaner"]
    assert cleaners
    for container in cleaners:
        limits = container["resources"]["limits"]
        assert float(limits["cpu"]) >= 1 and limits["memory"].endswith("Mi")
        assert int(limits["memory"][:-2]) >= 256 * math.ceil(float(limits["cpu"]))

"""protect.in_use from Kubernetes, end to end: the official client reads the sandbox's
API server over HTTP, the cleaner plans and deletes against the sandbox's ECR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kube_support import (
    HOST,
    NOW,
    OLD,
    config,
    cronjob,
    deleted,
    deployment,
    kept,
    replica_set,
    source,
)

from cleaner.aws.clients import Clients
from cleaner.cli import main
from cleaner.inuse.kinds.kubernetes import read_kubernetes
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox, Seeder


@pytest.fixture(autouse=True)
def outside_any_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_a_running_pods_digest_protects_its_image_after_its_tag_moved(
    sb: Sandbox, tmp_path: Path
) -> None:
    repo = Seeder(sb.store).repository("app")
    running = repo.image(["v1"], pushed_at=OLD)
    stale = repo.image(["stale"], pushed_at=OLD)
    sb.kube_seeder("eks-prod").apply(deployment("api", f"{HOST}/app:v1"))
    # A new build takes the tag; the pods started before still run the old digest.
    moved = repo.image(["v1"], pushed_at=OLD)
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    result = run_once(config(source(kubeconfig)), Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 0
    assert deleted(result) == {stale}
    why = kept(result)
    # The specs name the tag: what the next pod (or a restarted container) pulls.
    replicas = _replica_set(sb, "eks-prod")
    (pod,) = [n for _, n in sb.kube.cluster("eks-prod").objects["pods"]]
    assert why[moved] == (
        "in use by deployment prod/api template (cluster eks-prod); "
        f"pod prod/{pod} (cluster eks-prod); "
        f"replicaset prod/{replicas} template (cluster eks-prod)"
    )
    assert why[running] == f"in use by pod prod/{pod} (cluster eks-prod)"
    assert set(repo.snapshot()) == {running, moved}


def _replica_set(sb: Sandbox, cluster: str, namespace: str = "prod") -> str:
    (name,) = [n for ns, n in sb.kube.cluster(cluster).objects["replicasets"] if ns == namespace]
    return name


def _pod(sb: Sandbox, namespace: str) -> str:
    (name,) = [n for ns, n in sb.kube.cluster("eks-prod").objects["pods"] if ns == namespace]
    return name


def test_a_cronjob_template_protects_an_image_nothing_runs_now(sb: Sandbox, tmp_path: Path) -> None:
    repo = Seeder(sb.store).repository("app")
    nightly = repo.image(["nightly"], pushed_at=OLD)
    other = repo.image(["other"], pushed_at=OLD)
    sb.kube_seeder("eks-prod").apply(cronjob("nightly", f"{HOST}/app:nightly"))
    assert "pods" not in sb.kube.cluster("eks-prod").objects
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    result = run_once(config(source(kubeconfig)), Clients(), NOW, RunOptions(dry_run=False))

    assert deleted(result) == {other}
    assert kept(result)[nightly] == "in use by cronjob batch/nightly template (cluster eks-prod)"


def test_a_replicaset_scaled_to_0_protects_nothing(sb: Sandbox, tmp_path: Path) -> None:
    repo = Seeder(sb.store).repository("app")
    previous = repo.image(["v1"], pushed_at=OLD)
    current = repo.image(["v2"], pushed_at=OLD)
    seeder = sb.kube_seeder("eks-prod")
    # A Deployment's rollback history: the old ReplicaSet, scaled to 0, no pods.
    seeder.apply(replica_set("api-old", f"{HOST}/app:v1", replicas=0))
    seeder.apply(replica_set("api-new", f"{HOST}/app:v2", replicas=2))
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    result = run_once(config(source(kubeconfig)), Clients(), NOW, RunOptions(dry_run=False))

    assert deleted(result) == {previous}
    assert "replicaset prod/api-new template (cluster eks-prod)" in kept(result)[current]


def test_a_multi_arch_index_in_use_keeps_its_children_and_signatures(
    sb: Sandbox, tmp_path: Path
) -> None:
    repo = Seeder(sb.store).repository("app")
    multi = repo.index(["multi"], attestations=True, pushed_at=OLD)
    signature = repo.cosign(multi.digest, pushed_at=OLD)
    stale = repo.index(["stale"], pushed_at=OLD)
    sb.kube_seeder("eks-prod").apply(deployment("web", f"{HOST}/app:multi"))
    repo.untag("multi")  # only the pods' imageID still names the index
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    result = run_once(config(source(kubeconfig)), Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 0
    left = set(repo.snapshot())
    assert {multi.digest, signature, *multi.children, *multi.attestations} <= left
    assert stale.digest not in left and not set(stale.children) & left
    assert kept(result)[multi.digest].startswith("in use by pod prod/web-")


def test_every_page_of_a_large_list_is_read(sb: Sandbox, tmp_path: Path) -> None:
    repo = Seeder(sb.store).repository("app")
    used = repo.image(["v1"], pushed_at=OLD)
    last = repo.image(["last"], pushed_at=OLD)
    seeder = sb.kube_seeder("eks-prod")
    seeder.pods(1100, "nginx:1.27", namespace="a-web")
    seeder.pods(1, f"{HOST}/app:last", namespace="z-last", name="last")  # on the last page
    seeder.apply(deployment("api", f"{HOST}/app:v1"))
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    result = run_once(config(source(kubeconfig)), Clients(), NOW, RunOptions(dry_run=True))

    assert {used, last} <= set(kept(result))
    pods = sb.kube.cluster("eks-prod").calls_of("pods")
    assert [c.continued for c in pods] == [False, True, True]  # 500 a page: 1102 pods


def test_small_pages_follow_continue_tokens_to_the_end(sb: Sandbox, tmp_path: Path) -> None:
    sb.kube_seeder("eks-prod").pods(10, f"{HOST}/app:v1", name="api")
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")
    usages = read_kubernetes(source(kubeconfig)["kubernetes"], page_size=3)
    assert {u.workload for u in usages} == {
        f"pod default/api-{n:05d} (cluster eks-prod)" for n in range(10)
    }
    assert len(sb.kube.cluster("eks-prod").calls_of("pods")) == 4


def test_an_expired_continue_token_restarts_the_list_once(sb: Sandbox, tmp_path: Path) -> None:
    repo = Seeder(sb.store).repository("app")
    last = repo.image(["last"], pushed_at=OLD)
    seeder = sb.kube_seeder("eks-prod")
    seeder.pods(600, "nginx:1.27", namespace="a-web")
    seeder.pods(1, f"{HOST}/app:last", namespace="z-last", name="last")
    cluster = sb.kube.cluster("eks-prod")
    cluster.expire_next_continue("pods")
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    result = run_once(config(source(kubeconfig)), Clients(), NOW, RunOptions(dry_run=True))

    assert result.exit_code == 0
    assert last in kept(result)
    assert [(c.continued, c.status) for c in cluster.calls_of("pods")] == [
        (False, 200),
        (True, 410),
        (False, 200),  # from the start again
        (True, 200),
    ]


def test_a_second_410_fails_closed(sb: Sandbox, tmp_path: Path) -> None:
    repo = Seeder(sb.store).repository("app")
    old = repo.image(["old"], pushed_at=OLD)
    sb.kube_seeder("eks-prod").pods(600, "nginx:1.27")
    sb.kube.cluster("eks-prod").expire_next_continue("pods", times=2)
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    result = run_once(config(source(kubeconfig)), Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 1
    assert deleted(result) == set() and old in repo.snapshot()
    (plan,) = result.report.repositories
    assert plan.failed
    assert "cluster eks-prod: list pods: 410 Gone twice" in str(plan.error)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        pytest.param(("deny", "daemonsets", 403), "list daemonsets: 403 Forbidden", id="403"),
        pytest.param(("deny", "pods", 401), "list pods: 401 Unauthorized", id="401"),
        pytest.param(("token", "", 0), "list pods: 401 Unauthorized", id="expired-token"),
    ],
)
def test_a_cluster_that_refuses_a_list_leaves_the_target_untouched(
    sb: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fault: tuple[str, str, int],
    says: str,
) -> None:
    repo = Seeder(sb.store).repository("app")
    old = repo.image(["old"], pushed_at=OLD)
    sb.kube_seeder("eks-prod").apply(deployment("api", "nginx:1.27"))
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")
    cluster = sb.kube.cluster("eks-prod")
    if fault[0] == "deny":
        cluster.deny(fault[1], fault[2])
    else:
        cluster.token = "rotated"  # the kubeconfig's token is no longer accepted
    policy = tmp_path / "policy.yaml"
    policy.write_text(json.dumps(_policy_document(source(kubeconfig))))
    report = tmp_path / "report.json"

    code = main(["run", "--config", str(policy), "--now", NOW.isoformat(), "--report", str(report)])

    assert code == 1
    assert old in repo.snapshot()
    (entry,) = json.loads(report.read_text())["repositories"]
    assert entry["error"].startswith("not touched: in-use source kubernetes (kubeconfig ")
    assert f"cluster eks-prod: {says}" in entry["error"]
    assert "in_use_source_failed" in capsys.readouterr().err


def _policy_document(*sources: object) -> dict[str, object]:
    return {
        "version": 1,
        "targets": [{"region": "us-east-1"}],
        "policies": [
            {
                "name": "guarded",
                "protect": {"keep_at_least": 0, "in_use": {"sources": list(sources)}},
                "rules": [{"name": "old", "expire": {"pushed_before": "1d"}}],
            }
        ],
    }


def test_an_unreachable_cluster_leaves_the_target_untouched(sb: Sandbox, tmp_path: Path) -> None:
    repo = Seeder(sb.store).repository("app")
    old = repo.image(["old"], pushed_at=OLD)
    sb.kube.cluster("gone")
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")
    text = kubeconfig.read_text().replace(sb.endpoint_url, "http://127.0.0.1:9")
    kubeconfig.write_text(text)

    result = run_once(config(source(kubeconfig)), Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 1 and old in repo.snapshot()
    (plan,) = result.report.repositories
    assert "cluster gone: list pods: cannot reach http://127.0.0.1:9/_kubernetes/gone" in str(
        plan.error
    )


def test_two_contexts_of_one_source_are_both_read(sb: Sandbox, tmp_path: Path) -> None:
    repo = Seeder(sb.store).repository("app")
    prod = repo.image(["prod"], pushed_at=OLD)
    dev = repo.image(["dev"], pushed_at=OLD)
    unused = repo.image(["unused"], pushed_at=OLD)
    sb.kube_seeder("eks-prod").apply(deployment("api", f"{HOST}/app:prod"))
    sb.kube_seeder("eks-dev").apply(cronjob("api", f"{HOST}/app:dev"))
    sb.kube_seeder("eks-other").apply(deployment("api", f"{HOST}/app:unused"))
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig", ["eks-other", "eks-prod", "eks-dev"])

    both = source(kubeconfig, contexts=["eks-prod", "eks-dev"])
    result = run_once(config(both), Clients(), NOW, RunOptions(dry_run=False))

    assert deleted(result) == {unused}
    why = kept(result)
    assert "(cluster eks-prod)" in why[prod]
    assert why[dev] == "in use by cronjob batch/api template (cluster eks-dev)"
    assert sb.kube.cluster("eks-other").calls == []  # the current context, not named


def test_namespace_globs_and_excludes_filter_what_is_read(sb: Sandbox, tmp_path: Path) -> None:
    repo = Seeder(sb.store).repository("app")
    system = repo.image(["system"], pushed_at=OLD)
    team = repo.image(["team"], pushed_at=OLD)
    seeder = sb.kube_seeder("eks-prod")
    seeder.apply(deployment("agent", f"{HOST}/app:system", namespace="kube-system"))
    seeder.apply(deployment("api", f"{HOST}/app:team", namespace="team-a"))
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    filtered = source(kubeconfig, namespaces=["*", "!kube-*"])
    result = run_once(config(filtered), Clients(), NOW, RunOptions(dry_run=True))

    assert team in kept(result) and system not in kept(result)
    assert {c.namespace for c in sb.kube.cluster("eks-prod").calls} == {None}


def test_plain_namespace_names_are_listed_in_those_namespaces_only(
    sb: Sandbox, tmp_path: Path
) -> None:
    repo = Seeder(sb.store).repository("app")
    team = repo.image(["team"], pushed_at=OLD)
    seeder = sb.kube_seeder("eks-prod")
    seeder.apply(deployment("api", f"{HOST}/app:team", namespace="team-a"))
    seeder.apply(deployment("api", f"{HOST}/app:team", namespace="team-b"))
    cluster = sb.kube.cluster("eks-prod")
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")

    one = source(kubeconfig, namespaces=["team-a"])
    result = run_once(config(one), Clients(), NOW, RunOptions(dry_run=True))

    assert kept(result)[team] == (
        "in use by deployment team-a/api template (cluster eks-prod); "
        f"pod team-a/{_pod(sb, 'team-a')} (cluster eks-prod); "
        f"replicaset team-a/{_replica_set(sb, 'eks-prod', 'team-a')} template (cluster eks-prod)"
    )
    # A RoleBinding in team-a is all this needs: no call reaches beyond it.
    assert {(c.namespace, c.resource) for c in cluster.calls} == {
        ("team-a", r)
        for r in (
            "pods",
            "deployments",
            "statefulsets",
            "daemonsets",
            "replicasets",
            "jobs",
            "cronjobs",
        )
    }


def test_the_kubeconfig_environment_variable_is_the_default_outside_a_pod(
    sb: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = Seeder(sb.store).repository("app")
    used = repo.image(["v1"], pushed_at=OLD)
    sb.kube_seeder("eks-prod").apply(deployment("api", f"{HOST}/app:v1"))
    monkeypatch.setenv("KUBECONFIG", str(sb.kubeconfig(tmp_path / "kubeconfig")))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config to fall back on

    result = run_once(config("kubernetes"), Clients(), NOW, RunOptions(dry_run=True))

    assert used in kept(result)

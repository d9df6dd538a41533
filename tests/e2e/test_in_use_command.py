"""`ecr-cleaner in-use`: what every source sees and what it resolves to, and its JSON
as the input of a `file` source somewhere the cluster cannot be reached."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kube_support import HOST, NOW, OLD, cronjob, deleted, deployment, kept

from cleaner.aws.clients import Clients
from cleaner.cli import main
from cleaner.config.load import parse_config
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox, Seeder

WEST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
OTHER_ACCOUNT = "210987654321.dkr.ecr.us-east-1.amazonaws.com"


@pytest.fixture(autouse=True)
def outside_any_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)


def write_policy(path: Path, sources: list[Any], regions: tuple[str, ...] = ("us-east-1",)) -> Path:
    document = {
        "version": 1,
        "targets": [{"regions": list(regions)}],
        "policies": [
            {
                "name": "guarded",
                "protect": {"keep_at_least": 0, "in_use": {"sources": sources}},
                "rules": [{"name": "old", "expire": {"pushed_before": "1d"}}],
            }
        ],
    }
    path.write_text(json.dumps(document))
    return path


def in_use(policy: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["in-use", "--config", str(policy), "--log-level", "error", *extra])
    return code, capsys.readouterr().out


def test_the_table_shows_each_reference_where_it_comes_from_and_what_it_is(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Seeder(sb.store).repository("app")
    v1 = repo.image(["v1"], pushed_at=OLD)
    seeder = sb.kube_seeder("eks-prod")
    seeder.apply(deployment("api", f"{HOST}/app:v1", replicas=3))
    seeder.apply(cronjob("nightly", f"{HOST}/app:gone"))
    seeder.apply(cronjob("mirror", f"{OTHER_ACCOUNT}/app:v1"))
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")
    listing = tmp_path / "list.txt"
    listing.write_text(f"{HOST}/missing:1\n")
    sources = [{"kubernetes": {"kubeconfig": str(kubeconfig)}}, {"file": {"path": str(listing)}}]

    code, out = in_use(write_policy(tmp_path / "p.json", sources), capsys)

    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "target us-east-1/123456789012"
    assert lines[1].startswith("  kubernetes (kubeconfig /")  # long labels are cut at 80
    assert lines[1].endswith("...: 4 references")
    rows = {line.split()[0]: line for line in lines if line.startswith("    ")}
    tag_row = rows[f"{HOST}/app:v1"]
    assert f"app@{v1[:19]}" in tag_row  # the table shortens digests
    assert "deployment prod/api template (cluster eks-prod); pod prod/api-" in tag_row
    assert "and 2 more" in tag_row  # 3 pods, a ReplicaSet and the Deployment use it
    assert "not in this registry: no tag gone in app" in rows[f"{HOST}/app:gone"]
    assert (
        f"not in this registry: another registry ({OTHER_ACCOUNT})"
        in rows[f"{OTHER_ACCOUNT}/app:v1"]
    )
    assert rows[f"{HOST}/app@{v1}"].split()[1] == f"app@{v1[:19]}"  # the pods' imageID
    assert "not in this registry: no repository missing" in rows[f"{HOST}/missing:1"]
    assert f"  file {listing}: 1 reference" in lines
    assert lines[-1] == "every source read"


def test_a_failing_source_is_shown_and_exits_1(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sb.kube_seeder("eks-prod").apply(deployment("api", "nginx:1"))
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")
    sb.kube.cluster("eks-prod").deny("jobs")
    sources = [{"kubernetes": {"kubeconfig": str(kubeconfig)}}]
    policy = write_policy(tmp_path / "p.json", sources)

    code, out = in_use(policy, capsys)
    assert code == 1
    assert "FAILED: in-use source kubernetes" in out
    assert "cluster eks-prod: list jobs: 403 Forbidden" in out
    assert out.splitlines()[-1] == "1 source failed"

    code, out = in_use(policy, capsys, "--format", "json")
    assert code == 1
    (source,) = json.loads(out)["targets"][0]["sources"]
    assert "cluster eks-prod: list jobs: 403 Forbidden" in source["error"]
    # Such a listing is not the whole truth: as a file source it fails closed.
    saved = tmp_path / "listing.json"
    saved.write_text(out)
    repo = Seeder(sb.store).repository("app")
    old = repo.image(["old"], pushed_at=OLD)
    result = run_once(_file_policy(saved, "us-east-1"), Clients(), NOW, RunOptions(dry_run=False))
    assert result.exit_code == 1 and old in repo.snapshot()
    assert "incomplete: us-east-1/default registry: in-use source kubernetes" in str(
        result.report.repositories[0].error
    )


def test_one_clusters_view_protects_images_in_a_registry_cleaned_elsewhere(
    sb: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeder = Seeder(sb.store)
    west = seeder.repository("app", region="eu-west-1")
    used = west.image(["v1"], pushed_at=OLD)
    pinned = west.image(["pinned"], pushed_at=OLD)
    unused = west.image(["unused"], pushed_at=OLD)
    seeder.repository("app").image(["east"], pushed_at=OLD)
    cluster = sb.kube_seeder("eks-prod")
    cluster.apply(deployment("api", f"{WEST}/app:v1"))
    cluster.apply(cronjob("batch", f"{WEST}/app@{pinned}"))
    kubeconfig = sb.kubeconfig(tmp_path / "kubeconfig")
    policy = write_policy(
        tmp_path / "p.json",
        [{"kubernetes": {"kubeconfig": str(kubeconfig)}}],
        regions=("us-east-1", "eu-west-1"),
    )

    code, out = in_use(policy, capsys, "--format", "json")

    assert code == 0
    document = json.loads(out)
    assert [t["target"] for t in document["targets"]] == [
        "us-east-1/123456789012",
        "eu-west-1/123456789012",
    ]
    west_refs = document["targets"][1]["sources"][0]["references"]
    resolved = {(r["reference"], r["repository"], r["digest"]) for r in west_refs}
    assert (f"{WEST}/app:v1", "app", used) in resolved
    assert (f"{WEST}/app@{used}", "app", used) in resolved  # the pod's imageID
    east_refs = document["targets"][0]["sources"][0]["references"]
    assert {r["resolves_to"] for r in east_refs} == {
        f"not in this registry: another registry ({WEST})"
    }

    # Somewhere the cluster cannot be reached, the saved view stands in for it.
    saved = tmp_path / "in-use.json"
    saved.write_text(out)
    sb.kube.reset()
    result = run_once(_file_policy(saved, "eu-west-1"), Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 0
    assert deleted(result) == {unused}
    why = kept(result)
    assert why[pinned] == (
        f"in use by cronjob batch/batch template (cluster eks-prod), listed in file {saved}"
    )
    assert f"deployment prod/api template (cluster eks-prod), listed in file {saved}" in why[used]


def _file_policy(path: Path, region: str) -> Any:
    return parse_config(
        {
            "version": 1,
            "targets": [{"region": region}],
            "policies": [
                {
                    "name": "guarded",
                    "protect": {
                        "keep_at_least": 0,
                        "in_use": {"sources": [{"file": {"path": str(path)}}]},
                    },
                    "rules": [{"name": "old", "expire": {"pushed_before": "1d"}}],
                }
            ],
        }
    )

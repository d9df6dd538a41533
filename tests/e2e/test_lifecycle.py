"""Lifecycle policies end to end, over HTTP against the sandbox: a policy with
`lifecycle_policy:` previews and deletes what ECR's rules would, with our safety on top;
`lifecycle export` prints JSON that ECR (the sandbox) accepts; `lifecycle audit` reads
ECR's policy and names the images it would expire that the policy protects."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cleaner.cli import main
from cleaner.sandbox import RepoSeeder, Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

# Keep the 2 newest v* images; expire untagged images after 7 days.
ECR_POLICY = {
    "rules": [
        {
            "rulePriority": 1,
            "description": "releases",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": ["v*"],
                "countType": "imageCountMoreThan",
                "countNumber": 2,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 7,
            },
            "action": {"type": "expire"},
        },
    ]
}


def write(tmp_path: Path, in_use: list[str], lifecycle: str = "{file: ecr-lifecycle.json}") -> Path:
    (tmp_path / "ecr-lifecycle.json").write_text(json.dumps(ECR_POLICY, indent=2))
    (tmp_path / "in-use.txt").write_text("".join(f"{line}\n" for line in in_use))
    path = tmp_path / "policy.yaml"
    path.write_text(
        f"""version: 1
targets: [{{region: us-east-1}}]
policies:
  - name: api
    protect:
      keep_at_least: 0
      in_use: {{sources: [{{file: {{path: {tmp_path / "in-use.txt"}}}}}]}}
    lifecycle_policy: {lifecycle}
"""
    )
    return path


def seed(repo: RepoSeeder) -> dict[str, Any]:
    images: dict[str, Any] = {}
    for n in range(4):  # v0 oldest ... v3 newest
        images[f"v{n}"] = repo.image([f"v{n}"], pushed_at=NOW - (40 - n) * DAY)
    images["multi"] = repo.index(["v-multi"], pushed_at=NOW - 50 * DAY)  # oldest v*
    images["leftover"] = repo.image(pushed_at=NOW - 10 * DAY)
    images["fresh"] = repo.image(pushed_at=NOW - DAY)
    return images


def cli(*args: str) -> int:
    return main([*args, "--now", NOW.isoformat(), "--log-format", "json", "--log-level", "error"])


def test_plan_previews_ecr_rules_with_in_use_protection(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = seed(repo)
    policy = write(tmp_path, in_use=[f"{REGISTRY}/app:v0"])
    assert cli("plan", "--config", str(policy), "--format", "json") == 0
    (entry,) = json.loads(capsys.readouterr().out)["repositories"]
    actions = {a["digest"]: a for a in entry["actions"]}
    multi = images["multi"]
    # Rule 1 keeps v3 and v2 and expires v1, v0 and the multi-arch index (with its
    # platforms); v0 is in use. Rule 2 expires the untagged leftover, not the fresh one,
    # and never the platforms of an index.
    assert set(actions) == {images["v1"], images["leftover"], multi.digest, *multi.children}
    assert actions[images["v1"]]["rule"] == "lifecycle rule 1"
    assert actions[images["v1"]]["reason"] == "beyond 2 most recent tagged v*; pushed 39d ago"
    assert actions[multi.children[0]]["reason"].startswith(f"child of index {multi.digest}")
    kept = {k["digest"]: k["reason"] for k in entry["kept"]}
    assert kept[images["v0"]] == (
        "ECR rule 1 would expire this (beyond 2 most recent tagged v*; pushed 40d ago); "
        f"kept: in use by file {tmp_path / 'in-use.txt'} (line 1)"
    )
    assert kept[images["v3"]] == "ECR rule 1: within 2 most recent tagged v*"
    assert sb.faults.calls["BatchDeleteImage"] == 0


def test_run_deletes_what_the_plan_listed(sb: Sandbox, repo: RepoSeeder, tmp_path: Path) -> None:
    images = seed(repo)
    assert cli("run", "--config", str(write(tmp_path, in_use=[f"{REGISTRY}/app:v0"]))) == 0
    left = {tuple(i.tags) for i in repo.repo.images.values() if i.tags}
    assert left == {("v0",), ("v2",), ("v3",)}
    untagged = {d for d, i in repo.repo.images.items() if not i.tags}
    assert untagged == {images["fresh"]}


def test_export_prints_json_ecr_accepts(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        """version: 1
targets: [{region: us-east-1}]
policies:
  - name: untagged-only
    protect: {keep_at_least: 0}
    rules:
      - {name: untagged, select: {tag_status: untagged}, keep: {most_recent: 3}}
"""
    )
    assert main(["lifecycle", "export", "--config", str(policy), "--policy", "untagged-only"]) == 0
    out, err = capsys.readouterr()
    assert "policy 'untagged-only': exact" in err
    ecr = sb.client("ecr")
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=out)
    stored = json.loads(ecr.get_lifecycle_policy(repositoryName="app")["lifecyclePolicyText"])
    assert stored["rules"][0]["selection"] == {
        "tagStatus": "untagged",
        "countType": "imageCountMoreThan",
        "countNumber": 3,
    }


def test_export_says_approximate_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        """version: 1
targets: [{region: us-east-1}]
policies:
  - name: a
    rules:
      - {name: releases, select: {tags: ["re:^v[0-9]+$"]}, keep: {most_recent: 3, order_by: semver}}
"""
    )
    assert main(["lifecycle", "export", "--config", str(policy)]) == 1
    out, err = capsys.readouterr()
    assert "approximate: policy 'a': rule 'releases': tag pattern 're:^v[0-9]+$': a regex" in err
    assert "policy 'a': approximate" in err
    assert json.loads(out)["a"]["rules"][0]["selection"]["tagStatus"] == "untagged"
    assert main(["lifecycle", "export", "--config", str(policy), "--policy", "b"]) == 2


def audit(tmp_path: Path, capsys: pytest.CaptureFixture[str], in_use: list[str]) -> tuple[int, Any]:
    # The cleaner's own policy here is beside the point: its protections are.
    keep_all = "{tagStatus: any, countType: imageCountMoreThan, countNumber: 100}"
    lifecycle = f"{{rules: [{{rulePriority: 1, selection: {keep_all}, action: {{type: expire}}}}]}}"
    config = write(tmp_path, in_use, lifecycle=lifecycle)
    code = cli("lifecycle", "audit", "--config", str(config), "--format", "json")
    return code, json.loads(capsys.readouterr().out)


def test_audit_names_in_use_images_ecr_would_expire(
    sb: Sandbox, seeder: Seeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = seeder.repository("app")
    images = seed(repo)
    repo.lifecycle_policy(json.dumps(ECR_POLICY))
    seeder.repository("other")  # no lifecycle policy: nothing to report
    code, report = audit(tmp_path, capsys, in_use=[f"{REGISTRY}/app:v0"])
    assert code == 1
    (entry,) = [r for r in report["repositories"] if r["repository"] == "app"]
    assert entry["lifecycle_policy"] is True
    (other,) = [r for r in report["repositories"] if r["repository"] == "other"]
    assert other["lifecycle_policy"] is False and other["at_risk"] == []
    at_risk = {f["digest"]: f for f in entry["at_risk"]}
    v0 = at_risk[images["v0"]]
    assert v0["ecr_rule"] == 1 and v0["ecr_action"] == "expire"
    assert v0["protected_by"] == [f"in use by file {tmp_path / 'in-use.txt'} (line 1)"]
    # ECR sees the index's platforms as untagged images older than 7 days and expires
    # them; but it expires the index too (rule 1): nothing is left broken.
    multi = images["multi"]
    assert not set(multi.children) & set(at_risk)
    assert report["summary"]["protected_at_risk"] == 1
    assert sb.faults.calls["GetLifecyclePolicy"] == 2
    assert sb.faults.calls["BatchDeleteImage"] == 0


def test_audit_catches_platforms_ecr_takes_from_a_live_index(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = repo.index(["v9"], pushed_at=NOW - 30 * DAY)
    repo.lifecycle_policy(json.dumps(ECR_POLICY))
    code, report = audit(tmp_path, capsys, in_use=[])
    assert code == 1
    (entry,) = report["repositories"]
    assert {f["digest"]: f["protected_by"] for f in entry["at_risk"]} == {
        child: [f"child of index {live.digest}, which ECR keeps"] for child in live.children
    }


def test_audit_exits_0_when_nothing_protected_is_at_risk(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(repo)
    repo.lifecycle_policy(json.dumps(ECR_POLICY))
    code, report = audit(tmp_path, capsys, in_use=[])
    assert code == 0
    assert report["summary"]["ecr_would_act_on"] > 0
    assert report["summary"]["protected_at_risk"] == 0


def test_audit_fails_closed_on_a_policy_it_cannot_read(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(repo)
    repo.repo.lifecycle_policy = json.dumps({"rules": [], "future": True})  # what ECR may add
    code, report = audit(tmp_path, capsys, in_use=[])
    assert code == 1
    (entry,) = report["repositories"]
    assert entry["error"].startswith("ECR's lifecycle policy cannot be read: ")


def test_audit_table_reads_for_people(
    sb: Sandbox, repo: RepoSeeder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    images = seed(repo)
    repo.lifecycle_policy(json.dumps(ECR_POLICY))
    config = write(tmp_path, in_use=[f"{REGISTRY}/app:v0"])
    assert cli("lifecycle", "audit", "--config", str(config)) == 1
    out = capsys.readouterr().out
    assert f"   {images['v0'][:19]}  v0" in out
    assert "      ECR rule 1 would expire it: beyond 2 most recent tagged v*; pushed 40d ago" in out
    assert "      kept by ecr-cleaner: in use by file" in out
    assert "1 of which this policy keeps; 0 failures" in out

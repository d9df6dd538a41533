"""`ecr-cleaner demo`: runs with no AWS account, deletes the stale, keeps what it must."""

from __future__ import annotations

import contextlib
import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cleaner.cli import build_parser, main
from cleaner.demo.run import run_demo
from cleaner.sandbox.seed import DEFAULT_ACCOUNT, DEFAULT_REGION

NOW = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_output() -> str:
    """What `ecr-cleaner demo` prints, run once for the tests that read it."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo"]) == 0
    return out.getvalue()


def test_demo_command_exits_0_and_tells_the_whole_story(demo_output: str) -> None:
    out = demo_output
    for heading in ("1. The policy", "2. The plan", "3. The run", "4. What remains"):
        assert heading in out
    assert "name: feature-branches" in out  # the policy itself is shown
    assert "beyond 2 most recent in group 'login'" in out  # the plan, with reasons
    assert "deleted 46 images and 1 tag" in out
    assert "0 failures" in out
    assert "prod      pushed 70d ago  kept: protected tag prod" in out
    (legacy,) = [line for line in out.splitlines() if "pushed 400d ago" in line]
    assert "<untagged>" in legacy
    assert "kept: in use by deployment batch/legacy-batch template (cluster demo)" in legacy


def test_demo_leaves_protected_recent_pulled_and_multi_arch_images_intact() -> None:
    state: dict[str, dict[str, Any]] = {}

    def snapshot(sandbox: Any) -> None:
        (pod,) = sandbox.kube.cluster("demo").objects["pods"].values()
        (status,) = pod["status"]["containerStatuses"]
        state["legacy-batch"] = status["imageID"].rpartition("@")[2]
        for name in ("team-a/api", "team-a/web", "team-a/base-images", "team-b/worker"):
            repo = sandbox.store.repository(DEFAULT_ACCOUNT, DEFAULT_REGION, name)
            state[name] = {
                "tags": {t for image in repo.images.values() for t in image.tags},
                "images": dict(repo.images),
            }

    out = io.StringIO()
    assert run_demo(out=out, clock=lambda: NOW, inspect=snapshot) == 0

    api = state["team-a/api"]["tags"]
    assert {"latest", "v1.6.0", "v1.5.0", "v1.4.0", "v0.9.0"} <= api
    assert {"feature-login-9", "feature-login-10", "feature-login-11"} <= api
    assert not {"v1.0.0", "v1.3.0", "feature-login-0", "feature-search-8"} & api
    signatures = {t for t in api if t.endswith(".sig")}
    assert len(signatures) == 3  # v1.4.0, v1.5.0 and latest's; the deleted ones' went too
    # Of the untagged builds only the one a Deployment of the demo cluster runs stays:
    # the rule for untagged leftovers selects it, the kubernetes source protects it.
    untagged = [i for i in state["team-a/api"]["images"].values() if not i.tags]
    assert [i.digest for i in untagged] == [state["legacy-batch"]]

    web = state["team-a/web"]["images"]
    indexes = [i for i in web.values() if i.children]
    assert sorted(t for i in indexes for t in i.tags) == [
        "2026.1",
        "2026.2",
        "2026.3",
        "2026.4",
        "2026.5",
        "latest",
    ]
    for index in indexes:  # every platform image and attestation of a kept index is there
        assert set(index.children) <= set(web)
    assert len(web) == 6 * 5 + 1  # 6 indexes of 4 manifests, and latest's signature

    assert state["team-a/base-images"]["tags"] == {f"bookworm-{n}" for n in range(4)}

    worker = state["team-b/worker"]
    assert worker["tags"] == {"prod", "build-8", "build-9", "build-10"}
    (prod,) = [i for i in worker["images"].values() if "prod" in i.tags]
    assert set(prod.tags) == {"prod"}  # its build-3 tag was removed, the image kept


def test_demo_ignores_the_callers_aws_settings_and_restores_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("AWS_SESSION_TOKEN", "caller-token")
    before = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    assert run_demo(out=io.StringIO(), clock=lambda: NOW) == 0
    assert {k: v for k, v in os.environ.items() if k.startswith("AWS_")} == before


def test_demo_defaults_to_quiet_logs_without_changing_other_commands() -> None:
    parser = build_parser()
    assert parser.parse_args(["demo"]).log_level == "warning"
    assert parser.parse_args(["run", "--config", "x"]).log_level == "info"
    assert parser.parse_args(["serve", "--config", "x"]).log_level == "info"


def test_readme_shows_real_demo_output(demo_output: str) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("`ecr-cleaner demo` (`make demo`)")
    block = readme[readme.index("```\n", start) + 4 :]
    block = block[: block.index("```")]
    out = demo_output
    shown = [line for line in block.splitlines() if line.strip() and line != "..."]
    assert shown
    assert [line for line in shown if line not in out.splitlines()] == []


def test_demo_reads_its_own_cluster_even_in_a_pod_and_restores_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cleaner.inuse import kube_client

    # As if in a pod (its token mounted): the demo must still read its own cluster.
    monkeypatch.setattr(
        kube_client,
        "in_cluster_available",
        lambda environ, account: "KUBERNETES_SERVICE_HOST" in environ,
    )
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "callers-kubeconfig"))
    before = {k: v for k, v in os.environ.items() if k.startswith("KUBE")}
    out = io.StringIO()
    assert run_demo(out=out, clock=lambda: NOW) == 0
    assert "in use by deployment batch/legacy-batch template (cluster demo)" in out.getvalue()
    assert {k: v for k, v in os.environ.items() if k.startswith("KUBE")} == before

"""The `kubernetes` in-use source without a cluster: its options, its name in reports,
which namespaces it lists how, which credentials it picks, and a missing client."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from config_support import errors_of, in_use

from cleaner.config.load import load_config_text
from cleaner.config.model import InUseSource, NamePatterns
from cleaner.inuse import kube_client
from cleaner.inuse.kinds import kubernetes
from cleaner.inuse.reader import label
from cleaner.inuse.reading import SourceError


def sources_of(*texts: str) -> tuple[InUseSource, ...]:
    return load_config_text(in_use(*texts)).policies[0].protect.in_use


def test_bare_kubernetes_means_every_default() -> None:
    assert sources_of("kubernetes") == (InUseSource("kubernetes"),)


def test_options_are_parsed_and_kept_hashable() -> None:
    (source,) = sources_of(
        "{kubernetes: {kubeconfig: /k, contexts: [a, b, a], namespaces: ['*', '!kube-*']}}"
    )
    assert dict(source.options) == {
        "kubeconfig": "/k",
        "contexts": ("a", "b"),
        "namespaces": NamePatterns(("*",), ("kube-*",)),
    }
    assert hash(source) == hash(
        sources_of(
            "{kubernetes: {kubeconfig: /k, contexts: [a, b], namespaces: ['*', '!kube-*']}}"
        )[0]
    )


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("kubernetes", "kubernetes"),
        (
            "{kubernetes: {contexts: [eks-prod, eks-dev]}}",
            "kubernetes (contexts eks-prod, eks-dev)",
        ),
        (
            "{kubernetes: {kubeconfig: /etc/kube, namespaces: [prod, '!prod-x']}}",
            "kubernetes (kubeconfig /etc/kube; namespaces prod, !prod-x)",
        ),
        ("{kubernetes: {namespaces: ['*']}}", "kubernetes"),
    ],
)
def test_reports_name_the_source_by_what_its_options_choose(text: str, name: str) -> None:
    (source,) = sources_of(text)
    assert label(source) == name


@pytest.mark.parametrize(
    ("patterns", "listed"),
    [
        (["prod"], ("prod",)),
        (["prod", "batch", "prod"], ("prod", "batch")),
        (["*"], None),
        (["prod-*"], None),
        (["team-?"], None),
        (["prod", "!kube-system"], None),
        (["!kube-system"], None),
    ],
)
def test_plain_namespace_names_are_listed_one_by_one_and_globs_across_all(
    patterns: list[str], listed: tuple[str, ...] | None
) -> None:
    assert kubernetes.listed_namespaces(NamePatterns.parse(patterns)) == listed


def test_without_the_client_a_policy_using_the_source_is_invalid(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kubernetes, "client_installed", lambda: False)
    assert errors_of(in_use("ecs", "kubernetes")) == [
        "policy.yaml:3:56: policies[0].protect.in_use.sources[1]: the kubernetes source needs "
        "the kubernetes client, not installed: pip install 'ecr-cleaner[kubernetes]'"
    ]
    # Written with options, the same.
    assert errors_of(in_use("{kubernetes: {contexts: [prod]}}")) == [
        "policy.yaml:3:51: policies[0].protect.in_use.sources[0]: the kubernetes source needs "
        "the kubernetes client, not installed: pip install 'ecr-cleaner[kubernetes]'"
    ]
    load_config_text(in_use("ecs"))  # the other sources do not need it


@pytest.mark.slow  # a fresh Python in a subprocess: ~0.3 s
def test_validate_without_the_client_exits_2_saying_how_to_install_it(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(in_use("kubernetes"))
    # The client made unimportable, as on `pip install ecr-cleaner` without the extra.
    code = (
        "import sys; sys.modules['kubernetes'] = None; "
        "from cleaner.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "validate", "--config", str(policy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "pip install 'ecr-cleaner[kubernetes]'" in done.stderr
    assert "Traceback" not in done.stderr


# -- which credentials ---------------------------------------------------------------


def service_account(tmp_path: Path) -> Path:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token")
    (account / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    return account


def kubeconfig(path: Path, *contexts: str, current: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": c, "cluster": {"server": f"http://127.0.0.1:9/{c}"}} for c in contexts
        ],
        "users": [{"name": c, "user": {"token": f"t-{c}"}} for c in contexts],
        "contexts": [{"name": c, "context": {"cluster": c, "user": c}} for c in contexts],
        "current-context": current or contexts[0],
    }
    path.write_text(yaml.safe_dump(document))
    return path


IN_POD = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def connected(
    tmp_path: Path,
    environ: dict[str, str],
    kubeconfig_option: str | None = None,
    contexts: tuple[str, ...] = (),
) -> list[tuple[str, str]]:
    clusters = kube_client.connect(
        kubeconfig_option, contexts, environ, account=tmp_path / "serviceaccount"
    )
    return [(c.name, c.client.configuration.host) for c in clusters]


def test_in_a_pod_the_default_is_its_service_account(tmp_path: Path) -> None:
    service_account(tmp_path)
    kubeconfig(tmp_path / "home" / ".kube" / "config", "laptop")
    environ = {**IN_POD, "HOME": str(tmp_path / "home")}
    assert connected(tmp_path, environ) == [("in-cluster", "https://10.0.0.1:443")]


def test_outside_a_pod_kubeconfig_then_home_kube_config(tmp_path: Path) -> None:
    kubeconfig(tmp_path / "home" / ".kube" / "config", "laptop")
    env_config = kubeconfig(tmp_path / "env-config", "from-env")
    home = {"HOME": str(tmp_path / "home")}
    assert connected(tmp_path, home) == [("laptop", "http://127.0.0.1:9/laptop")]
    with_env = {**home, "KUBECONFIG": str(env_config)}
    assert connected(tmp_path, with_env) == [("from-env", "http://127.0.0.1:9/from-env")]
    # No token file: the variables alone do not make a pod.
    assert connected(tmp_path, {**home, **IN_POD})[0][0] == "laptop"


def test_naming_a_kubeconfig_or_contexts_means_a_kubeconfig_even_in_a_pod(
    tmp_path: Path,
) -> None:
    service_account(tmp_path)
    path = kubeconfig(tmp_path / "k", "a", "b", current="b")
    kubeconfig(tmp_path / "home" / ".kube" / "config", "a", "b", current="a")
    environ = {**IN_POD, "HOME": str(tmp_path / "home")}
    assert [n for n, _ in connected(tmp_path, environ, str(path))] == ["b"]
    assert [n for n, _ in connected(tmp_path, environ, None, ("b", "a"))] == ["b", "a"]


def test_a_context_that_is_not_there_is_a_failure_naming_what_is(tmp_path: Path) -> None:
    path = kubeconfig(tmp_path / "k", "a", "b")
    with pytest.raises(SourceError, match=r"context 'c' is not in it \(it has: a, b\)"):
        connected(tmp_path, {}, str(path), ("a", "c"))


def test_no_kubeconfig_anywhere_is_a_failure(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"kubeconfig .*\.kube/config"):
        connected(tmp_path, {"HOME": str(tmp_path)})


def test_the_docs_example_is_a_valid_policy() -> None:
    docs = (Path(__file__).resolve().parent.parent / "docs" / "kubernetes.md").read_text()
    block = docs[docs.index("```yaml\nprotect:") + len("```yaml\n") :]
    protect = yaml.safe_load(block[: block.index("```")])["protect"]
    document = {
        "version": 1,
        "targets": [{"region": "us-east-1"}],
        "policies": [{"name": "p", "protect": protect, "rules": []}],
    }
    (bare, full) = load_config_text(yaml.safe_dump(document)).policies[0].protect.in_use
    assert bare == InUseSource("kubernetes")
    assert dict(full.options)["contexts"] == ("eks-prod", "eks-staging")


def test_an_exec_plugin_that_gives_no_token_is_a_failure_saying_why(tmp_path: Path) -> None:
    """`aws eks get-token` missing (or refused) must not mean an anonymous read."""
    path = kubeconfig(tmp_path / "k", "eks-prod")
    document = yaml.safe_load(path.read_text())
    document["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": str(tmp_path / "no-such-aws"),
            "args": ["eks", "get-token", "--cluster-name", "eks-prod"],
        }
    }
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(SourceError) as failure:
        connected(tmp_path, {}, str(path))
    message = str(failure.value)
    assert message.startswith("cluster eks-prod: no credentials for it: ")
    assert "no-such-aws" in message

"""The Kubernetes API, through the official client: which clusters, and paged lists.

The only module that imports `kubernetes` (an optional extra), and only when a
cluster is read. Every failure becomes a SourceError that names the cluster and the
cause, so the in-use reader can fail closed with a message an operator can act on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from cleaner.core.kube_objects import Resource
from cleaner.inuse.reading import SourceError

log = structlog.get_logger("cleaner.inuse.kubernetes")

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
IN_CLUSTER = "in-cluster"
# (connect, read) seconds of every call: an unreachable cluster fails the read in
# seconds rather than hanging the run.
REQUEST_TIMEOUT = (10.0, 60.0)
EXCERPT = 300
# What `aws eks update-kubeconfig` names a context: the cluster's ARN, any partition.
EKS_ARN = re.compile(r"arn:aws[a-z-]*:eks:[a-z0-9-]+:[0-9]{12}:cluster/(?P<name>.+)")


@dataclass
class Cluster:
    """One cluster to read: `name` for reports, `where` for errors, and its client."""

    name: str
    where: str
    client: Any  # kubernetes.client.ApiClient
    calls: int = 0


def short_name(context: str) -> str:
    """`aws eks update-kubeconfig` names contexts by the cluster's ARN; reports name
    the cluster (`arn:aws:eks:us-east-1:123456789012:cluster/prod` → `prod`)."""
    match = EKS_ARN.fullmatch(context)
    return match["name"] if match else context


def kubeconfig_path(option: str | None, environ: Mapping[str, str]) -> str:
    """The kubeconfig to read: the option, else $KUBECONFIG (a list, like kubectl's),
    else ~/.kube/config."""
    if option:
        return os.path.expanduser(option)
    if environ.get("KUBECONFIG"):
        return environ["KUBECONFIG"]
    home = environ.get("HOME") or str(Path.home())
    return str(Path(home) / ".kube" / "config")


def in_cluster_available(environ: Mapping[str, str], account: Path = SERVICE_ACCOUNT) -> bool:
    """In a pod: the API server's address is in the environment, its token mounted."""
    return bool(environ.get("KUBERNETES_SERVICE_HOST")) and (account / "token").is_file()


def connect(
    kubeconfig: str | None,
    contexts: tuple[str, ...],
    environ: Mapping[str, str],
    *,
    account: Path = SERVICE_ACCOUNT,
) -> list[Cluster]:
    """The clusters to read. Without options: the pod's service account when running
    in a cluster, else the kubeconfig's current context. Naming a kubeconfig or
    contexts means a kubeconfig."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader

    if kubeconfig is None and not contexts and in_cluster_available(environ, account):
        configuration = client.Configuration()
        try:
            InClusterConfigLoader(
                str(account / "token"), str(account / "ca.crt"), environ=environ
            ).load_and_set(configuration)
        except ConfigException as exc:
            raise SourceError(f"cluster {IN_CLUSTER} (service account): {exc}") from None
        where = f"{IN_CLUSTER} (service account, {configuration.host})"
        return [Cluster(IN_CLUSTER, where, client.ApiClient(configuration))]
    path = kubeconfig_path(kubeconfig, environ)
    try:
        known, current = config.list_kube_config_contexts(config_file=path)
    except (ConfigException, OSError, ValueError) as exc:
        raise SourceError(f"kubeconfig {path}: {_one_line(exc)}") from None
    names = [c["name"] for c in known]
    wanted = contexts or ((current or {}).get("name"),)
    clusters = []
    for context in wanted:
        if not context or context not in names:
            what = f"context {context!r} is not" if context else "no current context is set"
            raise SourceError(f"kubeconfig {path}: {what} in it (it has: {', '.join(names)})")
        try:
            with _library_errors() as errors:
                api = config.new_client_from_config(
                    config_file=path, context=context, persist_config=False
                )
        except (ConfigException, OSError, ValueError) as exc:
            raise SourceError(f"cluster {_where(context)}: {_one_line(exc)}") from None
        if not _has_credentials(api.configuration):
            # The client logs a failed exec plugin (`aws eks get-token` missing, or its
            # credentials refused) and goes on without a token; say so here instead.
            said = f": {_one_line('; '.join(errors))}" if errors else ""
            raise SourceError(f"cluster {_where(context)}: no credentials for it{said}")
        clusters.append(Cluster(short_name(context), _where(context), api))
    return clusters


def _has_credentials(configuration: Any) -> bool:
    """A token (static, exec plugin, auth provider), a client certificate or a password."""
    return bool(
        configuration.api_key.get("authorization")
        or configuration.cert_file
        or configuration.username
    )


@contextlib.contextmanager
def _library_errors() -> Iterator[list[str]]:
    """What the client logs as errors meanwhile (it logs some failures, not raises)."""
    found: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            found.append(record.getMessage())

    handler = Collect(logging.ERROR)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield found
    finally:
        root.removeHandler(handler)


def _where(context: str) -> str:
    name = short_name(context)
    return name if name == context else f"{name} (context {context})"


def scan_resource(
    cluster: Cluster,
    resource: Resource,
    namespace: str | None,
    page_size: int,
    extract: Callable[[Mapping[str, Any]], list[tuple[str, str]]],
) -> list[tuple[str, str]]:
    """`extract` over every object of one resource (in one namespace, or all), page by
    page. A 410 Gone (the continue token expired) restarts the list once, then fails."""
    for attempt in (1, 2):
        found: list[tuple[str, str]] = []
        try:
            for page in _pages(cluster, resource, namespace, page_size):
                for obj in page.get("items") or ():
                    found.extend(extract(obj))
            return found
        except _Gone:
            if attempt == 2:
                raise _failure(
                    cluster, resource, "410 Gone twice: the list changed faster than it was read"
                ) from None
            log.warning(
                "kubernetes_list_restarted",
                cluster=cluster.name,
                resource=resource.plural,
                reason="410 Gone: continue token expired",
            )
    raise AssertionError("unreachable")


class _Gone(Exception):
    pass


def _pages(
    cluster: Cluster, resource: Resource, namespace: str | None, page_size: int
) -> Iterator[Mapping[str, Any]]:
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    api = getattr(client, resource.api_class)(cluster.client)
    if namespace is None:
        method = getattr(api, resource.all_namespaces_method)
        args: tuple[str, ...] = ()
    else:
        method, args = getattr(api, resource.namespaced_method), (namespace,)
    token = None
    while True:
        params: dict[str, Any] = {"limit": page_size}
        if token:
            params["_continue"] = token
        cluster.calls += 1
        try:
            response = method(
                *args, **params, _preload_content=False, _request_timeout=REQUEST_TIMEOUT
            )
            try:
                page = json.loads(response.data)
            finally:
                response.release_conn()
        except ApiException as exc:
            if exc.status == 410:
                raise _Gone from None
            raise _failure(cluster, resource, _api_error(exc)) from None
        except (HTTPError, OSError) as exc:
            host = cluster.client.configuration.host
            cause = _one_line(_unreachable(exc))
            raise _failure(cluster, resource, f"cannot reach {host}: {cause}") from None
        except ValueError as exc:
            raise _failure(cluster, resource, f"not a JSON list: {exc}") from None
        yield page
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return


def _failure(cluster: Cluster, resource: Resource, cause: str) -> SourceError:
    return SourceError(f"cluster {cluster.where}: list {resource.plural}: {cause}")


def _api_error(exc: Any) -> str:
    """`403 Forbidden: pods is forbidden: User ... cannot list ...` from the API's Status."""
    if exc.status == 0:  # no HTTP answer: TLS failed, or the request could not be made
        return f"cannot connect: {_one_line(exc.reason)}"
    head = f"{exc.status} {exc.reason or ''}".strip()
    if exc.status == 401:
        head += " (the credentials were refused: is the token expired?)"
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
    try:
        status = json.loads(body or "{}")
        message = str(status.get("message") or "") if isinstance(status, dict) else body
    except ValueError:
        message = body or ""
    return head if message in ("", exc.reason) else f"{head}: {_one_line(message)}"


def _unreachable(exc: Exception) -> str:
    """urllib3's innermost reason, without its object reprs."""
    reason = getattr(exc, "reason", None) or exc
    return re.sub(r"^<[^>]*>: |^\w+\(host=[^)]*\): ", "", str(reason))


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 3] + "..."

"""The sandbox's Kubernetes API server: the list endpoints the `kubernetes` source reads.

Each cluster is served under `/_kubernetes/<cluster>` on the sandbox's own HTTP
endpoint, with a bearer token, so that a kubeconfig can point the official client at
it. It answers what a real API server answers for those lists: items in key order
(namespace, name), `limit` with a `metadata.continue` token and `remainingItemCount`,
the list's `resourceVersion`, and `Status` objects for errors. Faults are injected per
resource: 401 or 403, and `410 Gone` for expired continue tokens. An optional RBAC
rule set (a ClusterRole's `rules`) answers 403 to any list it does not allow.

Paging reads the live objects after the token's last key rather than a snapshot at
the token's resourceVersion, which is all the cleaner's reads can tell apart.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from cleaner.core.kube_objects import RESOURCES, Resource

PREFIX = "/_kubernetes/"
SERVICE_ACCOUNT_USER = "system:serviceaccount:ecr-cleaner:ecr-cleaner"
EXPIRED = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter."
)
_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}
_REASONS |= {405: "MethodNotAllowed", 410: "Expired"}
_PHRASES = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
_PHRASES |= {404: "Not Found", 405: "Method Not Allowed", 410: "Gone"}
_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}

StartResponse = Callable[..., Any]
Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class KubeCall:
    """One request the cluster answered: what was asked and the status it got."""

    verb: str
    group: str
    resource: str
    namespace: str | None
    continued: bool
    status: int


@dataclass
class KubeCluster:
    name: str
    token: str
    # plural -> (namespace, name) -> the object as the API returns it
    objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    resource_version: int = 1
    # A ClusterRole's rules; None: every request is allowed.
    rbac: list[dict[str, Any]] | None = None
    calls: list[KubeCall] = field(default_factory=list)
    denied: dict[str, int] = field(default_factory=dict)
    expire_continue: Counter[str] = field(default_factory=Counter)
    compacted: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    # -- state ------------------------------------------------------------------------

    def put(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store (create or replace) an object; it gets the next resourceVersion."""
        with self.lock:
            self.resource_version += 1
            metadata = obj.setdefault("metadata", {})
            metadata["resourceVersion"] = str(self.resource_version)
            key = (str(metadata.get("namespace", "")), str(metadata["name"]))
            self.objects.setdefault(plural, {})[key] = obj
            return obj

    def delete(self, plural: str, namespace: str, name: str) -> None:
        with self.lock:
            self.resource_version += 1
            del self.objects[plural][(namespace, name)]

    def get(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get(plural, {}).get((namespace, name))

    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.calls.clear()
            self.denied.clear()
            self.expire_continue.clear()
            self.rbac = None

    # -- faults -----------------------------------------------------------------------

    def deny(self, plural: str, status: int = 403) -> None:
        """Answer every list of `plural` with 401 or 403 until reset."""
        self.denied[plural] = status

    def expire_next_continue(self, plural: str, times: int = 1) -> None:
        """The next `times` requests of `plural` that carry a continue token get 410."""
        self.expire_continue[plural] += times

    def compact(self) -> None:
        """Like etcd compaction: every continue token issued so far is now too old."""
        with self.lock:
            self.compacted = self.resource_version

    def calls_of(self, plural: str) -> list[KubeCall]:
        return [c for c in self.calls if c.resource == plural]

    # -- requests ---------------------------------------------------------------------

    def answer(
        self, method: str, path: str, query: Mapping[str, list[str]], authorization: str
    ) -> Answer:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            return _status(401, "Unauthorized")
        found = _route(path)
        if found is None:
            return _status(404, f"the server could not find the requested resource ({path})")
        resource, namespace = found
        continued = bool(query.get("continue", [""])[0])
        code, body = self._list(method, resource, namespace, query)
        with self.lock:
            self.calls.append(
                KubeCall("list", resource.group, resource.plural, namespace, continued, code)
            )
        return code, body

    def _list(
        self, method: str, resource: Resource, namespace: str | None, query: Mapping[str, Any]
    ) -> Answer:
        if method != "GET":
            return _status(405, f"the sandbox only lists ({method} {resource.plural})")
        plural = resource.plural
        if plural in self.denied:
            return self._denied(resource, namespace, self.denied[plural])
        if self.rbac is not None and not _allowed(self.rbac, resource):
            return self._denied(resource, namespace, 403)
        try:
            limit = int(query.get("limit", ["0"])[0] or 0)
            start = _read_token(query.get("continue", [""])[0])
        except ValueError as exc:
            return _status(400, str(exc))
        with self.lock:
            if start is not None and self.expire_continue[plural] > 0:
                self.expire_continue[plural] -= 1
                return _status(410, EXPIRED)
            if start is not None and start[0] <= self.compacted:
                return _status(410, EXPIRED)
            version = start[0] if start is not None else self.resource_version
            keys = sorted(
                k for k in self.objects.get(plural, {}) if namespace is None or k[0] == namespace
            )
            if start is not None:
                keys = [k for k in keys if k > start[1]]
            page = keys[:limit] if limit > 0 else keys
            # Stored objects are replaced, never changed in place: no copy needed.
            items = [self.objects[plural][k] for k in page]
        metadata: dict[str, Any] = {"resourceVersion": str(version)}
        if len(page) < len(keys):
            metadata["continue"] = _write_token(version, page[-1])
            metadata["remainingItemCount"] = len(keys) - len(page)
        api_version = f"{resource.group}/{resource.version}" if resource.group else "v1"
        return 200, {
            "kind": f"{resource.kind}List",
            "apiVersion": api_version,
            "metadata": metadata,
            "items": items,
        }

    def _denied(self, resource: Resource, namespace: str | None, code: int) -> Answer:
        if code == 401:
            return _status(401, "Unauthorized")
        scope = "at the cluster scope" if namespace is None else f'in the namespace "{namespace}"'
        return _status(
            code,
            f'{resource.plural} is forbidden: User "{SERVICE_ACCOUNT_USER}" cannot list '
            f'resource "{resource.plural}" in API group "{resource.group}" {scope}',
            details={"group": resource.group, "kind": resource.plural},
        )


def _route(path: str) -> tuple[Resource, str | None] | None:
    """(resource, namespace or None) of a list path: /api/v1/pods,
    /api/v1/namespaces/prod/pods, /apis/apps/v1/deployments, ..."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[1:]
    elif parts[:1] == ["apis"] and len(parts) > 1:
        group, rest = parts[1], parts[2:]
    else:
        return None
    if len(rest) == 4 and rest[1] == "namespaces":
        version, namespace, plural = rest[0], rest[2], rest[3]
    elif len(rest) == 2:
        version, namespace, plural = rest[0], None, rest[1]
    else:
        return None
    resource = _BY_PATH.get((group, version, plural))
    return (resource, namespace) if resource is not None else None


def _allowed(rules: Iterable[Mapping[str, Any]], resource: Resource) -> bool:
    return any(
        {resource.group, "*"} & set(rule.get("apiGroups", ()))
        and {resource.plural, "*"} & set(rule.get("resources", ()))
        and {"list", "*"} & set(rule.get("verbs", ()))
        for rule in rules
    )


def _write_token(version: int, last: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": version, "start": "/".join(last) + "\x00"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _read_token(text: str) -> tuple[int, tuple[str, str]] | None:
    if not text:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        namespace, _, name = str(raw["start"]).rstrip("\x00").partition("/")
        return int(raw["rv"]), (namespace, name)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ValueError(f"invalid continue token {text[:40]!r}") from None


def _status(code: int, message: str, details: dict[str, Any] | None = None) -> Answer:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": _REASONS.get(code, "InternalError"),
        "code": code,
    }
    if details:
        body["details"] = details
    return code, body


class KubeApi:
    """Every cluster of the sandbox, and the WSGI entry for `/_kubernetes/...`."""

    def __init__(self) -> None:
        self.clusters: dict[str, KubeCluster] = {}
        self._lock = threading.Lock()

    def cluster(self, name: str, token: str | None = None) -> KubeCluster:
        """The cluster `name`, made on first use (its token: `token-<name>`)."""
        with self._lock:
            if name not in self.clusters:
                self.clusters[name] = KubeCluster(name, token or f"token-{name}")
            return self.clusters[name]

    def reset(self) -> None:
        with self._lock:
            self.clusters.clear()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        path = str(environ.get("PATH_INFO", ""))[len(PREFIX) :]
        name, _, rest = path.partition("/")
        cluster = self.clusters.get(name)
        if cluster is None:
            code, body = _status(404, f"no cluster {name!r} in this sandbox")
        else:
            code, body = cluster.answer(
                str(environ.get("REQUEST_METHOD", "GET")),
                "/" + rest,
                parse_qs(str(environ.get("QUERY_STRING", ""))),
                str(environ.get("HTTP_AUTHORIZATION", "")),
            )
        payload = json.dumps(body).encode()
        start_response(
            f"{code} {_PHRASES.get(code, 'Error')}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

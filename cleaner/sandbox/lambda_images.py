"""Lambda container images the way Lambda resolves them, in front of moto's Lambda.

Lambda resolves a function's `ImageUri` to a digest when the code is deployed and
reports it as `Code.ResolvedImageUri`; a tag that moves later does not change what the
function runs. moto 5.2 cannot do that against the sandbox's ECR: with
MOTO_LAMBDA_STUB_ECR (the sandbox sets it, as moto's own ECR is empty) its "digest" is
a hash of the URI text, and for a URI with a digest it writes `repo@sha256@sha256:...`.
This layer resolves the URI against the sandbox store at CreateFunction and
UpdateFunctionCode, refuses an image that does not exist (as Lambda does), carries the
digest to versions published from it, and answers GetFunction with it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, unquote

from cleaner.core.references import parse_reference
from cleaner.sandbox.store import Store

StartResponse = Callable[..., Any]
Environ = dict[str, Any]
LATEST = "$LATEST"
_FUNCTIONS = re.compile(r"^/2015-03-31/functions/?(?P<name>[^/]*)(?P<rest>/[a-z-]*)?/?$")


def _function(path_name: str) -> tuple[str, str | None]:
    """(function name, qualifier) from a name, `name:qualifier`, or a (partial) ARN."""
    parts = unquote(path_name).split(":")
    if "function" in parts:
        parts = parts[parts.index("function") + 1 :]
    return parts[0], parts[1] if len(parts) > 1 else None


class LambdaImages:
    def __init__(self, store: Store) -> None:
        self.store = store
        # (account, region, function, version) -> image digest resolved at deployment
        self._digests: dict[tuple[str, str, str, str], str] = {}

    def reset(self) -> None:
        self._digests.clear()

    def handles(self, environ: Environ, service: str) -> bool:
        return service == "lambda" and _FUNCTIONS.match(environ.get("PATH_INFO", "")) is not None

    def __call__(
        self,
        environ: Environ,
        start_response: StartResponse,
        app: Callable[[Environ, StartResponse], Iterable[bytes]],
        caller: tuple[str, str],
    ) -> Iterable[bytes]:
        match = _FUNCTIONS.match(environ["PATH_INFO"])
        assert match is not None
        method, rest = environ.get("REQUEST_METHOD", "GET"), match["rest"] or ""
        body = _read_body(environ)
        request = json.loads(body or b"{}") if method in ("POST", "PUT") else {}
        uri = (request.get("Code") or {}).get("ImageUri") if not rest else request.get("ImageUri")
        digest = None
        if uri and method in ("POST", "PUT") and rest in ("", "/code"):
            digest = self._resolve(uri)
            if digest is None:
                return _error(start_response, f"Source image {uri} does not exist.")
        status, headers, payload = _forward(app, environ)
        publish = method == "POST" and rest == "/versions"
        getting = method == "GET" and not rest and match["name"] != ""
        if status.startswith("2") and (digest is not None or publish or getting):
            answer = json.loads(payload)
            name = answer.get("FunctionName") or _function(match["name"])[0]
            if digest is not None:
                self._pin(caller, name, LATEST, digest)
                self._pin(caller, name, str(answer.get("Version", LATEST)), digest)
            elif publish:
                latest = self._digests.get((*caller, name, LATEST))
                if latest is not None:
                    self._pin(caller, name, str(answer.get("Version")), latest)
            elif "Code" in answer:
                payload = self._answer_get(environ, caller, match["name"], answer)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, [*headers, ("Content-Length", str(len(payload)))])
        return [payload]

    def _resolve(self, uri: str) -> str | None:
        try:
            ref = parse_reference(uri)
        except ValueError:
            return None
        if ref.ecr is None or ref.repository is None:
            return None
        with self.store.lock:
            repo = self.store.repository(*ref.ecr, ref.repository)
            if repo is None:
                return None
            digest = ref.digest or repo.tags.get(ref.tag or "")
            return digest if digest in repo.images else None

    def _pin(self, caller: tuple[str, str], name: str, version: str, digest: str) -> None:
        self._digests[(*caller, name, version)] = digest

    def _answer_get(
        self, environ: Environ, caller: tuple[str, str], path_name: str, answer: dict[str, Any]
    ) -> bytes:
        name, qualifier = _function(path_name)
        query = parse_qs(environ.get("QUERY_STRING", ""))
        version = qualifier or (query.get("Qualifier") or [LATEST])[0]
        version = answer.get("Configuration", {}).get("Version", version)
        digest = self._digests.get((*caller, name, version))
        code = answer["Code"]
        if digest is not None and code.get("ImageUri"):
            repository = code["ImageUri"].split("@", 1)[0]
            if repository.rfind(":") > repository.rfind("/"):
                repository = repository[: repository.rfind(":")]
            code["ResolvedImageUri"] = f"{repository}@{digest}"
        return json.dumps(answer).encode()


def _read_body(environ: Environ) -> bytes:
    """Read the request body and put it back for moto to read again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _forward(
    app: Callable[[Environ, StartResponse], Iterable[bytes]], environ: Environ
) -> tuple[str, list[tuple[str, str]], bytes]:
    captured: dict[str, Any] = {}

    def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured.update(status=status, headers=headers)

    payload = b"".join(app(environ, start))
    return captured["status"], list(captured["headers"]), payload


def _error(start_response: StartResponse, message: str) -> list[bytes]:
    payload = json.dumps({"Type": "User", "message": message}).encode()
    start_response(
        "400 Bad Request",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("x-amzn-ErrorType", "InvalidParameterValueException"),
        ],
    )
    return [payload]

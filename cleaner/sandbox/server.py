"""The embedded ECR sandbox: moto's server (STS, ECS, Lambda, ...) behind a WSGI layer
that answers ECR itself, the way ECR does (docs/sandbox.md says where moto differs).
"""

from __future__ import annotations

import functools
import json
import os
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cleaner.sandbox.ecr_api import ApiError, EcrApi
from cleaner.sandbox.faults import Faults, InjectedError
from cleaner.sandbox.kube import PREFIX as KUBE_PREFIX
from cleaner.sandbox.kube import KubeApi
from cleaner.sandbox.kube_seed import KubeSeeder, write_kubeconfig
from cleaner.sandbox.lambda_images import LambdaImages
from cleaner.sandbox.store import Store

if TYPE_CHECKING:  # imported in start(): moto takes a while to import
    from cleaner.sandbox.http import HttpServer

ECR_TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
CONTROL_PREFIX = "/_sandbox/"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")
_SIGNED_SERVICE = re.compile(r"Credential=[^/,\s]+/[^/]+/[^/]+/([^/]+)/")

StartResponse = Callable[..., Any]
Environ = dict[str, Any]


@functools.cache
def _model_loader() -> Any:
    from botocore.loaders import create_loader

    return create_loader()


def _account_for(access_key: str, environ: Environ) -> str:
    # Same precedence as moto, so ECR and moto's services agree on the caller's account.
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))


class EcrLayer:
    """WSGI app: ECR operations go to the sandbox's ECR, everything else to moto."""

    def __init__(self, api: EcrApi, faults: Faults, moto_app: Any, kube: KubeApi) -> None:
        self.api = api
        self.faults = faults
        self.moto_app = moto_app
        self.kube = kube
        self.lambdas = LambdaImages(api.store)
        # "service:Operation" -> the error moto's JSON-protocol services (ECS, ...) answer
        # instead; ECR's own faults are in `faults`.
        self.rejections: dict[str, InjectedError] = {}

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return self._control(path[len(CONTROL_PREFIX) :], start_response)
        if path.startswith(KUBE_PREFIX):
            return self.kube(environ, start_response)
        if path == "/moto-api/reset":
            self.api.store.reset()
            self.faults.reset()
            self.lambdas.reset()
            self.rejections.clear()
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        service = _SIGNED_SERVICE.search(authorization)
        rejected = service and self.rejections.get(f"{service.group(1)}:{target.rsplit('.')[-1]}")
        if rejected:
            return _respond(start_response, rejected.status, _error(rejected))
        if service and self.lambdas.handles(environ, service.group(1)):
            match = _CREDENTIAL.search(authorization)
            assert match is not None
            caller = (_account_for(match.group(1), environ), match.group(2))
            return self.lambdas(environ, start_response, self.moto_app, caller)
        if not target.startswith(ECR_TARGET_PREFIX):
            result: Iterable[bytes] = self.moto_app(environ, start_response)
            return result
        return self._ecr(target[len(ECR_TARGET_PREFIX) :], environ, start_response)

    def _ecr(self, operation: str, environ: Environ, start_response: StartResponse) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b"{}"
        match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
        access_key, region = match.groups() if match else ("AKIAEXAMPLE", DEFAULT_REGION)
        injected = self.faults.before(operation)
        if injected is not None:
            self.faults.done(operation)
            return _respond(start_response, injected.status, _error(injected))
        try:
            if not self.api.handles(operation):
                raise ApiError(
                    "UnsupportedOperationException",
                    f"the ecr-cleaner sandbox does not implement ECR {operation}",
                )
            body = json.loads(raw or b"{}")
            answer = self.api.call(operation, _account_for(access_key, environ), region, body)
            status = 200
        except ApiError as exc:
            answer, status = {"__type": exc.code, "message": exc.message}, exc.status
        except ValueError as exc:
            answer, status = {"__type": "SerializationException", "message": str(exc)}, 400
        self.faults.after(operation, self.api.store)
        return _respond(start_response, status, answer)

    def _control(self, command: str, start_response: StartResponse) -> list[bytes]:
        """Plain-HTTP controls for a standalone sandbox (the in-process API is richer)."""
        if command == "calls":
            faults = self.faults
            body = {"calls": dict(faults.calls), "injected": dict(faults.injected)}
            body["peak"] = dict(faults.peak)  # calls of each operation in flight at once
            return _respond(start_response, 200, body)
        if command == "reset":
            self.api.store.reset()
            self.faults.reset()
            return _respond(start_response, 200, {"reset": True})
        return _respond(start_response, 404, {"message": f"unknown control {command!r}"})


def _error(injected: InjectedError) -> dict[str, str]:
    return {"__type": injected.code, "message": injected.message}


def _respond(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(payload))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
        ],
    )
    return [payload]


class Sandbox:
    """An ECR endpoint on 127.0.0.1, in-process. Use as a context manager in tests.

    `store` is the registry state (seed it with `cleaner.sandbox.seed.Seeder`),
    `faults` injects latency/throttling/errors and counts calls, `kube` holds the
    Kubernetes clusters it also serves (see `kube_seeder` and `kubeconfig`).
    """

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.store = Store(clock) if clock is not None else Store()
        self.faults = Faults()
        self.api = EcrApi(self.store)
        self.kube = KubeApi()
        self._server: HttpServer | None = None
        self._app: EcrLayer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Sandbox:
        # moto's Lambda would look for images in moto's own ECR, which is empty: the
        # sandbox answers ECR itself, and LambdaImages resolves image URIs against it.
        os.environ["MOTO_LAMBDA_STUB_ECR"] = "TRUE"
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from cleaner.sandbox.http import HttpServer

        moto_app = DomainDispatcherApplication(create_backend_app)
        app = EcrLayer(self.api, self.faults, moto_app, self.kube)
        self._app = app
        # Not werkzeug's server: it closes the connection after every response, and real
        # ECR endpoints keep them alive (see cleaner/sandbox/http.py).
        self._server = HttpServer(self.host, self.port, app)
        self.port = int(self._server.server_address[1])
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        self.store.reset()
        self.faults.reset()
        self.kube.reset()
        if self._app is not None:
            self._app.rejections.clear()

    def reject(
        self,
        service: str,
        operation: str,
        code: str = "AccessDeniedException",
        message: str = "injected by the sandbox",
        status: int = 400,
    ) -> None:
        """Answer every call of `operation` (e.g. "ecs", "ListClusters") of a service with
        a JSON protocol with this error, until reset: an IAM denial, an outage."""
        assert self._app is not None, "start the sandbox first"
        self._app.rejections[f"{service}:{operation}"] = InjectedError(status, code, message)

    def kube_seeder(self, cluster: str, **options: Any) -> KubeSeeder:
        """Seeds the Kubernetes cluster `cluster` (made on first use) from manifests."""

        return KubeSeeder(self.kube.cluster(cluster), self.store, **options)

    def kubeconfig(self, path: Path, clusters: Sequence[str] | None = None) -> Path:
        """Write a kubeconfig for the clusters (default: all; the first is current)."""
        return write_kubeconfig(path, self.kube, self.endpoint_url, clusters=clusters)

    def environment(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        """Variables that point the AWS SDKs and CLI at this sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
        }

    def client(self, service: str = "ecr", region: str = DEFAULT_REGION, **kwargs: Any) -> Any:
        import boto3

        session: Any = boto3.session.Session()
        # One botocore Loader for every such session: the service models are read-only,
        # and parsing them again for each client was most of a sandbox test's CPU.
        session._session.register_component("data_loader", _model_loader())
        return session.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **kwargs,
        )

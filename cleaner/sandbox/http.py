"""The sandbox's HTTP server: waitress, a well-kept WSGI server, on a thread of its own.

It keeps HTTP/1.1 connections alive, as ECR's endpoints do (werkzeug's development
server sends `Connection: close` on every response, so each SDK call paid for a new
TCP connection: about a fifth of the client's CPU in the latency benchmark, and a
cost real clients never see), and decodes chunked request bodies. `SandboxApp` adds
what moto's own server would: the raw request URI, a buffered response with its
Content-Length, and a plain 500 for an app that fails.
"""

from __future__ import annotations

import io
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Threads answering requests: the benchmarks run 16 concurrent clients against a
# sandbox that sleeps for injected latency, and an idle keep-alive connection holds
# no thread.
THREADS = 32
# Idle keep-alive connections kept open: more than any test or benchmark pools.
KEEP_ALIVE_CONNECTIONS = 256


class SandboxApp:
    """Wraps a WSGI app: the environ moto's server would make, and a whole response."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._clients: set[tuple[str, str]] = set()

    @property
    def connections_seen(self) -> int:
        """Client connections that sent a request (for tests: keep-alive means one each)."""
        with self._lock:
            return len(self._clients)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            self._clients.add((str(environ.get("REMOTE_ADDR")), str(environ.get("REMOTE_PORT"))))
        # moto matches S3 keys against the undecoded path (Request.raw_path).
        environ.setdefault("RAW_URI", environ.get("REQUEST_URI", ""))
        if environ.get("wsgi.input_terminated") or "CONTENT_LENGTH" not in environ:
            # A chunked body: werkzeug reads only what CONTENT_LENGTH says.
            body = environ["wsgi.input"].read()
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        started: list[Any] = []

        def buffered(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            # Nothing is sent before the app returns, so an error page may always replace.
            assert exc_info is not None or not started, "start_response called twice"
            started[:] = [status, list(headers)]
            return chunks.append

        chunks: list[bytes] = []
        try:
            result = self.app(environ, buffered)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            assert started, "the app returned without calling start_response"
            status, headers = started
        except Exception:
            traceback.print_exc()
            status, headers = "500 Internal Server Error", [("Content-Type", "text/plain")]
            chunks = [b"Internal Server Error"]
        body = b"".join(chunks)
        if not any(name.lower() == "content-length" for name, _ in headers):
            headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [body]


class HttpServer:
    """Serves `app` on (host, port) from a thread of its own (port 0: a free one).

    `stop()` closes idle keep-alive connections too, so that they neither delay a stop
    nor outlive the server."""

    def __init__(self, host: str, port: int, app: WsgiApp) -> None:
        from waitress.server import BaseWSGIServer, create_server

        self.app = SandboxApp(app)
        self._channels: dict[int, Any] = {}  # waitress's asyncore map: every open socket
        server = create_server(
            self.app,
            map=self._channels,
            host=host,
            port=port,
            threads=THREADS,
            connection_limit=KEEP_ALIVE_CONNECTIONS,
            # A page of 1,000 image details or 100 manifests stays in memory, not in a
            # temporary file.
            outbuf_overflow=64 * 1024 * 1024,
            # poll(2), not select(2): a long test session may hold more than 1,024 files.
            asyncore_use_poll=True,
            ident="ecr-sandbox",
        )
        assert isinstance(server, BaseWSGIServer)  # one host: one socket
        self._server = server
        # An asyncore dispatcher (the stubs type it as an int): a write to it wakes the loop.
        self._trigger: Any = server.trigger
        bound_host, bound_port = server.getsockname()[:2]
        self.server_address = (str(bound_host), int(bound_port))
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def connections_accepted(self) -> int:
        return self.app.connections_seen

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._lock:  # the loop closes the trigger only once this write is done
            self._stopping = True
            self._trigger.pull_trigger()
        self._thread.join()

    def _serve(self) -> None:
        from waitress import wasyncore

        server = self._server
        while True:
            wasyncore.loop(timeout=1.0, use_poll=True, map=self._channels, count=1)
            with self._lock:
                if self._stopping:
                    break
        # Everything closes on this thread (asyncore is not thread-safe), and only once
        # the workers are gone: each pulls the trigger when it finishes a request.
        server.task_dispatcher.shutdown()
        for channel in list(self._channels.values()):
            if channel is not server and channel is not self._trigger:
                channel.handle_close()  # idle keep-alive connections too
        server.close()  # the listening socket and the trigger

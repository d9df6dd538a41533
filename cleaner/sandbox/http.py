"""A small threaded WSGI server that keeps HTTP/1.1 connections alive, as ECR's endpoints do.

werkzeug's development server sends `Connection: close` on every response, so each SDK
call paid for a new TCP connection: about a fifth of the client's CPU in the latency
benchmark, and a cost real clients never see.
"""

from __future__ import annotations

import contextlib
import io
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from moto.core import request as moto

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class KeepAliveServer(ThreadingHTTPServer):
    """Serves `app` on (host, port), one daemon thread per connection (port 0: a free one).

    `server_close()` also wakes the threads waiting for a connection's next request, so
    that idle keep-alive connections neither delay a stop nor outlive the server.
    """

    daemon_threads = True

    def __init__(self, host: str, port: int, app: WsgiApp) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.app = app
        self.connections_accepted = 0  # for tests: keep-alive means one per client
        self.closing = False
        self._lock = threading.Lock()
        self._idle: set[socket.socket] = set()
        super().__init__((host, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self.connections_accepted += 1
        super().process_request(request, client_address)

    def waiting(self, connection: socket.socket, idle: bool) -> bool:
        """Mark a connection idle (between requests) or busy; False once closing."""
        with self._lock:
            (self._idle.add if idle else self._idle.discard)(connection)
            return not self.closing

    def shutdown_request(self, request: Any) -> None:
        self.waiting(request, idle=False)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._lock:
            self.closing, idle, self._idle = True, self._idle, set()
        for connection in idle:  # their reads return EOF: the handler threads end
            with contextlib.suppress(OSError):  # the client closed it meanwhile
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (or a stop cutting a request short) is not worth a trace.
        if not (self.closing or isinstance(sys.exc_info()[1], ConnectionError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1: connections stay open unless the client asks otherwise; parse_request
    # answers `Expect: 100-continue` itself (handle_expect_100) before do_*.
    protocol_version = "HTTP/1.1"
    server: KeepAliveServer

    def handle_one_request(self) -> None:
        if not self.server.waiting(self.connection, idle=True):
            self.close_connection = True
            return
        super().handle_one_request()  # blocks in readline() until the next request line

    def parse_request(self) -> bool:
        self.server.waiting(self.connection, idle=False)
        return super().parse_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Per-request access lines would drown the demo's and tests' output."""

    def _wsgi(self) -> None:
        try:
            body = self._read_body()
        except ValueError:  # bad length or chunking: the stream is out of sync
            self.send_error(400, "Malformed request body")  # sets Connection: close
            return
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            # Nothing is sent before the app returns, so an error page may always replace.
            assert exc_info is not None or not started, "start_response called twice"
            started[:] = [status, list(headers)]
            return chunks.append

        try:
            result = self.server.app(self._environ(body), start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            assert started, "the app returned without calling start_response"
        except Exception:
            traceback.print_exc()
            started[:] = ["500 Internal Server Error", [("Content-Type", "text/plain")]]
            chunks[:] = [b"Internal Server Error"]
        self._respond(started[0], started[1], b"".join(chunks))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _wsgi

    def _read_body(self) -> bytes:
        # The whole body, always: the next request starts right after it on the connection.
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(self.rfile.readline(65537).split(b";")[0], 16):
                parts.append(self.rfile.read(size))
                if self.rfile.read(2) != b"\r\n":
                    raise ValueError("bad chunk")
            while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                pass  # trailer fields: nothing the apps read
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) != length:
            raise ValueError("short body")
        return body

    def _environ(self, body: bytes) -> dict[str, Any]:
        """PEP 3333's environ, with werkzeug's extras and moto's preserved header names."""
        url = urlsplit(self.path)
        # "//a/b" is a path, not a netloc (as werkzeug reads it).
        path = url.path if url.scheme or not url.netloc else f"//{url.netloc}{url.path}"
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {}
        for name, value in self.headers.items():
            if "_" in name:  # X_Foo could spoof X-Foo: werkzeug drops them too
                continue
            key, value = moto.environ_key_for_header(name), value.replace("\r\n", "")
            joined = key.startswith("HTTP_") and key in environ
            environ[key] = f"{environ[key]},{value}" if joined else value
        # As moto's MotoRequestHandler: S3 metadata names may hold underscores, so those
        # come back, with their spelling, unless a dashed header took the same key.
        names: dict[str, str] = {}
        values: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            key = moto.environ_key_for_header(name)
            if moto.should_preserve_original_header_name(name) and key not in environ:
                names.setdefault(key, name)
                values.setdefault(key, []).append(value.replace("\r\n", ""))
        environ.update((key, ",".join(parts)) for key, parts in values.items())
        environ.pop("HTTP_TRANSFER_ENCODING", None)  # the body below is de-chunked
        if url.scheme and url.netloc:
            environ["HTTP_HOST"] = url.netloc
        environ.update(
            {
                "REQUEST_METHOD": self.command,
                "SCRIPT_NAME": "",
                "PATH_INFO": unquote_to_bytes(path.encode("latin-1")).decode("latin-1"),
                "QUERY_STRING": url.query,
                "RAW_URI": self.path,  # moto matches S3 keys against the undecoded path
                "CONTENT_LENGTH": str(len(body)),
                "SERVER_NAME": str(host),
                "SERVER_PORT": str(port),
                "SERVER_PROTOCOL": self.request_version,
                "SERVER_SOFTWARE": self.version_string(),
                "REMOTE_ADDR": self.client_address[0],
                "REMOTE_PORT": self.client_address[1],
                moto.PRESERVED_HEADER_NAMES_ENVIRON_KEY: names,
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body),
                "wsgi.input_terminated": True,
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
        )
        return environ

    def _respond(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        code = int(status.split(None, 1)[0])
        names = {name.lower(): value for name, value in headers}
        if "close" in names.get("connection", "").lower() or self.server.closing:
            self.close_connection = True
        if self.command == "HEAD" or code < 200 or code in (204, 304):
            body = b""
        elif "content-length" not in names:
            headers.append(("Content-Length", str(len(body))))
        if "connection" not in names and self.close_connection:
            headers.append(("Connection", "close"))
        elif "connection" not in names and self.request_version == "HTTP/1.0":
            headers.append(("Connection", "keep-alive"))  # 1.0 clients close otherwise
        headers += [("Server", self.version_string())] if "server" not in names else []
        headers += [("Date", self.date_time_string())] if "date" not in names else []
        head = "".join(f"{name}: {value}\r\n" for name, value in headers)
        # One write: headers and body in separate segments could meet Nagle's algorithm.
        self.wfile.write(f"{self.protocol_version} {status}\r\n{head}\r\n".encode("latin-1") + body)

"""`serve`'s HTTP endpoint: `/healthz` for probes, `/metrics` for Prometheus, and an
index page at `/` listing the recent runs, whose reports it serves from --report-dir.

The standard library's threading HTTP server is enough for a few read-only pages polled
every few seconds; it runs in a daemon thread beside the scheduler.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import structlog

from cleaner.report.directory import ReportDirectory
from cleaner.serve.index import REPORTS_PATH, RUNS_LISTED, render_index
from cleaner.serve.metrics import CONTENT_TYPE

log = structlog.get_logger("cleaner.serve.http")

# (healthy, body): 200 with the body when healthy, else 503 with the same body.
HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8080` for IPv6; port 0: any free port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, like 127.0.0.1:8080 (got {text!r})")
    return host.strip("[]"), int(port)


# stop() waits for the serving loop to look at its stop flag, once a poll: the
# standard library's 0.5 s made every stop of serve (and every serve test) take that long.
STOP_POLL_SECONDS = 0.05


class HealthServer:
    def __init__(
        self,
        host: str,
        port: int,
        health: HealthCheck,
        metrics: Callable[[], bytes],
        reports: ReportDirectory | None = None,
    ):
        handler = _handler(health, metrics, reports)
        # Raises OSError (address in use, ...) here, before anything is scheduled.
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> HealthServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name="health-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()


HTML = "text/html; charset=utf-8"
TYPES = {".html": HTML, ".json": "application/json"}


def _handler(
    health: HealthCheck, metrics: Callable[[], bytes], reports: ReportDirectory | None
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "ecr-cleaner"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                healthy, body = health()
                payload = (json.dumps(body, indent=2) + "\n").encode()
                self._send(200 if healthy else 503, "application/json", payload)
            elif path == "/metrics":
                self._send(200, CONTENT_TYPE, metrics())
            elif path == "/":
                entries = reports.entries(RUNS_LISTED) if reports is not None else None
                self._send(200, HTML, render_index(health()[1], entries).encode())
            elif path == "/favicon.ico":  # browsers ask for it, on the JSON reports too
                self._send(204, "image/x-icon", b"")
            elif path.startswith(REPORTS_PATH) and reports is not None:
                self._send_report(reports, unquote(path[len(REPORTS_PATH) :]))
            else:
                self._not_found()

        def _not_found(self) -> None:
            text = b"not found: try /, /healthz or /metrics\n"
            self._send(404, "text/plain; charset=utf-8", text)

        def _send_report(self, reports: ReportDirectory, name: str) -> None:
            found = reports.file(name)
            try:
                report = found.open("rb") if found is not None else None
            except OSError:  # pruned since it was listed
                report = None
            if found is None or report is None:
                self._not_found()
                return
            with report:
                self._headers(200, TYPES[found.suffix], os.fstat(report.fileno()).st_size)
                shutil.copyfileobj(report, self.wfile)

        def _send(self, status: int, content_type: str, payload: bytes) -> None:
            self._headers(status, content_type, len(payload))
            self.wfile.write(payload)

        def _headers(self, status: int, content_type: str, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            # One access line per probe every few seconds would bury the run events.
            log.debug("http_request", request=self.requestline, client=self.client_address[0])

    return Handler

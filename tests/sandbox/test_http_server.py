"""The sandbox's HTTP server (waitress): connection reuse, request bodies, PEP 3333 environ."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError

from cleaner.sandbox import Sandbox
from cleaner.sandbox.http import HttpServer

ENVIRON_KEYS = [
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "RAW_URI",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "HTTP_X_FOO",
    "HTTP_X_AMZ_META_MY_KEY",
    "HTTP_TRANSFER_ENCODING",
    "wsgi.url_scheme",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
]


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with the environ's interesting keys and the body, without a Content-Length."""
    if environ["PATH_INFO"] == "/fail":
        raise RuntimeError("the app failed")
    seen = {key: environ.get(key) for key in ENVIRON_KEYS}
    seen["body"] = environ["wsgi.input"].read().decode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


@pytest.fixture
def server() -> Iterator[HttpServer]:
    server = HttpServer("127.0.0.1", 0, echo)
    server.start()
    yield server
    server.stop()


def connect(server: HttpServer) -> socket.socket:
    return socket.create_connection(server.server_address[:2], timeout=5)


def read_response(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """One response off the socket: status line, headers (lower-cased), Content-Length body."""
    reader = sock.makefile("rb")
    status = reader.readline().decode().strip()
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, value = line.decode().split(":", 1)
        headers[name.lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", 0)))
    return status, headers, body


def request(sock: socket.socket, head: str, body: bytes = b"") -> tuple[str, dict[str, str], Any]:
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
    status, headers, raw = read_response(sock)
    return status, headers, json.loads(raw) if raw.startswith(b"{") else raw


def test_consecutive_boto3_calls_reuse_one_connection(sandbox_server: Sandbox) -> None:
    server = sandbox_server._server
    assert server is not None
    ecr = sandbox_server.client("ecr")
    before = server.connections_accepted
    for _ in range(5):
        headers = ecr.describe_repositories()["ResponseMetadata"]["HTTPHeaders"]
        assert "connection" not in headers
    assert server.connections_accepted - before == 1


def test_environ_follows_pep_3333_and_keeps_the_connection(server: HttpServer) -> None:
    sock = connect(server)
    status, headers, seen = request(
        sock,
        "POST /a%20b/c%2Fd?x=1%202 HTTP/1.1\nHost: h\nContent-Type: text/plain\n"
        "Content-Length: 5\nX-Foo: 1\nX-Foo: 2\nX_Foo: spoof\nx-amz-meta-my_key: m\n",
        b"hello",
    )
    assert status == "HTTP/1.1 200 OK"
    assert "connection" not in headers
    assert headers["content-length"] == str(len(json.dumps(seen)))  # the server added it
    assert seen["PATH_INFO"] == "/a b/c/d"
    assert seen["RAW_URI"] == "/a%20b/c%2Fd?x=1%202"
    assert seen["QUERY_STRING"] == "x=1%202"
    assert seen["SCRIPT_NAME"] == ""
    assert (seen["CONTENT_TYPE"], seen["CONTENT_LENGTH"], seen["body"]) == (
        "text/plain",
        "5",
        "hello",
    )
    # The underscored X_Foo may not stand in for X-Foo; repeated headers join as one list.
    assert [v.strip() for v in seen["HTTP_X_FOO"].split(",")] == ["1", "2"]
    # Every header name with an underscore is dropped, as waitress does: the only ones
    # moto would keep (S3 user metadata) belong to a service the ECR sandbox is not.
    assert seen["HTTP_X_AMZ_META_MY_KEY"] is None
    assert (seen["SERVER_PROTOCOL"], seen["REMOTE_ADDR"], seen["wsgi.url_scheme"]) == (
        "HTTP/1.1",
        "127.0.0.1",
        "http",
    )
    assert (seen["wsgi.multithread"], seen["wsgi.multiprocess"], seen["wsgi.run_once"]) == (
        True,
        False,
        False,
    )
    _, _, again = request(sock, "GET / HTTP/1.1\nHost: h\n")  # the same connection
    assert (again["REQUEST_METHOD"], again["CONTENT_LENGTH"], again["body"]) == ("GET", "0", "")
    assert server.connections_accepted == 1


def test_chunked_request_bodies_are_decoded(server: HttpServer) -> None:
    sock = connect(server)
    chunked = b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"
    head = "PUT / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n"
    _, _, seen = request(sock, head, chunked)
    assert (seen["body"], seen["CONTENT_LENGTH"], seen["HTTP_TRANSFER_ENCODING"]) == (
        "hello, world",
        "12",
        None,
    )
    _, _, seen = request(sock, "GET /next HTTP/1.1\nHost: h\n")  # the stream stays in step
    assert seen["PATH_INFO"] == "/next"


def test_expect_100_continue_is_answered_before_the_body(server: HttpServer) -> None:
    sock = connect(server)
    sock.sendall(b"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
    assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(b"data")
    status, _, body = read_response(sock)
    assert status == "HTTP/1.1 200 OK"
    assert json.loads(body)["body"] == "data"


@pytest.mark.parametrize(
    ("head", "closed"),
    [
        ("GET / HTTP/1.1\nHost: h\nConnection: close\n", True),
        ("GET / HTTP/1.0\n", True),
        ("GET / HTTP/1.0\nConnection: keep-alive\n", False),
    ],
)
def test_the_connection_closes_only_when_the_client_asks(
    server: HttpServer, head: str, closed: bool
) -> None:
    sock = connect(server)
    _, headers, _ = request(sock, head)
    assert headers["connection"].lower() == ("close" if closed else "keep-alive")
    if closed:
        assert sock.recv(1) == b""
    else:
        _, _, seen = request(sock, "GET /again HTTP/1.0\nConnection: keep-alive\n")
        assert seen["PATH_INFO"] == "/again"


def test_an_app_error_is_a_500_and_a_bad_body_a_400(server: HttpServer) -> None:
    sock = connect(server)
    status, _, body = request(sock, "GET /fail HTTP/1.1\nHost: h\n")
    assert (status, body) == ("HTTP/1.1 500 Internal Server Error", b"Internal Server Error")
    status, headers, _ = request(
        sock, "PUT / HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n", b"zz\r\n"
    )
    assert (status.split()[1], headers["connection"]) == ("400", "close")


def test_idle_keep_alive_connections_do_not_hold_up_a_stop() -> None:
    sandbox = Sandbox().start()
    ecr = sandbox.client("ecr", config=Config(retries={"total_max_attempts": 1}))
    ecr.describe_repositories()  # leaves an idle pooled connection open
    raw = socket.create_connection(("127.0.0.1", sandbox.port), timeout=5)
    assert request(raw, "GET /_sandbox/calls HTTP/1.1\nHost: h\n")[0] == "HTTP/1.1 200 OK"
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 2
    assert raw.recv(1) == b""  # closed, not served by a thread that outlived the server
    with pytest.raises(EndpointConnectionError):
        ecr.describe_repositories()

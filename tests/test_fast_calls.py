"""The fast path of the hot ECR calls (cleaner/aws/fast_calls.py) against botocore's own
path, the client's HTTP session scripted (no network): the same request, byte for byte;
the same result for a clean answer; and for anything else, exactly botocore's behaviour
(the same requests sent, retries logged, rate-limiter tokens taken, retry quota,
result or error)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import botocore.auth
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
)
from botocore.retries import standard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from cleaner.aws import fast_calls, replay
from cleaner.aws.clients import CLIENT_CONFIG, Clients, _utc_timestamp

REGION = "eu-west-1"
SIGNED_AT = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
DIGEST = "sha256:" + "ab" * 32
# Differ between two requests however alike: a fresh UUID, and botocore's per-request
# User-Agent suffix of feature ids (the fast path sends the client's User-Agent without it).
PER_REQUEST = {"amz-sdk-invocation-id", "user-agent"}


class Raw:
    """The body of a scripted answer, as urllib3 would stream it."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


Outcome = tuple[int, bytes] | Exception


class Script:
    """The client's HTTP session, answering each request with the next outcome (an HTTP
    status and body, or an exception raised as botocore's session raises it) and
    recording the requests: the ones that went on the wire."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[Any] = []

    def send(self, request: Any) -> Any:
        self.sent.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        status, body = outcome
        headers = {"x-amzn-RequestId": f"req-{len(self.sent)}", "Content-Type": "x"}
        return AWSResponse(request.url, status, headers, Raw(body))


class Limiter:
    """The adaptive rate limiter's token bucket and rate calculator, counting: tokens
    taken (never waiting for them), and the answers it learnt from."""

    def __init__(self) -> None:
        self.taken = 0
        self.max_rate = 1.0
        self.available_capacity = 1.0
        self.successes = 0
        self.throttles = 0

    def acquire(self, amount: int = 1, block: bool = True) -> bool:
        self.taken += amount
        return True

    def success_received(self, timestamp: float) -> float:
        self.successes += 1
        return 10.0

    def error_received(self, rate: float, timestamp: float) -> float:
        self.throttles += 1
        return 1.0

    def counts(self) -> tuple[int, int, int]:
        return self.taken, self.successes, self.throttles


@pytest.fixture(autouse=True)
def environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ECR", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # The same signing time for both paths, and no waiting between retries.
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: SIGNED_AT)
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)


def ecr(fast: bool, script: Script, *, throttled: bool = False) -> tuple[Any, Limiter]:
    """An ECR client as the cleaner makes it, with or without the fast path; its rate
    limiter counts (and is on from the start when `throttled`)."""
    client = Clients(fast_calls=fast).client("ecr", REGION)
    client._endpoint.http_session = script
    known, limiter = replay.rate_limiter(client)
    assert known and limiter is not None
    counting = Limiter()
    limiter._token_bucket = counting
    limiter._rate_adjustor = counting
    limiter._enabled = throttled
    return client, counting


def wire(request: Any) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() not in PER_REQUEST}
    headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in headers.items()}
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    return {"method": request.method, "url": request.url, "headers": headers, "body": body}


digests = st.integers(0, 2**256 - 1).map(lambda n: f"sha256:{n:064x}")
tags = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=30)
image_ids = st.lists(
    st.one_of(
        st.builds(lambda d: {"imageDigest": d}, digests),
        st.builds(lambda t: {"imageTag": t}, tags),
    ),
    min_size=1,
    max_size=100,
)
names = st.from_regex(r"[a-z][a-z0-9]{1,8}(/[a-z0-9][a-z0-9._-]{0,20}){0,2}", fullmatch=True)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A hot call with the parameters the cleaner sends (and a few it might)."""
    params: dict[str, Any] = {}
    if draw(st.booleans()):
        params["registryId"] = draw(st.from_regex(r"[0-9]{12}", fullmatch=True))
    params["repositoryName"] = draw(names)
    operation = draw(st.sampled_from(fast_calls.HOT_CALLS))
    if operation == "DescribeImages" and draw(st.booleans()):
        params["maxResults"] = draw(st.integers(1, 1000))
        if draw(st.booleans()):
            params["nextToken"] = draw(st.text(min_size=1, max_size=300))
        if draw(st.booleans()):
            status = st.sampled_from(["ACTIVE", "ARCHIVED", "ACTIVATING", "ANY"])
            params["filter"] = {"imageStatus": draw(status)}
    else:
        params["imageIds"] = draw(image_ids)
    if operation == "BatchGetImage" and draw(st.booleans()):
        params["acceptedMediaTypes"] = ["application/vnd.oci.image.index.v1+json"]
    return operation, params


def method(client: Any, operation: str) -> Callable[..., Any]:
    names = {v: k for k, v in client.meta.method_to_api_mapping.items()}
    return getattr(client, names[operation])


ENDPOINTS = {
    "default": {},
    "FIPS": {"AWS_USE_FIPS_ENDPOINT": "true"},
    "dual-stack": {"AWS_USE_DUALSTACK_ENDPOINT": "true"},
    "endpoint URL": {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"},
    "ECR endpoint URL with a path": {"AWS_ENDPOINT_URL_ECR": "https://ecr.example.test/base/"},
    "Lambda trace id": {"AWS_LAMBDA_FUNCTION_NAME": "f", "_X_AMZN_TRACE_ID": "Root=1-5e"},
}


@pytest.fixture(params=ENDPOINTS.values(), ids=ENDPOINTS.keys())
def both_paths(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[Any, Script]]:
    """A client with botocore's path and one with the fast path, made (and called) with
    the endpoint settings of the parameter."""
    for name, value in request.param.items():
        monkeypatch.setenv(name, value)
    pair = []
    for fast in (False, True):
        script = Script((200, b"{}"))
        pair.append((ecr(fast, script)[0], script))
    return pair


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(call=calls())
def test_the_request_is_the_one_botocore_sends(
    both_paths: list[tuple[Any, Script]], call: tuple[str, dict[str, Any]]
) -> None:
    operation, params = call
    sent = []
    for client, script in both_paths:
        script.sent.clear()
        method(client, operation)(**params)
        (request,) = script.sent
        sent.append(wire(request))
    assert sent[1] == sent[0]
    assert json.loads(sent[1]["body"]) == params


INVALID = {
    "a repository name too short": {"repositoryName": "a", "imageIds": [{"imageTag": "v1"}]},
    "no image ids": {"repositoryName": "app", "imageIds": []},
    "101 image ids": {"repositoryName": "app", "imageIds": [{"imageTag": "v1"}] * 101},
    "a bad first image id": {"repositoryName": "app", "imageIds": [{"imageTag": ""}] * 2},
    "an unknown parameter": {"repositoryName": "app", "imageIds": [{"imageTag": "v"}], "x": 1},
    "no repository name": {"imageIds": [{"imageTag": "v1"}]},
}


@pytest.mark.parametrize("operation", fast_calls.HOT_CALLS)
@pytest.mark.parametrize("params", INVALID.values(), ids=INVALID.keys())
def test_invalid_parameters_fail_as_botocore_fails_them(
    operation: str, params: dict[str, Any]
) -> None:
    """botocore's validation rejects most of these before sending (ECR, the rest)."""
    seen = []
    for fast in (False, True):
        script = Script((400, b'{"__type": "InvalidParameterException", "message": "no"}'))
        client, _ = ecr(fast, script)
        seen.append((outcome_of(lambda c=client: method(c, operation)(**params)), script.sent))
    (botocore_outcome, botocore_sent), (fast_outcome, fast_sent) = seen
    assert fast_outcome == botocore_outcome
    assert len(fast_sent) == len(botocore_sent)
    if params.get("repositoryName") == "a":
        assert botocore_sent == [] and fast_outcome[0] == "ParamValidationError"


def detail(n: int, pulled: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "registryId": "123456789012",
        "repositoryName": "app",
        "imageDigest": f"sha256:{n:064x}",
        "imageTags": [f"v{n}"] if n % 3 else [],
        "imagePushedAt": 1_700_000_000 + n * 3600.125,
        "imageSizeInBytes": 1000 + n,
        "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
        "imageStatus": "ACTIVE",
        "someNewField": {"x": 1},
    }
    if pulled:
        out["lastRecordedPullTime"] = 1_700_100_000.5
    return out


CLEAN = {
    "DescribeImages": {"imageDetails": [detail(n, n % 2 == 0) for n in range(5)], "nextToken": "t"},
    "BatchGetImage": {
        "images": [
            {
                "registryId": "123456789012",
                "repositoryName": "app",
                "imageId": {"imageDigest": DIGEST, "imageTag": "v1"},
                "imageManifest": '{"manifests": []}',
                "imageManifestMediaType": "application/vnd.oci.image.index.v1+json",
            }
        ],
        "failures": [
            {"imageId": {"imageTag": "gone"}, "failureCode": "ImageNotFound", "failureReason": "x"}
        ],
    },
    "BatchDeleteImage": {
        "imageIds": [{"imageDigest": DIGEST, "imageTag": "v1"}, {"imageDigest": DIGEST}],
        "failures": [
            {
                "imageId": {"imageDigest": "sha256:" + "cd" * 32},
                "failureCode": "ImageReferencedByManifestList",
                "failureReason": "Requested image is referenced by a manifest list",
            }
        ],
    },
}


@pytest.mark.parametrize("operation", fast_calls.HOT_CALLS)
def test_a_clean_answer_gives_what_botocore_gives(operation: str) -> None:
    body = json.dumps(CLEAN[operation]).encode()
    results = []
    for fast in (False, True):
        client, _ = ecr(fast, Script((200, body)))
        results.append(
            method(client, operation)(repositoryName="app", imageIds=[{"imageTag": "v1"}])
        )
    assert results[1] == results[0]  # ResponseMetadata too: request id, status, headers
    assert results[1]["ResponseMetadata"]["RetryAttempts"] == 0


THROTTLED = (400, b'{"__type": "ThrottlingException", "message": "Rate exceeded"}')
SERVER = (500, b'{"__type": "ServerException", "message": "oops"}')
OK = (200, json.dumps(CLEAN["BatchDeleteImage"]).encode())
SCENARIOS: dict[str, list[Outcome]] = {
    "throttled, then answered": [THROTTLED, THROTTLED, OK],
    "server errors, then answered": [SERVER, (503, b""), OK],
    "server errors until botocore gives up": [SERVER],
    "image not found: no retry": [
        (400, b'{"__type": "ImageNotFoundException", "message": "gone"}')
    ],
    "access denied: no retry": [(400, b'{"__type": "AccessDeniedException", "message": "no"}')],
    "an HTML error page": [(502, b"<html>bad gateway</html>"), OK],
    "a 200 that is not JSON": [(200, b"<html>hello</html>")],
    "a 200 that is a JSON list": [(200, b"[1, 2]")],
    "a 200 with an empty body": [(200, b"")],
    "a closed connection, then answered": [
        ConnectionClosedError(endpoint_url="https://x"),
        OK,
    ],
    "an unreachable endpoint": [EndpointConnectionError(endpoint_url="https://x")],
}


def outcome_of(call: Callable[[], Any]) -> object:
    try:
        result = call()
    except ClientError as exc:
        return ("ClientError", exc.response["Error"], exc.response["ResponseMetadata"])
    except Exception as exc:
        return (type(exc).__name__, str(exc))
    return result


@pytest.mark.parametrize("throttled", [False, True], ids=["limiter off", "limiter on"])
@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_anything_else_is_botocore_s_first_attempt(
    scenario: list[Outcome], throttled: bool
) -> None:
    seen = []
    for fast in (False, True):
        script = Script(*scenario)
        client, limiter = ecr(fast, script, throttled=throttled)

        def call(client: Any = client) -> Any:
            return client.batch_delete_image(
                repositoryName="app", imageIds=[{"imageDigest": DIGEST}]
            )

        with capture_logs() as logs:
            outcome = outcome_of(call)
        retried = [e for e in logs if e["event"] == "aws_call_retried"]
        seen.append((outcome, len(script.sent), limiter.counts(), retried))
    assert seen[1] == seen[0]
    _, sent, (taken, _, _), _ = seen[1]
    if throttled:
        assert taken == sent  # a token for each request sent, none for a replayed one


def test_clean_answers_reach_the_rate_limiter() -> None:
    """After throttling, botocore raises the client's send rate again with each success:
    the fast path's successes must reach the limiter as botocore's do."""
    seen = []
    for fast in (False, True):
        client, limiter = ecr(fast, Script(THROTTLED, OK), throttled=True)
        for _ in range(5):
            client.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": DIGEST}])
        seen.append(limiter.counts())
    assert seen[1] == seen[0] == (6, 5, 1)


def test_clean_answers_refill_the_retry_quota() -> None:
    """botocore's retries spend a quota that each success refills a little; calls that
    only ever succeed on the fast path must refill it as botocore's would."""
    capacities = []
    for fast in (False, True):
        script = Script(SERVER)
        client, _ = ecr(fast, script)
        (checker,) = [
            h.__self__
            for h in client.meta.events._emitter._handlers.prefix_search(
                "after-call.ecr.BatchDeleteImage"
            )
            if isinstance(getattr(h, "__self__", None), standard.RetryQuotaChecker)
        ]
        with pytest.raises(ClientError):  # botocore gives up: its retries spent quota
            client.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": DIGEST}])
        spent = checker._quota.available_capacity
        script.outcomes = [OK]
        for _ in range(5):
            client.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": DIGEST}])
        capacities.append((spent, checker._quota.available_capacity))
    assert capacities[1] == capacities[0]
    spent, refilled = capacities[1]
    assert spent < 500 and refilled == spent + 5


@pytest.mark.parametrize(
    ("retries", "script"),
    [
        ({"mode": "adaptive", "max_attempts": 10}, Script(THROTTLED, OK)),
        ({"mode": "standard", "max_attempts": 3}, Script(THROTTLED, OK)),
        ({"mode": "legacy"}, Script(OK)),  # its backoff would wait: no retry here
    ],
)
def test_the_fast_path_works_with_any_retry_mode(retries: dict[str, Any], script: Script) -> None:
    from botocore.config import Config

    client = Clients().client("ecr", REGION, lane="x", config=Config(retries=retries))
    client._endpoint.http_session = script
    assert client.describe_images.__module__ == "cleaner.aws.fast_calls"
    result = client.batch_delete_image(repositoryName="app", imageIds=[{"imageDigest": DIGEST}])
    assert result["imageIds"] == CLEAN["BatchDeleteImage"]["imageIds"]
    assert result["ResponseMetadata"]["RetryAttempts"] == len(script.sent) - 1


def test_other_services_and_calls_keep_botocore() -> None:
    clients = Clients()
    assert not fast_calls.install(clients.client("sts", REGION), _utc_timestamp)
    client = clients.client("ecr", REGION)
    assert client.describe_repositories.__module__ != "cleaner.aws.fast_calls"
    assert Clients(fast_calls=False).client("ecr", REGION).batch_delete_image.__module__ == (
        "botocore.client"
    )
    assert CLIENT_CONFIG.retries is not None and CLIENT_CONFIG.retries["mode"] == "adaptive"


def test_a_client_without_an_endpoint_fails_per_call_as_before() -> None:
    from botocore.exceptions import EndpointResolutionError

    client = Clients(fast_calls=False).client("ecr", REGION)

    def unresolvable(*_: Any, **__: Any) -> Any:
        raise EndpointResolutionError(msg="no endpoint for these settings")

    client._resolve_endpoint_ruleset = unresolvable
    assert not fast_calls.install(client, _utc_timestamp)
    with pytest.raises(EndpointResolutionError):
        client.describe_images(repositoryName="app")

"""The hot ECR calls without botocore's per-call machinery, and botocore itself for
anything but a clean answer.

A call through a botocore client validates and serialises its parameters, resolves the
endpoint, builds the request through a dozen events, signs it, sends it and parses the
answer: for a re-describe or a delete of 100 images, most of the client's CPU goes to
that machinery rather than to the bytes (measured with bench/call_cost.py). Listing
and deleting make most of a run's calls.

Here a hot call (`HOT_CALLS`) sends the same request with less work:

1. the body is `json.dumps` of the parameters, which is what botocore's JSON serializer
   writes for the cleaner's own well-formed parameters; the rest of the request (URL
   from the client's endpoint resolution, so AWS_ENDPOINT_URL, FIPS and dual-stack
   settings hold; X-Amz-Target, Content-Type, User-Agent) is built once per operation
   by botocore's own serializer and endpoint resolver;
2. the client's request signer signs it (SigV4 with the client's credentials, which
   renew themselves when they come from an assumed role);
3. `before-send` is emitted as botocore emits it: the adaptive retry mode's rate
   limiter waits for a token there;
4. the client's HTTP session sends it (its connection pool, proxies, TLS, timeouts);
5. an HTTP 200 whose body is a JSON object is parsed by the walk compiled from the
   service model (fast_parse.compile_shape), then `needs-retry` and `after-call` are
   emitted as botocore emits them for a success (the rate limiter measures the send
   rate and raises it again after throttling; the retry quota refills).

Anything else (an error status, throttling, a body that is not a JSON object, a
connection error, a timeout) becomes the first attempt of the client's own method,
replayed (cleaner/aws/replay.py): botocore answers its first `before-send` with what
was received instead of sending again, then parses it, logs and retries it
(cleaner/aws/retries.py), feeds it to the rate limiter and raises its error, as if it
had sent the request itself. Nothing is sent twice by this module: a BatchDeleteImage
is repeated only where botocore repeats it anyway (its retries of throttling, 5xx and
connection errors).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSRequest, prepare_request_dict
from botocore.exceptions import BotoCoreError
from botocore.handlers import add_recursion_detection_header
from botocore.hooks import first_non_none_response
from botocore.serialize import create_serializer
from botocore.utils import lowercase_dict
from botocore.validate import ParamValidator

from cleaner.aws import replay
from cleaner.aws.fast_parse import Convert, Unsupported, compile_shape
from cleaner.aws.replay import Gate, Replay

# The calls a run makes by the thousand: listing pages and re-describes, index
# manifests, deletions.
HOT_CALLS = ("DescribeImages", "BatchGetImage", "BatchDeleteImage")
# json.dumps's output (botocore's serializer writes the body with it), without its check
# for cycles (parameters the cleaner builds have none): a fifth less CPU for 100 ids.
_BODY = json.JSONEncoder(check_circular=False)


class _Operation:
    """What every call of one operation on one client shares: the request as botocore
    builds it with an empty body, the context it signs with, the compiled parser."""

    def __init__(self, client: Any, name: str, convert: Convert) -> None:
        model = client.meta.service_model.operation_model(name)
        service = client.meta.service_model.service_id.hyphenize()
        self.name = name
        self.model = model
        self.convert = convert
        self.botocore_method: Callable[..., Any] = getattr(client, _method_name(client, name))
        self.before_send = f"before-send.{service}.{name}"
        self.needs_retry = f"needs-retry.{service}.{name}"
        self.after_call = f"after-call.{service}.{name}"
        # The request context BaseClient._make_api_call starts from.
        context: dict[str, Any] = {
            "client_region": client.meta.region_name,
            "client_config": client.meta.config,
            "has_streaming_input": model.has_streaming_input,
            "auth_type": model.resolved_auth_type,
            "unsigned_payload": model.unsigned_payload,
            "auth_options": client.meta.service_model.metadata.get("auth"),
        }
        url, headers, properties = client._resolve_endpoint_ruleset(model, {}, context)
        if properties:
            context["endpoint_properties"] = properties
        request = create_serializer(model.metadata["protocol"], include_validation=False)
        request_dict = request.serialize_to_request({}, model)
        request_dict["headers"].update(headers)
        prepare_request_dict(
            request_dict,
            endpoint_url=url,
            context=context,
            user_agent=client._user_agent_creator.to_string(),
        )
        self.method: str = request_dict["method"]
        self.url: str = request_dict["url"]
        self.headers: dict[str, str] = request_dict["headers"]
        self.context = context
        self.input_shape = model.input_shape
        self.validator = ParamValidator() if client.meta.config.parameter_validation else None
        attempts = client.meta.config.retries.get("total_max_attempts")
        self.attempt_header = f"attempt=1; max={attempts}" if attempts else "attempt=1"

    def invalid(self, params: dict[str, Any]) -> bool:
        """Whether botocore's parameter validation would reject `params`, checking list
        lengths and the first entry of each list only (the cleaner builds the rest alike,
        and checking 100 image ids cost as much as sending them)."""
        if self.validator is None:
            return False
        sample = {}
        for key, value in params.items():
            if isinstance(value, list) and len(value) > 1:
                member = self.input_shape.members.get(key)
                if member is None:
                    return True
                low, high = member.metadata.get("min", 0), member.metadata.get("max", len(value))
                if not low <= len(value) <= high:
                    return True
                value = value[:1]
            sample[key] = value
        return bool(self.validator.validate(sample, self.input_shape).has_errors())


class FastCalls:
    """The fast path of one ECR client (see the module's docstring)."""

    def __init__(self, client: Any, gate: Gate) -> None:
        self.client = client
        self.gate = gate
        self.events = client.meta.events
        self.signer = client._request_signer
        self.endpoint = client._endpoint

    def call(self, operation: _Operation, params: dict[str, Any]) -> Any:
        if operation.invalid(params):  # botocore raises its ParamValidationError; nothing sent
            return operation.botocore_method(**params)
        body = _BODY.encode(params).encode()
        headers = dict(operation.headers)
        add_recursion_detection_header({"headers": headers})
        request = AWSRequest(method=operation.method, url=operation.url, data=body, headers=headers)
        request.context = context = dict(operation.context)
        if "signing" in context:  # the signer may add to it
            context["signing"] = dict(context["signing"])
        # Errors while signing (no credentials, a failed renewal) are raised here as
        # botocore raises them: nothing was sent.
        self.signer.sign(operation.name, request)
        # Added after signing, as botocore adds them: they are not signed.
        request.headers["amz-sdk-invocation-id"] = str(uuid.uuid4())
        request.headers["amz-sdk-request"] = operation.attempt_header
        prepared = request.prepare()
        try:
            http = first_non_none_response(
                self.events.emit(operation.before_send, request=prepared)
            )
            if http is None:
                http = self.endpoint.http_session.send(prepared)
        except Exception as exc:  # what botocore's Endpoint hands to its retry handlers
            return self._replay(operation, params, Replay(operation.before_send, exception=exc))
        parsed = _parsed(operation.convert, http)
        if parsed is None:
            return self._replay(operation, params, Replay(operation.before_send, response=http))
        request_dict = {
            "method": operation.method,
            "url": operation.url,
            "url_path": "/",
            "query_string": "",
            "headers": request.headers,
            "body": body,
            "context": context,
        }
        retry = first_non_none_response(
            self.events.emit(
                operation.needs_retry,
                response=(http, parsed),
                endpoint=self.endpoint,
                operation=operation.model,
                attempts=1,
                caught_exception=None,
                request_dict=request_dict,
            )
        )
        if retry:  # never for an ECR 200 under botocore's retry rules; if so, botocore's call
            return self._replay(operation, params, Replay(operation.before_send, response=http))
        self.events.emit(
            operation.after_call,
            http_response=http,
            parsed=parsed,
            model=operation.model,
            context=context,
        )
        return parsed

    def _replay(self, operation: _Operation, params: dict[str, Any], answer: Replay) -> Any:
        with self.gate.replaying(answer):
            return operation.botocore_method(**params)


def _parsed(convert: Convert, http: Any) -> dict[str, Any] | None:
    """The answer as botocore's parser would give it, or None unless it is a 200 with a
    JSON object for a body."""
    if http.status_code != 200:
        return None
    try:
        document = json.loads(http.content)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    parsed: dict[str, Any] = convert(document)
    headers = http.headers
    metadata: dict[str, Any] = {}
    if "x-amzn-requestid" in headers:
        metadata["RequestId"] = headers["x-amzn-requestid"]
    metadata["HTTPStatusCode"] = 200
    metadata["HTTPHeaders"] = lowercase_dict(headers)
    metadata["RetryAttempts"] = 0
    parsed["ResponseMetadata"] = metadata
    return parsed


def _method_name(client: Any, operation: str) -> str:
    names: dict[str, str] = {v: k for k, v in client.meta.method_to_api_mapping.items()}
    return names[operation]


def install(client: Any, timestamp: Convert, operations: tuple[str, ...] = HOT_CALLS) -> bool:
    """Send `operations` of this ECR client the fast way: its methods for them are
    replaced, on this client only, by the fast path. False (and the client untouched)
    where this cannot be done exactly: a protocol other than JSON, a retry setup this
    module does not know, an operation with traits the fast path does not reproduce."""
    model = client.meta.service_model
    if model.resolved_protocol != "json" or not all(hasattr(client, a) for a in _CLIENT_PARTS):
        return False
    chosen: list[_Operation] = []
    for name in operations:
        if name not in model.operation_names or not _plain(model.operation_model(name)):
            continue
        try:
            convert = compile_shape(model.operation_model(name).output_shape, timestamp)
        except Unsupported:
            continue
        if convert is None:
            continue
        try:
            chosen.append(_Operation(client, name, convert))
        except BotoCoreError:  # no endpoint for these settings: botocore says so per call
            continue
    if not chosen:
        return False
    gate = replay.install_gate(client)
    if gate is None:
        return False
    fast = FastCalls(client, gate)
    for operation in chosen:
        setattr(client, _method_name(client, operation.name), _method(fast, operation))
    return True


# What the fast path uses of a botocore client beyond its public interface (the
# container image pins botocore; tests/test_fast_calls.py checks each release).
_CLIENT_PARTS = ("_request_signer", "_endpoint", "_resolve_endpoint_ruleset", "_user_agent_creator")


def _method(fast: FastCalls, operation: _Operation) -> Callable[..., Any]:
    def call(**params: Any) -> Any:
        return fast.call(operation, params)

    call.__name__ = _method_name(fast.client, operation.name)
    call.__doc__ = f"{operation.name}, sent by cleaner.aws.fast_calls."
    return call


def _plain(model: Any) -> bool:
    """Whether botocore builds this operation's request from the parameters alone (no
    endpoint parameters from them, no host prefix, checksum, compression or stream)."""
    return not (
        model.static_context_parameters
        or model.context_parameters
        or getattr(model, "operation_context_parameters", None)
        or model.endpoint
        or model.http_checksum
        or model.http_checksum_required
        or model.request_compression
        or model.has_streaming_input
        or model.has_streaming_output
        or model.has_event_stream_output
        or model.output_shape is None
        or model.is_endpoint_discovery_operation
        or model.http.get("requestUri", "/") != "/"
    )

"""A cheaper response parser for the hot read-only ECR calls, same result as botocore's.

botocore walks every response through its generic shape parser: one `DescribeImages`
page of 1,000 images cost 7.6 ms that way against under 2 ms for `json.loads` and a
walk compiled once from the same service model (measured with bench/parse_cost.py).
Listing and re-describing are most of a run's calls, so this was a fifth of the
client's CPU.

Only parsing changes. The call still goes through botocore — parameters, signing,
endpoint resolution, retries, the adaptive rate limiter, error parsing — and the hook
steps aside for anything but a successful JSON answer. It registers on botocore's
`before-parse` event: it parses the body itself into `customized_response_dict`, which
botocore merges into its result, and leaves botocore an empty body to parse (so
ResponseMetadata is still botocore's own).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

# The calls worth it: the inventory's pages, the executor's re-describe, the index
# manifests, the repository listing. All read-only, all JSON 1.1.
HOT_OPERATIONS = ("DescribeImages", "BatchGetImage", "DescribeRepositories")

Convert = Callable[[Any], Any]


class Unsupported(Exception):
    """A shape this parser does not handle (unions, event streams): botocore parses it."""


def compile_shape(shape: Any, timestamp: Convert) -> Convert | None:
    """A function turning the JSON value of `shape` into what botocore's JSON parser
    returns for it, or None when that is the value itself (strings, numbers, booleans).

    Follows botocore's BaseJSONParser: structures keep only their modelled members,
    under their member names, and drop nulls; lists keep null items; timestamps go
    through `timestamp` (the session's timestamp parser); blobs are base64-decoded."""
    kind = shape.type_name
    if kind == "structure":
        if getattr(shape, "is_document_type", False):
            return None
        if getattr(shape, "is_tagged_union", False):
            raise Unsupported(f"{shape.name}: a union")
        fields = {
            member.serialization.get("name", name): (name, compile_shape(member, timestamp))
            for name, member in shape.members.items()
        }
        return _structure(fields)
    if kind == "list":
        item = compile_shape(shape.member, timestamp)
        if item is None:
            return None
        return lambda values: [None if v is None else item(v) for v in values]
    if kind == "map":
        key = compile_shape(shape.key, timestamp)
        value = compile_shape(shape.value, timestamp)
        if key is None and value is None:
            return None
        k = key or _same
        v = value or _same
        return lambda pairs: {k(a): v(b) for a, b in pairs.items()}
    if kind == "timestamp":
        return timestamp
    if kind == "blob":
        return base64.b64decode
    return None


def _same(value: Any) -> Any:
    return value


def _structure(fields: Mapping[str, tuple[str, Convert | None]]) -> Convert:
    def convert(value: Any) -> Any:
        if value is None:
            return None
        out = {}
        for key, raw in value.items():
            field = fields.get(key)
            if field is None or raw is None:
                continue
            name, member = field
            out[name] = raw if member is None else member(raw)
        return out

    return convert


class _Hook:
    """The before-parse handler of one operation."""

    def __init__(self, convert: Convert) -> None:
        self.convert = convert

    def __call__(
        self,
        response_dict: dict[str, Any],
        customized_response_dict: dict[str, Any],
        **_: Any,
    ) -> None:
        body = response_dict.get("body")
        if response_dict.get("status_code", 500) >= 300 or not isinstance(body, bytes | str):
            return  # errors and anything unexpected: botocore's parser, as always
        try:
            parsed = json.loads(body)
        except ValueError:
            return
        if not isinstance(parsed, dict):
            return
        customized_response_dict.update(self.convert(parsed))
        response_dict["body"] = b"{}"


def register(client: Any, timestamp: Convert, operations: tuple[str, ...] = HOT_OPERATIONS) -> None:
    """Parse `operations`' successful answers on `client` the cheap way. A service
    that is not JSON, or an operation whose shape this cannot follow, keeps botocore's
    parser."""
    model = client.meta.service_model
    if model.resolved_protocol != "json":
        return
    service = model.service_id.hyphenize()
    for name in operations:
        if name not in model.operation_names:
            continue
        shape = model.operation_model(name).output_shape
        if shape is None or shape.event_stream_name:
            continue
        try:
            convert = compile_shape(shape, timestamp)
        except Unsupported:
            continue
        if convert is not None:
            client.meta.events.register(f"before-parse.{service}.{name}", _Hook(convert))

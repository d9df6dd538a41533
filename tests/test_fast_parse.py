"""The compiled parser for hot ECR calls gives exactly what botocore's parser gives."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.parsers import ResponseParserFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner.aws.clients import _utc_timestamp
from cleaner.aws.ecr import image_from_detail
from cleaner.aws.fast_parse import HOT_OPERATIONS, _Hook, compile_shape

MODEL = botocore.session.get_session().get_service_model("ecr")
FACTORY = ResponseParserFactory()
FACTORY.set_parser_defaults(timestamp_parser=_utc_timestamp)

digests = st.integers(min_value=0, max_value=2**256 - 1).map(lambda n: f"sha256:{n:064x}")
tags = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20)
# Epoch seconds as ECR sends them: floats with fractions, sometimes whole numbers.
times = st.one_of(
    st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False).map(lambda t: round(t, 3)),
    st.integers(min_value=0, max_value=4_102_444_800),
)
media_types = st.sampled_from(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


@st.composite
def image_details(draw: st.DrawFn) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "registryId": "123456789012",
        "repositoryName": draw(st.sampled_from(["app", "team/service-0001"])),
        "imageDigest": draw(digests),
        "imagePushedAt": draw(times),
    }
    optional = {
        "imageTags": st.lists(tags, max_size=5),
        "imageSizeInBytes": st.integers(min_value=0, max_value=2**63 - 1),
        "imageManifestMediaType": media_types,
        "artifactMediaType": st.sampled_from(
            ["application/vnd.dev.cosign.artifact.sig.v1+json", "application/spdx+json"]
        ),
        "lastRecordedPullTime": times,
        "subjectManifestDigest": digests,
        "imageStatus": st.sampled_from(["ACTIVE", "ARCHIVED"]),
        # ECR may add fields this model does not know; botocore drops them.
        "someNewField": st.text(max_size=5),
        "imageScanFindingsSummary": st.fixed_dictionaries(
            {"imageScanCompletedAt": times, "findingSeverityCounts": st.just({"HIGH": 2})}
        ),
    }
    for key, strategy in optional.items():
        present = draw(st.sampled_from(["absent", "value", "null"]))
        if present == "value":
            detail[key] = draw(strategy)
        elif present == "null":
            detail[key] = None
    return detail


pages = st.fixed_dictionaries(
    {"imageDetails": st.lists(image_details(), max_size=20)},
    optional={"nextToken": st.text(min_size=1, max_size=30)},
)


def botocore_parse(operation: str, body: bytes, status: int = 200) -> dict[str, Any]:
    shape = MODEL.operation_model(operation).output_shape
    parsed: dict[str, Any] = FACTORY.create_parser("json").parse(
        {"status_code": status, "headers": {"x-amzn-requestid": "r-1"}, "body": body}, shape
    )
    return parsed


def fast_parse(operation: str, body: bytes, status: int = 200) -> dict[str, Any]:
    """What botocore's endpoint does with the hook registered: before-parse, parse, merge."""
    shape = MODEL.operation_model(operation).output_shape
    convert = compile_shape(shape, _utc_timestamp)
    assert convert is not None
    response = {"status_code": status, "headers": {"x-amzn-requestid": "r-1"}, "body": body}
    custom: dict[str, Any] = {}
    _Hook(convert)(response_dict=response, customized_response_dict=custom)
    parsed = botocore_parse(operation, response["body"], status)
    parsed.update(custom)
    return parsed


@pytest.mark.slow  # a property test at full size: ~1-2 s
@settings(max_examples=200, deadline=None)
@given(pages)
def test_describe_images_pages_parse_the_same(page: dict[str, Any]) -> None:
    body = json.dumps(page).encode()
    expected = botocore_parse("DescribeImages", body)
    got = fast_parse("DescribeImages", body)
    assert got == expected
    images = [image_from_detail(d) for d in got["imageDetails"]]
    assert images == [image_from_detail(d) for d in expected["imageDetails"]]


@settings(max_examples=50, deadline=None)
@given(st.lists(digests, max_size=5), st.lists(digests, max_size=3))
def test_batch_get_image_parses_the_same(found: list[str], missing: list[str]) -> None:
    manifest = json.dumps({"manifests": [{"digest": d} for d in found]})
    body = json.dumps(
        {
            "images": [
                {
                    "registryId": "123456789012",
                    "repositoryName": "app",
                    "imageId": {"imageDigest": d},
                    "imageManifest": manifest,
                    "imageManifestMediaType": "application/vnd.oci.image.index.v1+json",
                }
                for d in found
            ],
            "failures": [
                {
                    "imageId": {"imageDigest": d},
                    "failureCode": "ImageNotFound",
                    "failureReason": "Requested image not found",
                }
                for d in missing
            ],
        }
    ).encode()
    assert fast_parse("BatchGetImage", body) == botocore_parse("BatchGetImage", body)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, b'{"__type": "ImageNotFoundException", "message": "gone"}'),
        (500, b"not json at all"),
        (200, b"not json at all"),
        (200, b"[1, 2]"),
        (200, b""),
    ],
)
def test_errors_and_odd_bodies_are_left_to_botocore(status: int, body: bytes) -> None:
    def outcome(parse: Any) -> object:
        try:
            return parse("DescribeImages", body, status)
        except Exception as exc:  # botocore's own reaction, whatever it is
            return type(exc)

    assert outcome(fast_parse) == outcome(botocore_parse)


def test_every_hot_operation_compiles() -> None:
    for operation in HOT_OPERATIONS:
        shape = MODEL.operation_model(operation).output_shape
        assert compile_shape(shape, _utc_timestamp) is not None, operation

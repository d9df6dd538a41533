"""Client CPU to turn one DescribeImages page of 1,000 images into Images: botocore's
generic parser against the compiled one (cleaner/aws/fast_parse.py), both followed by
the same conversion to Image. No network: the page is parsed from bytes.
Usage: python -m bench.parse_cost [repeats]
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench.common import NOW, table, write_result
from cleaner.aws.clients import _utc_timestamp
from cleaner.aws.ecr import image_from_detail
from cleaner.aws.fast_parse import compile_shape


def page(images: int = 1000) -> bytes:
    """A page shaped like ECR's answer (the sandbox's too): tags on most images, a pull
    time on some, referrers with a subject and artifact type."""
    start = NOW.timestamp() - 200 * 86400
    details: list[dict[str, Any]] = []
    for n in range(images):
        detail: dict[str, Any] = {
            "registryId": "123456789012",
            "repositoryName": "team/service-0001",
            "imageDigest": f"sha256:{n:064x}",
            "imageSizeInBytes": 1_000_000 + n,
            "imagePushedAt": start + n * 3600.5,
            "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
            "imageStatus": "ACTIVE",
        }
        if n % 5:
            detail["imageTags"] = [f"feature-b{n % 8}-{n}"]
        if n % 3 == 0:
            detail["lastRecordedPullTime"] = start + n * 4000.25
        if n % 10 == 9:
            detail["subjectManifestDigest"] = f"sha256:{n - 1:064x}"
            detail["artifactMediaType"] = "application/vnd.dev.cosign.artifact.sig.v1+json"
        details.append(detail)
    return json.dumps({"imageDetails": details, "nextToken": "x" * 200}).encode()


def parsers() -> tuple[Any, Any, Any]:
    import botocore.session
    from botocore.parsers import ResponseParserFactory

    model = botocore.session.get_session().get_service_model("ecr")
    shape = model.operation_model("DescribeImages").output_shape
    factory = ResponseParserFactory()
    factory.set_parser_defaults(timestamp_parser=_utc_timestamp)
    return shape, factory.create_parser("json"), compile_shape(shape, _utc_timestamp)


def measure(repeats: int = 50) -> dict[str, Any]:
    body = page()
    shape, botocore_parser, fast = parsers()
    assert fast is not None
    response = {"status_code": 200, "headers": {}, "body": body}

    def slow_path() -> list[Any]:
        parsed = botocore_parser.parse(response, shape)
        return [image_from_detail(d) for d in parsed["imageDetails"]]

    def fast_path() -> list[Any]:
        parsed = fast(json.loads(body))
        return [image_from_detail(d) for d in parsed["imageDetails"]]

    assert slow_path() == fast_path()
    result: dict[str, Any] = {"images_per_page": 1000, "repeats": repeats}
    for name, fn in (("botocore", slow_path), ("compiled", fast_path)):
        best = float("inf")
        for _ in range(repeats):
            started = time.process_time()
            fn()
            best = min(best, time.process_time() - started)
        result[f"{name}_ms"] = round(best * 1000, 2)
    return result


def main(repeats: int = 50) -> dict[str, Any]:
    result = measure(repeats)
    print(
        table(
            f"one DescribeImages page of 1,000 images -> Images (best of {repeats}, CPU time)",
            ["parser", "ms per page"],
            [["botocore", result["botocore_ms"]], ["compiled", result["compiled_ms"]]],
        )
    )
    write_result("parse_cost", result)
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)

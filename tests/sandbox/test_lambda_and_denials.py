"""Beyond ECR: Lambda resolves image URIs against the sandbox's ECR at deployment, and
any JSON-protocol operation can be made to answer an error."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cleaner.sandbox import Sandbox, Seeder

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


@pytest.fixture
def aws(sb: Sandbox) -> Iterator[Sandbox]:
    """moto's own state (Lambda, IAM, ECS) is cleared too, before and after."""
    reset_moto(sb)
    yield sb
    reset_moto(sb)


def reset_moto(sb: Sandbox) -> None:
    request = urllib.request.Request(f"{sb.endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request) as response:  # 127.0.0.1 only
        response.read()


@pytest.fixture
def lam(aws: Sandbox) -> Any:
    return aws.client("lambda")


@pytest.fixture
def role(aws: Sandbox) -> str:
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    answer = aws.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=policy)
    return str(answer["Role"]["Arn"])


def resolved(lam: Any, qualifier: str | None = None) -> str:
    options = {"Qualifier": qualifier} if qualifier else {}
    return str(lam.get_function(FunctionName="fn", **options)["Code"]["ResolvedImageUri"])


def test_a_function_runs_the_digest_its_tag_had_at_deployment(
    aws: Sandbox, lam: Any, role: str
) -> None:
    repo = Seeder(aws.store).repository("app")
    first, second = repo.image(["v1"]), repo.image(["v2"])
    lam.create_function(
        FunctionName="fn",
        Role=role,
        Code={"ImageUri": f"{HOST}/app:v1"},
        PackageType="Image",
        Publish=True,
    )
    repo.tag("v1", second)  # the tag moves on; the function does not
    assert resolved(lam) == f"{HOST}/app@{first}"
    assert resolved(lam, "1") == f"{HOST}/app@{first}"

    lam.update_function_code(FunctionName="fn", ImageUri=f"{HOST}/app@{second}")
    published = lam.publish_version(FunctionName="fn")["Version"]
    assert resolved(lam) == f"{HOST}/app@{second}"
    assert resolved(lam, published) == f"{HOST}/app@{second}"
    assert resolved(lam, "1") == f"{HOST}/app@{first}"


@pytest.mark.parametrize("uri", [f"{HOST}/app:missing", f"{HOST}/absent:v1", "ghcr.io/app:v1"])
def test_an_image_that_does_not_exist_is_refused(
    aws: Sandbox, lam: Any, role: str, uri: str
) -> None:
    Seeder(aws.store).repository("app").image(["v1"])
    with pytest.raises(ClientError) as caught:
        lam.create_function(
            FunctionName="fn", Role=role, Code={"ImageUri": uri}, PackageType="Image"
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_an_operation_can_be_denied_until_reset(aws: Sandbox) -> None:
    ecs = aws.client("ecs")
    aws.reject("ecs", "ListClusters")
    with pytest.raises(ClientError) as caught:
        ecs.list_clusters()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    ecs.create_cluster(clusterName="prod")  # other operations still work
    aws.reset()
    assert len(ecs.list_clusters()["clusterArns"]) == 1

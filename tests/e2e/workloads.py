"""ECS and Lambda workloads in the sandbox (moto's ECS and Lambda over the same HTTP
endpoint as the sandbox's ECR), for the in-use tests."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from cleaner.sandbox import Sandbox

ACCOUNT = "123456789012"
REGION = "us-east-1"


def registry_host(account: str = ACCOUNT, region: str = REGION) -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def reset_moto(sb: Sandbox) -> None:
    """moto's own state (ECS, Lambda, IAM) outlives Sandbox.reset(): clear it too."""
    request = urllib.request.Request(f"{sb.endpoint_url}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request) as response:  # 127.0.0.1 only
        response.read()


class Workloads:
    """Clusters, tasks, services and functions in one account and region."""

    def __init__(
        self,
        sb: Sandbox,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
        credentials: dict[str, str] | None = None,
    ) -> None:
        """`credentials` (from AssumeRole) reach another account: moto, like the
        sandbox's ECR, takes the account from the access key."""
        self.account = account
        self.region = region

        def client(service: str) -> Any:
            if credentials is None:
                return sb.client(service, region=region)
            import boto3

            return boto3.session.Session().client(
                service,
                region_name=region,
                endpoint_url=sb.endpoint_url,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )

        self.ecs = client("ecs")
        self.lam = client("lambda")
        self.iam = client("iam")
        self._role: str | None = None

    def image(self, repository: str, tag: str | None = None, digest: str | None = None) -> str:
        text = f"{registry_host(self.account, self.region)}/{repository}"
        return text + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")

    def task_definition(self, family: str, *images: str) -> str:
        containers = [
            {"name": f"c{i}", "image": img, "memory": 128} for i, img in enumerate(images)
        ]
        answer = self.ecs.register_task_definition(family=family, containerDefinitions=containers)
        return str(answer["taskDefinition"]["taskDefinitionArn"])

    def task(self, cluster: str, image: str, *, pulled: str | None = None) -> str:
        """A running task of `image`; `pulled`: the digest ECS reports it pulled (moto
        never fills containers[].imageDigest, so it is set on moto's model directly)."""
        self.ecs.create_cluster(clusterName=cluster)
        definition = self.task_definition(f"{cluster}-task", image)
        (task,) = self.ecs.run_task(
            cluster=cluster, taskDefinition=definition, launchType="FARGATE"
        )["tasks"]
        if pulled is not None:
            self._moto_task(cluster, task["taskArn"]).containers[0].image_digest = pulled
        return str(task["taskArn"])

    def stop(self, cluster: str, task: str) -> None:
        self.ecs.stop_task(cluster=cluster, task=task)

    def service(self, cluster: str, name: str, image: str) -> str:
        """A service with no task running (moto starts none): only its definition says
        which image it will run."""
        self.ecs.create_cluster(clusterName=cluster)
        definition = self.task_definition(name, image)
        self.ecs.create_service(
            cluster=cluster, serviceName=name, taskDefinition=definition, desiredCount=1
        )
        return definition

    def function(self, name: str, image: str, *, publish: bool = True) -> str:
        answer = self.lam.create_function(
            FunctionName=name,
            Role=self._lambda_role(),
            Code={"ImageUri": image},
            PackageType="Image",
            Publish=publish,
        )
        return str(answer["Version"])

    def update_function(self, name: str, image: str, *, publish: bool = True) -> str:
        answer = self.lam.update_function_code(FunctionName=name, ImageUri=image, Publish=publish)
        return str(answer["Version"])

    def zip_function(self, name: str) -> None:
        self.lam.create_function(
            FunctionName=name,
            Role=self._lambda_role(),
            Runtime="python3.12",
            Handler="app.handler",
            Code={"ZipFile": _tiny_zip()},
        )

    def _lambda_role(self) -> str:
        if self._role is None:
            policy = json.dumps({"Version": "2012-10-17", "Statement": []})
            answer = self.iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=policy)
            self._role = str(answer["Role"]["Arn"])
        return self._role

    def _moto_task(self, cluster: str, arn: str) -> Any:
        from moto.ecs.models import ecs_backends

        return ecs_backends[self.account][self.region].tasks[cluster][arn]


def _tiny_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()

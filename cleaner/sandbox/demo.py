"""A small, realistic registry for `ecr-cleaner demo` and `ecr-cleaner sandbox --seed demo`,
and the Kubernetes cluster that runs some of its images; and the repository with an ECR
lifecycle policy that `ecr-cleaner demo --lifecycle` shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cleaner.sandbox.kube_seed import KubeSeeder
from cleaner.sandbox.seed import Seeder
from cleaner.sandbox.store import Store

DEMO_CLUSTER = "demo"
CLUSTER_MANIFESTS = """\
# Pinned to a build by digest long ago: no tag names it any more.
apiVersion: apps/v1
kind: Deployment
metadata: {{name: legacy-batch, namespace: batch}}
spec:
  replicas: 1
  template:
    spec:
      containers: [{{name: batch, image: "{api}@{legacy}"}}]
"""


def seed_demo(store: Store, now: datetime, cluster: KubeSeeder | None = None) -> None:
    """Feature-branch builds, releases, untagged leftovers, multi-arch images with
    attestations, cosign signatures, an old image that was pulled yesterday, a build
    that production runs (tagged `prod`), and an untagged build that a Deployment of
    `cluster` runs by digest. Times are relative to `now`."""
    day = timedelta(days=1)
    seeder = Seeder(store)

    api = seeder.repository("team-a/api")
    for n in range(12):
        for branch in ("login", "search"):
            api.image([f"feature-{branch}-{n}"], pushed_at=now - (40 - 3 * n) * day)
    for minor in range(6):
        release = api.image([f"v1.{minor}.0"], pushed_at=now - (200 - 30 * minor) * day)
        api.cosign(release, pushed_at=now - (200 - 30 * minor) * day)
    latest = api.image(["latest", "v1.6.0"], pushed_at=now - 2 * day)
    api.cosign(latest, pushed_at=now - 2 * day)
    for n in range(8):
        api.image(pushed_at=now - (60 - n) * day)
    legacy = api.image(pushed_at=now - 400 * day)  # run by a Deployment, see below
    # An old release that a batch job still pulls: only pull-time protection saves it.
    api.image(["v0.9.0"], pushed_at=now - 420 * day, last_pulled=now - day)

    web = seeder.repository("team-a/web")
    for n in range(5):
        web.index([f"2026.{n + 1}"], attestations=True, pushed_at=now - (150 - 30 * n) * day)
    current = web.index(["latest"], attestations=True, pushed_at=now - day)
    web.cosign(current.digest, pushed_at=now - day)
    # A multi-arch build whose tag moved on: an untagged index with its own platforms.
    web.index(attestations=True, pushed_at=now - 20 * day)

    base = seeder.repository("team-a/base-images")
    for n in range(4):
        base.image([f"bookworm-{n}"], pushed_at=now - (300 - 60 * n) * day)

    worker = seeder.repository("team-b/worker")
    for n in range(1, 11):
        tags = [f"build-{n}"] + (["prod"] if n == 3 else [])
        worker.image(tags, pushed_at=now - (100 - 10 * n) * day)
    worker.image(pushed_at=now - 3 * day)  # an untagged leftover
    if cluster is not None:
        cluster.apply(CLUSTER_MANIFESTS.format(api=api.repo.uri, legacy=legacy))


def seed_lifecycle_demo(sandbox: Any, now: datetime, lifecycle_policy: str) -> None:
    """team-a/api with an ECR lifecycle policy: releases v1.0.0-v1.9.0 and a multi-arch
    v2.0.0-rc1 (whose platform images are untagged to ECR), feature builds, untagged
    leftovers, and an ECS service in cluster `prod` that still runs v1.2.0."""
    day = timedelta(days=1)
    api = Seeder(sandbox.store).repository("team-a/api")
    for minor in range(10):
        api.image([f"v1.{minor}.0"], pushed_at=now - (200 - 20 * minor) * day)
    api.index(["v2.0.0-rc1"], attestations=True, pushed_at=now - 20 * day)
    for n in range(6):
        api.image([f"feature-login-{n}"], pushed_at=now - (45 - 6 * n) * day)
    for n in range(4):
        api.image(pushed_at=now - (40 - 8 * n) * day)
    api.lifecycle_policy(lifecycle_policy)
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="prod")
    image = f"{api.repo.uri}:v1.2.0"
    definition = ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": image, "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="prod", serviceName="api", taskDefinition=definition, desiredCount=2)

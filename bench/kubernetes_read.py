"""Kubernetes in-use read: seed a cluster of N pods (Deployments of 10 replicas, each
with its ReplicaSet, as controllers make them), then read it as the `kubernetes`
source does, over HTTP with the official client, and count the calls per resource.

Usage: python -m bench.kubernetes_read [N]   (default 10000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from cleaner.inuse.kinds.kubernetes import PAGE_SIZE, read_kubernetes
from cleaner.sandbox import Sandbox, Seeder

REPLICAS = 10


def deployment(n: int, image: str) -> dict[str, Any]:
    container = {"name": "app", "image": image, "ports": [{"containerPort": 8080}]}
    sidecar = {"name": "proxy", "image": "public.ecr.aws/envoy/envoy:v1.31"}
    return {
        "kind": "Deployment",
        "metadata": {"name": f"svc-{n:04d}", "namespace": f"team-{n % 20:02d}"},
        "spec": {
            "replicas": REPLICAS,
            "template": {"spec": {"containers": [container, sidecar]}},
        },
    }


def main(pods: int) -> dict[str, Any]:
    with Sandbox() as sandbox, tempfile.TemporaryDirectory() as scratch:
        repo = Seeder(sandbox.store).repository("app")
        for n in range(10):
            repo.image([f"v{n}"])
        started = time.perf_counter()
        seeder = sandbox.kube_seeder("bench")
        uri = repo.repo.uri
        for n in range(max(pods // REPLICAS, 1)):
            seeder.add(deployment(n, f"{uri}:v{n % 10}"))
        seeded = time.perf_counter()
        kubeconfig = sandbox.kubeconfig(Path(scratch) / "kubeconfig")
        usages = read_kubernetes({"kubeconfig": str(kubeconfig)})
        read = time.perf_counter()
        cluster = sandbox.kube.cluster("bench")
        calls = Counter(c.resource for c in cluster.calls)
        # Again, with the client imported: what every later run of `serve` pays.
        read_kubernetes({"kubeconfig": str(kubeconfig)})
        again = time.perf_counter()
        count = len(cluster.objects["pods"])
    result = {
        "pods": count,
        "page_size": PAGE_SIZE,
        "calls": dict(calls),
        "calls_total": sum(calls.values()),
        "references": len(usages),
        "seed_seconds": round(seeded - started, 2),
        "read_seconds": round(read - seeded, 2),
        "read_again_seconds": round(again - read, 2),
    }
    print(f"pods                  {count} (page size {PAGE_SIZE})")
    print(f"calls per resource    {dict(calls)}")
    print(f"calls in all          {result['calls_total']}")
    print(f"references read       {len(usages)}")
    print(f"seed                  {result['seed_seconds']:.2f} s")
    print(f"read (HTTP, client)   {result['read_seconds']:.2f} s (the first imports the client)")
    print(f"read again            {result['read_again_seconds']:.2f} s")
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

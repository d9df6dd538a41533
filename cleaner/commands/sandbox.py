"""`ecr-cleaner sandbox`: serve the embedded ECR sandbox on 127.0.0.1 until interrupted.

The sandbox is an extra (`pip install 'ecr-cleaner[sandbox]'`): it and the demo say so
when it is missing, instead of failing on an import.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

from cleaner.commands.base import Command, UsageError
from cleaner.exitcodes import ExitCode


def require_sandbox_extra(command: str) -> None:
    try:
        import moto  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"{command} needs the embedded sandbox, which is not installed: "
            "pip install 'ecr-cleaner[sandbox]'"
        ) from exc


def _seed(text: str) -> str:
    from cleaner.sandbox.bulk import seed_option

    return seed_option(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument(
        "--seed",
        type=_seed,
        metavar="demo|bulk:REPOSxIMAGES",
        help="fill it with the demo registry, or REPOS repositories of about IMAGES images "
        "each (e.g. bulk:50x2000)",
    )


def sandbox(args: argparse.Namespace) -> int:
    require_sandbox_extra("sandbox")
    return serve_sandbox(args.port, args.seed)


def serve_sandbox(port: int, seed: str | None) -> int:
    import tempfile

    from cleaner.sandbox import Sandbox
    from cleaner.sandbox.bulk import seed_named
    from cleaner.sandbox.demo import DEMO_CLUSTER, seed_demo

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(port=port) as sandbox, tempfile.TemporaryDirectory() as scratch:
        if seed == "demo":
            seed_demo(sandbox.store, datetime.now(UTC), sandbox.kube_seeder(DEMO_CLUSTER))
        elif seed is not None:
            seed_named(sandbox.store, seed, datetime.now(UTC), lambda line: print(line, flush=True))
        print(f"ECR sandbox listening on {sandbox.endpoint_url}", flush=True)
        print("Point the AWS SDKs and CLI, and the kubernetes source, at it with:", flush=True)
        variables = sandbox.environment()
        if sandbox.kube.clusters:
            variables["KUBECONFIG"] = str(sandbox.kubeconfig(Path(scratch) / "kubeconfig"))
        for name, value in variables.items():
            print(f"export {name}={value}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    print("sandbox stopped", file=sys.stderr)
    return ExitCode.OK


COMMAND = Command(
    name="sandbox",
    help="serve the embedded ECR sandbox on 127.0.0.1 until interrupted",
    add_arguments=add_arguments,
    run=sandbox,
)

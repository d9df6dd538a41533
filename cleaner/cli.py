"""Command line: parse arguments, build the clock, clients and logger, hand over."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from cleaner import __version__

EXIT_OK = 0
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecr-cleaner", description="Scheduled image-retention cleaner for Amazon ECR."
    )
    parser.add_argument("--version", action="version", version=f"ecr-cleaner {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sandbox = commands.add_parser(
        "sandbox", help="serve the embedded ECR sandbox on 127.0.0.1 until interrupted"
    )
    sandbox.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    sandbox.add_argument("--seed", choices=["demo"], help="fill it with the demo registry")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":
        return serve_sandbox(args.port, args.seed)
    return EXIT_USAGE


def serve_sandbox(port: int, seed: str | None) -> int:
    from cleaner.sandbox import Sandbox
    from cleaner.sandbox.demo import seed_demo

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Sandbox(port=port) as sandbox:
        if seed == "demo":
            seed_demo(sandbox.store, datetime.now(UTC))
        print(f"ECR sandbox listening on {sandbox.endpoint_url}", flush=True)
        print("Point the AWS SDKs and CLI at it with:", flush=True)
        for name, value in sandbox.environment().items():
            print(f"export {name}={value}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    print("sandbox stopped", file=sys.stderr)
    return EXIT_OK

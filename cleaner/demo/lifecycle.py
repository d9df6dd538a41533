"""`ecr-cleaner demo --lifecycle`: a repository's own ECR lifecycle policy, previewed in
well under a second with the protections ECR lacks, then audited: the images ECR itself
would expire that are in use, or that a live multi-arch image needs.

Everything runs against the embedded sandbox (no AWS account): an ECS service runs an
old release, and the repository carries the lifecycle policy in ecr-lifecycle.json.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TextIO

from cleaner import logs
from cleaner.aws.clients import Clients
from cleaner.config.load import load_config
from cleaner.demo.run import EXIT_USAGE, sandbox_environment
from cleaner.report import audit as audit_report
from cleaner.report.render import to_table
from cleaner.run.audit import audit_once
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once

POLICY_FILE = "lifecycle.yaml"
LIFECYCLE_FILE = "ecr-lifecycle.json"


def _packaged(name: str) -> str:
    return resources.files("cleaner.demo").joinpath(name).read_text(encoding="utf-8")


def run_lifecycle_demo(
    log_format: str = "auto",
    log_level: str = "warning",
    *,
    out: TextIO | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    out = out or sys.stdout

    def say(line: str = "") -> None:
        print(line, file=out, flush=True)

    try:
        from cleaner.sandbox import Sandbox
        from cleaner.sandbox.demo import seed_lifecycle_demo
    except ImportError as exc:  # moto is an extra
        say(f"ecr-cleaner demo needs the sandbox extra ({exc.name} is missing):")
        say("  pip install 'ecr-cleaner[sandbox]'")
        return EXIT_USAGE
    logs.configure(log_format, log_level)
    now = clock()
    policy_text, lifecycle_text = _packaged(POLICY_FILE), _packaged(LIFECYCLE_FILE)
    with (
        tempfile.TemporaryDirectory() as folder,
        Sandbox() as sandbox,
        sandbox_environment(sandbox.environment()),
    ):
        (Path(folder) / POLICY_FILE).write_text(policy_text, encoding="utf-8")
        (Path(folder) / LIFECYCLE_FILE).write_text(lifecycle_text, encoding="utf-8")
        seed_lifecycle_demo(sandbox, now, lifecycle_text)
        config = load_config(Path(folder) / POLICY_FILE)
        say(f"ecr-cleaner demo --lifecycle: an embedded ECR sandbox at {sandbox.endpoint_url}")
        say("team-a/api: releases v1.0.0-v1.9.0, a multi-arch v2.0.0-rc1, feature builds,")
        say("untagged leftovers; the ECS service `api` (cluster prod) still runs v1.2.0.")
        _heading(say, f"1. The repository's ECR lifecycle policy ({LIFECYCLE_FILE})")
        say(lifecycle_text.rstrip())
        _heading(say, f"2. The policy file ({POLICY_FILE}): ECR's rules, our protections")
        say(policy_text.rstrip())
        _heading(say, "3. The preview: what ECR's rules would expire, and what stays, and why")
        started = time.perf_counter()
        plan = run_once(config, Clients(), now, RunOptions(dry_run=True)).report
        elapsed = time.perf_counter() - started
        say(to_table(plan).rstrip())
        say(f"(previewed in {elapsed:.2f} s, the registry read included; nothing deleted)")
        _heading(say, "4. The audit: what ECR itself would expire that must stay")
        report = audit_once(config, Clients(), now)
        say(audit_report.to_table(report).rstrip())
    say()
    say(
        f"`ecr-cleaner lifecycle audit` exits {report.exit_code} here: in CI, it stops a "
        "lifecycle policy that would delete what runs."
    )
    return 0


def _heading(say: Callable[[str], None], title: str) -> None:
    say("")
    say(title)
    say("-" * len(title))

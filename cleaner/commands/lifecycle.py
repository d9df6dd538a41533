"""`ecr-cleaner lifecycle export` and `ecr-cleaner lifecycle audit`.

export: each policy (or `--policy NAME`) as the ECR lifecycle policy that does the same
where ECR can express it; what it cannot is listed on stderr. Exit 0 exact, 1
approximate, 2 usage. audit: what the lifecycle policy ECR has on each selected
repository would do to images this policy protects. Exit 1 when anything is at risk.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TextIO

from cleaner.commands.base import (
    Command,
    config_option,
    load_checked,
    logging_options,
    now_option,
    parse_now,
)
from cleaner.config.fields import Issues
from cleaner.config.lifecycle import validate_policy
from cleaner.config.model import Config
from cleaner.exitcodes import ExitCode


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="lifecycle_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="print each policy as an ECR lifecycle policy; what ECR cannot express goes "
        "to stderr (exit 0 exact, 1 approximate)",
    )
    config_option(export)
    export.add_argument("--policy", metavar="NAME", help="only this policy: its bare JSON")
    audit = actions.add_parser(
        "audit",
        help="what ECR's own lifecycle policies would expire that this policy protects "
        "(exit 1 if anything)",
    )
    config_option(audit)
    now_option(audit)
    logging_options(audit)
    audit.add_argument("--format", choices=["table", "json"], default="table")


def lifecycle(args: argparse.Namespace) -> int:
    config = load_checked(args)
    now = parse_now(getattr(args, "now", None), datetime.now(UTC))  # export takes no --now
    return lifecycle_command(args, config, now)


def lifecycle_command(args: argparse.Namespace, config: Config, now: datetime) -> int:
    if args.lifecycle_command == "export":
        return export_command(config, args.policy)
    return audit_command(config, now, args.format, args.log_format, args.log_level)


def export_command(
    config: Config, only: str | None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    from cleaner.core.lifecycle.export import export_policy

    out, err = out or sys.stdout, err or sys.stderr
    names = [p.name for p in config.policies]
    if only is not None and only not in names:
        known = ", ".join(names)
        print(f"ecr-cleaner: error: no policy named {only!r} (policies: {known})", file=err)
        return ExitCode.USAGE
    exported: dict[str, object] = {}
    exact = True
    for policy in config.policies:
        if only is not None and policy.name != only:
            continue
        result = export_policy(policy, config.limits)
        for text in result.notes:
            print(f"note: policy {policy.name!r}: {text}", file=err)
        for text in result.approximations:
            print(f"approximate: policy {policy.name!r}: {text}", file=err)
        verdict = "exact" if result.exact else f"approximate ({len(result.approximations)} above)"
        print(f"policy {policy.name!r}: {verdict}", file=err)
        exact = exact and result.exact
        exported[policy.name] = None if result.policy is None else result.policy.to_json()
        if result.policy is not None and (problem := _ecr_refuses(result.policy.text(indent=2))):
            refused = f"policy {policy.name!r}: ECR would refuse it: {problem}"
            print(f"ecr-cleaner: error: {refused}", file=err)
            return ExitCode.USAGE
    document = exported[only] if only is not None else exported
    if document is not None:
        print(json.dumps(document, indent=2), file=out)
    return ExitCode.OK if exact else ExitCode.FAILURES


def _ecr_refuses(text: str) -> str | None:
    """What ECR's validation says about the exported text (too long, say), or None."""
    issues = Issues()
    validate_policy(issues, "", json.loads(text), text_length=len(text))
    return "; ".join(p.message for p in issues.problems) or None


def audit_command(
    config: Config, now: datetime, output: str, log_format: str, log_level: str
) -> int:
    from cleaner import logs
    from cleaner.aws.clients import Clients
    from cleaner.report.audit import RENDERERS
    from cleaner.run.audit import audit_once

    logs.configure(log_format, log_level)
    report = audit_once(config, Clients(), now)
    sys.stdout.write(RENDERERS[output](report))
    return report.exit_code


COMMAND = Command(
    name="lifecycle",
    help="ECR lifecycle policies: export this policy as one, audit ECR's",
    add_arguments=add_arguments,
    run=lifecycle,
)

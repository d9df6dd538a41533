"""What a notification says: the totals, the savings estimate, failures by code and the
largest repositories, as a JSON document, a Slack message or plain text."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from cleaner.config.notify_model import NotifyOn
from cleaner.core.model import Status
from cleaner.exitcodes import ExitCode, outcome_of
from cleaner.report.model import REPOSITORY_FAILED, SAVINGS_CAVEAT, RunReport
from cleaner.report.summary import count, money, repository_name, size, summary_line

LARGEST = 5  # repositories a message names
SUBJECT_LIMIT = 100  # SNS's limit on a subject


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended. `report` is None when the run raised (`error` says what)."""

    report: RunReport | None
    exit_code: int | None
    stopped_by: str | None = None
    error: str | None = None

    @property
    def outcome(self) -> str:
        return outcome_of(self.exit_code, stopped=self.stopped_by is not None)

    @property
    def failed(self) -> bool:
        """Exit 1 or 3, stopped by a signal, or crashed."""
        failing = (ExitCode.FAILURES, ExitCode.LIMIT)
        return self.exit_code is None or self.exit_code in failing or self.stopped_by is not None

    @property
    def changed(self) -> bool:
        """Anything deleted, archived or untagged (a dry run changes nothing)."""
        if self.report is None or self.report.mode == "plan":
            return False
        s = self.report.summary()
        return s["images_deleted"] + s["images_archived"] + s["tags_removed"] > 0

    def wanted_by(self, on: tuple[NotifyOn, ...]) -> bool:
        return (
            NotifyOn.ALWAYS in on
            or (NotifyOn.FAILURE in on and self.failed)
            or (NotifyOn.DELETIONS in on and self.changed)
        )


def failures_by_code(report: RunReport) -> dict[str, int]:
    """Failed actions by ECR failure code; failed repositories as RepositoryFailed."""
    codes: Counter[str] = Counter()
    for plan in report.repositories:
        if plan.failed:
            codes[REPOSITORY_FAILED] += 1
        for action in plan.actions:
            if action.status is Status.FAILED:
                codes[action.failure_code or "Unknown"] += 1
    return dict(codes.most_common())


def largest_repositories(report: RunReport, limit: int = LARGEST) -> list[dict[str, Any]]:
    """The repositories that reclaimed (or would reclaim) the most bytes."""
    rows: list[dict[str, Any]] = []
    for plan in report.repositories:
        c = report.counts(plan)
        if c.bytes_reclaimed or c.images_deleted or c.tags_removed:
            rows.append(
                {
                    "region": plan.repository.region,
                    "registry_id": plan.repository.registry_id,
                    "repository": repository_name(plan),
                    "images_deleted": c.images_deleted,
                    "tags_removed": c.tags_removed,
                    "bytes_reclaimed": c.bytes_reclaimed,
                }
            )
    rows.sort(key=lambda r: (-int(r["bytes_reclaimed"]), str(r["repository"])))
    return rows[:limit]


def json_payload(run: RunOutcome) -> dict[str, Any]:
    """`format: json`: `summary` is exactly the report's summary object; the rest says
    which run it was and how it ended."""
    report = run.report
    return {
        "source": "ecr-cleaner",
        "mode": report.mode if report else None,
        "outcome": run.outcome,
        "exit_code": run.exit_code,
        "stopped_by": run.stopped_by,
        "error": run.error,
        "now": report.now.isoformat() if report else None,
        "finished_at": report.finished_at.isoformat() if report else None,
        "summary": dict(report.summary()) if report else None,
        "savings_note": f"estimated_monthly_savings_usd is {SAVINGS_CAVEAT}",
        "failures_by_code": failures_by_code(report) if report else {},
        "largest_repositories": largest_repositories(report) if report else [],
        "warnings": list(report.warnings) if report else [],
    }


def subject(run: RunOutcome) -> str:
    mode = run.report.mode if run.report else "run"
    return f"ecr-cleaner {mode}: {run.outcome} (exit {run.exit_code})"[:SUBJECT_LIMIT]


def _savings(report: RunReport) -> str:
    usd = report.summary()["estimated_monthly_savings_usd"]
    return f"Estimated savings: up to {money(usd)} a month ({SAVINGS_CAVEAT})"


def _largest_lines(report: RunReport) -> list[str]:
    return [
        f"{r['repository']} ({r['region']}): {count(r['images_deleted'], 'image')}, "
        f"{count(r['tags_removed'], 'tag')}, {size(r['bytes_reclaimed'])}"
        for r in largest_repositories(report)
    ]


def text_message(run: RunOutcome) -> str:
    """Plain text, for e-mail and SMS subscribers of a topic."""
    lines = [subject(run)]
    report = run.report
    if report is None:
        return "\n".join([*lines, f"The run failed before it finished: {run.error}"]) + "\n"
    lines += [summary_line(report), _savings(report)]
    if run.stopped_by:
        lines.append(f"Stopped early by {run.stopped_by}.")
    codes = failures_by_code(report)
    if codes:
        lines += ["", "Failures by code:", *(f"  {c}: {n}" for c, n in codes.items())]
    largest = _largest_lines(report)
    if largest:
        lines += ["", "Largest repositories:", *(f"  {line}" for line in largest)]
    lines += [f"WARNING: {w}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack_payload(run: RunOutcome) -> dict[str, Any]:
    """A Slack incoming-webhook message: `text` (the notification's one line) and
    blocks with the totals, savings, failures by code and the largest repositories."""
    report = run.report
    header = {"type": "header", "text": {"type": "plain_text", "text": subject(run)}}
    if report is None:
        text = f"{subject(run)}: {run.error}"
        return {"text": text, "blocks": [header, _mrkdwn(f"The run failed: {run.error}")]}
    s = report.summary()
    deleted = "To delete" if report.mode == "plan" else "Deleted"
    fields = [
        ("Repositories", f"{s['repositories']:,}"),
        ("Images scanned", f"{s['images_scanned']:,}"),
        (f"{deleted}", f"{s['images_deleted']:,} images, {s['tags_removed']:,} tags"),
        ("Would reclaim" if report.mode == "plan" else "Reclaimed", size(s["bytes_reclaimed"])),
        ("Savings (upper bound)", f"{money(s['estimated_monthly_savings_usd'])} a month"),
        ("Failures", f"{s['failures']:,}"),
    ]
    blocks: list[dict[str, Any]] = [
        header,
        _mrkdwn(summary_line(report)),
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _savings(report)}]},
    ]
    codes = failures_by_code(report)
    if codes:
        listed = "\n".join(f"• `{c}`: {n}" for c, n in codes.items())
        blocks.append(_mrkdwn(f"*Failures by code*\n{listed}"))
    largest = _largest_lines(report)
    if largest:
        blocks.append(_mrkdwn("*Largest repositories*\n" + "\n".join(f"• {x}" for x in largest)))
    if report.warnings:
        blocks.append(_mrkdwn("\n".join(f":warning: {w}" for w in report.warnings)))
    return {"text": f"{subject(run)}: {summary_line(report)}", "blocks": blocks}

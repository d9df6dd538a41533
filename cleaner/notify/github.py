"""In a GitHub Actions job, the run's markdown summary on the job's summary page."""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from cleaner.report.model import RunReport
from cleaner.report.summary import to_markdown_summary

log = structlog.get_logger("cleaner.notify.github")

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def append_step_summary(report: RunReport, environ: Mapping[str, str]) -> bool:
    """Append the markdown summary to $GITHUB_STEP_SUMMARY if it is set. A failure is
    logged and changes nothing else (the report itself was already written)."""
    path = environ.get(STEP_SUMMARY_ENV)
    if not path:
        return False
    try:
        with open(path, "a", encoding="utf-8") as out:
            out.write(to_markdown_summary(report) + "\n")
    except OSError as exc:
        log.warning("step_summary_not_written", path=path, error=str(exc))
        return False
    return True

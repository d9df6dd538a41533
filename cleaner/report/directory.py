"""`serve --report-dir`: each run's JSON report in a directory, the last N kept."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

from cleaner.report.model import RunReport
from cleaner.report.render import to_json

PREFIX = "report-"


class ReportDirectory:
    def __init__(self, path: Path, keep: int = 30) -> None:
        self.path = path
        self.keep = keep  # 0: keep every report

    def write(self, report: RunReport, run_id: str) -> Path:
        """Write atomically (a reader or a crash never leaves half a report under the
        final name), then delete the oldest reports beyond `keep`."""
        self.path.mkdir(parents=True, exist_ok=True)
        # UTC and fixed width: names sort in time order, which `prune` relies on.
        stamp = report.now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        target = self.path / f"{PREFIX}{stamp}-{run_id}.json"
        temporary = self.path / f".{target.name}.tmp"
        temporary.write_text(to_json(report), encoding="utf-8")
        os.replace(temporary, target)
        self.prune()
        return target

    def reports(self) -> list[Path]:
        """Oldest first."""
        return sorted(self.path.glob(f"{PREFIX}*.json"))

    def prune(self) -> list[Path]:
        reports = self.reports()
        if self.keep <= 0 or len(reports) <= self.keep:
            return []
        old = reports[: len(reports) - self.keep]
        for path in old:
            path.unlink(missing_ok=True)
        return old

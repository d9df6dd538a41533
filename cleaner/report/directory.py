"""`serve --report-dir`: each run's JSON and HTML reports in a directory, the last N
kept, and what serve's index page lists about them."""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from cleaner.report.html import savings_of, to_html
from cleaner.report.model import RunReport

PREFIX = "report-"
# Only names this class writes can be served: a name from a URL is looked up among
# these, never joined to the directory's path.
SERVED = re.compile(r"report-[0-9A-Za-z.-]+\.(json|html)")


@dataclass(frozen=True)
class RunEntry:
    """One run as serve's index page lists it."""

    base: str  # the file name without .json/.html
    now: str  # ISO 8601: the run's clock
    mode: str
    outcome: str | None  # None: a report written without one (by an older version)
    images_deleted: int
    tags_removed: int
    bytes_reclaimed: int
    savings_usd: float
    failures: int
    has_html: bool

    @classmethod
    def from_document(cls, base: str, document: dict[str, Any], has_html: bool) -> RunEntry:
        summary = document["summary"]
        return cls(
            base=base,
            now=str(document["now"]),
            mode=str(document["mode"]),
            outcome=document.get("outcome"),
            images_deleted=int(summary["images_deleted"]),
            tags_removed=int(summary["tags_removed"]),
            bytes_reclaimed=int(summary["bytes_reclaimed"]),
            savings_usd=savings_of(summary),
            failures=int(summary["failures"]),
            has_html=has_html,
        )


class ReportDirectory:
    def __init__(self, path: Path, keep: int = 30) -> None:
        self.path = path
        self.keep = keep  # 0: keep every report
        # Reports never change once written: each is read at most once per process.
        self._entries: dict[str, RunEntry] = {}
        self._lock = threading.Lock()

    def write(self, report: RunReport, run_id: str, outcome: str | None = None) -> Path:
        """Write the HTML, then the JSON, each atomically (a reader or a crash never
        leaves half a report under its final name), then delete the oldest reports
        beyond `keep`. `outcome` (serve's word for how the run ended) goes into the JSON."""
        self.path.mkdir(parents=True, exist_ok=True)
        # UTC and fixed width: names sort in time order, which `prune` relies on.
        stamp = report.now.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        base = f"{PREFIX}{stamp}-{run_id}"
        document = report.to_dict()
        if outcome is not None:
            document["outcome"] = outcome
        self._replace(self.path / f"{base}.html", to_html(report, outcome=outcome))
        target = self.path / f"{base}.json"
        self._replace(target, json.dumps(document, indent=2) + "\n")
        with self._lock:
            self._entries[base] = RunEntry.from_document(base, document, has_html=True)
        self.prune()
        return target

    def _replace(self, target: Path, text: str) -> None:
        temporary = self.path / f".{target.name}.tmp"
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)

    def reports(self) -> list[Path]:
        """The JSON reports, oldest first."""
        return sorted(self.path.glob(f"{PREFIX}*.json"))

    def prune(self) -> list[Path]:
        reports = self.reports()
        if self.keep <= 0 or len(reports) <= self.keep:
            return []
        old = reports[: len(reports) - self.keep]
        for path in old:
            path.with_suffix(".html").unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            with self._lock:
                self._entries.pop(path.stem, None)
        return old

    def entries(self, limit: int | None = None) -> list[RunEntry]:
        """The newest runs first; a report that cannot be read is left out."""
        found: list[RunEntry] = []
        for path in reversed(self.reports()):
            if limit is not None and len(found) >= limit:
                break
            entry = self._entry(path)
            if entry is not None:
                found.append(entry)
        return found

    def _entry(self, path: Path) -> RunEntry | None:
        with self._lock:
            known = self._entries.get(path.stem)
        if known is not None:
            return known
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            entry = RunEntry.from_document(path.stem, document, path.with_suffix(".html").is_file())
        except (OSError, ValueError, KeyError, TypeError):
            return None  # pruned meanwhile, or not a report of ours
        with self._lock:
            self._entries[path.stem] = entry
        return entry

    def file(self, name: str) -> Path | None:
        """The report file called `name` in this directory, if there is one to serve."""
        if not SERVED.fullmatch(name):
            return None
        for path in self.path.glob(f"{PREFIX}*"):
            if path.name == name and path.is_file():
                return path
        return None

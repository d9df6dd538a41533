"""Readable at scale: the summary format, a table whose lines fit the terminal, and the
savings estimate (priced per GB-month, always called an upper bound)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cleaner.core.model import Action, ActionKind, Kept, RepositoryPlan, RepositoryRef, Status
from cleaner.notify.github import append_step_summary
from cleaner.report.model import BYTES_PER_GB, RunReport, monthly_savings_usd
from cleaner.report.render import RENDERERS, elide_tags, to_json, to_table
from cleaner.report.summary import MARKDOWN_ROWS, to_markdown_summary, to_summary

NOW = datetime(2027, 1, 1, tzinfo=UTC)
GIB = 2**30
CAVEAT = "an upper bound: layers shared with images that stay are not freed"


def digest(n: int) -> str:
    return f"sha256:{n:064x}"


def repository(
    name: str, deleted: int, size: int, *, tags: int = 1, **extra: object
) -> RepositoryPlan:
    actions = tuple(
        Action(
            ActionKind.DELETE_IMAGE,
            digest(i),
            tuple(f"build-{i}-{t}" for t in range(tags)),
            "old-builds",
            f"beyond 10 most recent; pushed {40 + i}d ago; nobody pulled it for a very long time",
            size,
            status=Status.PLANNED,
        )
        for i in range(deleted)
    )
    kept = (Kept(digest(999), ("latest",), "protected tag latest"),)
    return RepositoryPlan(
        RepositoryRef("us-east-1", "123456789012", name),
        "services",
        deleted + 5,
        actions=actions,
        kept=kept,
        **extra,  # type: ignore[arg-type]
    )


def plan_report(*plans: RepositoryPlan, price: float = 0.10) -> RunReport:
    return RunReport("plan", NOW, NOW, NOW, plans, storage_price_per_gb_month=price)


@pytest.mark.parametrize(
    ("size", "price", "usd"),
    [
        (0, 0.10, 0.0),
        (GIB, 0.10, 0.10),  # a GB is 2**30 bytes, as AWS bills storage
        (10**9, 0.10, 0.09),  # a decimal gigabyte is 7% less
        (int(25.3 * GIB), 0.10, 2.53),
        (1000 * GIB, 0.10, 100.0),
        (4 * GIB, 0.0125, 0.05),
        (GIB, 0.0, 0.0),
    ],
)
def test_savings_arithmetic(size: int, price: float, usd: float) -> None:
    assert BYTES_PER_GB == 2**30
    assert monthly_savings_usd(size, price) == usd
    report = plan_report(repository("a", 1, size), price=price)
    assert report.summary()["estimated_monthly_savings_usd"] == usd


def test_every_rendering_shows_savings_as_an_upper_bound_and_why() -> None:
    report = plan_report(repository("a", 3, 10 * GIB), repository("b", 1, 5 * GIB))
    summary = json.loads(to_json(report))["summary"]
    assert summary["estimated_monthly_savings_usd"] == 3.5
    assert summary["images_archived"] == 0
    for name in ("table", "summary", "markdown"):
        text = " ".join(RENDERERS[name](report).split())
        assert "Estimated savings: up to $3.50 a month at $0.10 per GB-month" in text, name
        assert CAVEAT in text, name
    assert CAVEAT in to_markdown_summary(report)


def test_a_few_bytes_are_less_than_a_cent_not_zero() -> None:
    text = to_summary(plan_report(repository("a", 1, 1000)))
    assert "Estimated savings: less than $0.01 a month" in text


def test_summary_has_totals_first_then_one_line_per_repository() -> None:
    broken = RepositoryPlan(
        RepositoryRef("eu-west-1", "123456789012", "team/broken"),
        "services",
        0,
        error="not touched: AccessDenied",
        failed=True,
    )
    report = plan_report(repository("team/b", 2, GIB), repository("team/a", 700, 2**20), broken)
    lines = to_summary(report).splitlines()
    assert lines[0] == "ecr-cleaner plan at 2027-01-01T00:00:00+00:00"
    assert lines[1] == (
        "3 repositories, 712 images scanned: would delete 702 images and 0 tags (2.7 GiB); "
        "1 failure"
    )
    assert lines[2].startswith("Estimated savings: up to $0.27 a month")
    header = lines[5]
    assert header.split() == [
        "region",
        "registry",
        "repository",
        "images",
        "to",
        "delete",
        "tags",
        "size",
        "error",
    ]
    rows = lines[6:]
    assert len(rows) == 3
    assert rows[0].split() == [
        "eu-west-1",
        "123456789012",
        "team/broken",
        "0",
        "0",
        "0",
        "0",
        "B",
        "not",
        "touched:",
        "AccessDenied",
    ]
    assert rows[1].split() == [
        "us-east-1",
        "123456789012",
        "team/a",
        "705",
        "700",
        "0",
        "700.0",
        "MiB",
    ]
    assert rows[2].split() == ["us-east-1", "123456789012", "team/b", "7", "2", "0", "2.0", "GiB"]
    assert "action" not in to_summary(report)  # no per-action lines


def test_summary_of_a_run_says_deleted() -> None:
    report = RunReport("run", NOW, NOW, NOW, [repository("a", 0, 0)])
    assert to_summary(report).splitlines()[5].split()[3:6] == ["images", "deleted", "tags"]


@pytest.mark.parametrize(
    ("tags", "width", "shown"),
    [
        ((), 20, "<untagged>"),
        (("v1",), 20, "v1"),
        (("a-very-long-tag-name-indeed",), 12, "a-very-long…"),
        (tuple(f"build-{n}" for n in range(1, 151)), 32, "build-1, build-2, … (+148)"),
        (("build-1", "build-2"), 32, "build-1, build-2"),
        (("x" * 40, "y"), 20, "xxxxxxxxxxxxxx… (+1)"),
    ],
)
def test_long_tag_lists_are_elided_with_a_count(
    tags: tuple[str, ...], width: int, shown: str
) -> None:
    assert elide_tags(tags, width) == shown
    assert len(shown) <= max(width, len("<untagged>"))


@pytest.mark.parametrize("width", [100, 120, 160, 240])
def test_table_lines_fit_the_width(width: int) -> None:
    report = plan_report(repository("team/service-0001", 20, GIB, tags=150))
    text = to_table(report, width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert "build-0" in text and "(+14" in text
    # Every reason is there in full, wrapped where it is long.
    joined = " ".join(text.split())
    assert "nobody pulled it for a very long time" in joined


def test_table_width_comes_from_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    report = plan_report(repository("team/service-0001", 5, GIB, tags=30))
    monkeypatch.setenv("COLUMNS", "100")
    assert max(len(line) for line in to_table(report).splitlines()) <= 100
    monkeypatch.setenv("COLUMNS", "200")
    assert max(len(line) for line in to_table(report).splitlines()) > 100
    # Off a terminal (a file, a pipe): one line per action, tags still elided.
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr("sys.stdout.isatty", lambda: False)
    lines = to_table(report).splitlines()
    rows = [line for line in lines if line.startswith(("   delete", "   keep"))]
    assert len(rows) == 6 and all("nobody pulled it for a very long time" in r for r in rows[:5])
    assert all("(+2" in r for r in rows[:5])


def test_table_starts_each_repository_with_its_one_line_summary() -> None:
    report = plan_report(repository("team/a", 2, GIB), repository("team/b", 0, 0))
    lines = to_table(report, 120).splitlines()
    at = lines.index("== us-east-1 123456789012 team/a (policy services)")
    assert lines[at + 1] == "   7 images scanned: would delete 2 images and 0 tags (2.0 GiB)"
    assert lines[at + 2].split()[:2] == ["action", "digest"]


def test_markdown_summary_lists_the_largest_repositories_first_and_caps_rows() -> None:
    plans = [repository(f"r{n:03d}", 1, n * 2**20) for n in range(1, MARKDOWN_ROWS + 21)]
    text = to_markdown_summary(plan_report(*plans))
    rows = [line for line in text.splitlines() if line.startswith("| us-east-1")]
    assert len(rows) == MARKDOWN_ROWS
    assert rows[0].split("|")[3].strip() == f"r{MARKDOWN_ROWS + 20:03d}"
    assert text.rstrip().endswith("… and 20 repositories more (the report has all).")


def test_github_step_summary_is_appended(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("# earlier step\n")
    report = plan_report(repository("team/a", 2, GIB))
    assert append_step_summary(report, {"GITHUB_STEP_SUMMARY": str(path)})
    text = path.read_text()
    assert text.startswith("# earlier step\n### ecr-cleaner plan at")
    assert "| us-east-1 | 123456789012 | team/a | 7 | 2 | 0 | 2.0 GiB |  |" in text
    assert not append_step_summary(report, {})


def test_an_unwritable_step_summary_is_logged_not_raised(tmp_path: Path) -> None:
    report = plan_report(repository("team/a", 2, GIB))
    assert not append_step_summary(report, {"GITHUB_STEP_SUMMARY": str(tmp_path / "no/such")})

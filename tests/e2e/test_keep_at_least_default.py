"""`protect.keep_at_least` defaults to 1: a policy that expires everything still leaves
each repository its newest top-level image, unless it says `keep_at_least: 0`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cleaner.cli import main
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)

EXPIRE_EVERYTHING = """
version: 1
targets: [{region: us-east-1}]
policies:
  - name: everything
    PROTECT
    rules: [{name: all, select: {tag_status: any}, expire: {pushed_before: 1s}}]
"""


@pytest.mark.parametrize(
    ("protect", "survivors"),
    [
        pytest.param("", {"api": {"api-2"}, "web": {"web-1"}}, id="omitted-keeps-the-newest"),
        pytest.param(
            "protect: {keep_at_least: 1}", {"api": {"api-2"}, "web": {"web-1"}}, id="explicit-1"
        ),
        pytest.param("protect: {keep_at_least: 0}", {"api": set(), "web": set()}, id="0-empties"),
    ],
)
def test_a_policy_that_expires_everything_empties_a_repository_only_when_told(
    sb: Sandbox, tmp_path: Path, protect: str, survivors: dict[str, set[str]]
) -> None:
    seeder = Seeder(sb.store)
    repos = {"api": seeder.repository("api"), "web": seeder.repository("web")}
    # api-2 and web-1 are the newest of their repository; the untagged ones are older.
    for n in range(3):
        repos["api"].image([f"api-{n}"], pushed_at=NOW - (10 - n) * DAY)
    repos["api"].image(pushed_at=NOW - 20 * DAY)
    for n in range(2):
        repos["web"].image([f"web-{n}"], pushed_at=NOW - (5 - n) * DAY)
    repos["web"].image(pushed_at=NOW - 30 * DAY)
    policy = tmp_path / "policy.yaml"
    policy.write_text(EXPIRE_EVERYTHING.replace("PROTECT", protect))
    report = tmp_path / "report.json"

    code = main(["run", "--config", str(policy), "--now", NOW.isoformat(), "--report", str(report)])

    assert code == 0
    left = {name: repo.snapshot() for name, repo in repos.items()}
    assert {
        name: {t for tags in images.values() for t in tags} for name, images in left.items()
    } == (survivors)
    assert {name: len(images) for name, images in left.items()} == {
        name: len(tags) for name, tags in survivors.items()
    }
    kept = {e["repository"]: e["kept"] for e in json.loads(report.read_text())["repositories"]}
    for name, tags in survivors.items():
        expected = [{"tags": sorted(tags), "reason": "protect.keep_at_least 1"}] if tags else []
        assert [{"tags": k["tags"], "reason": k["reason"]} for k in kept[name]] == expected

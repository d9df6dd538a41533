"""The archive keys of a rule: action, select.storage, expire.archived_before."""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from config_support import errors_of, rule

from cleaner.cli import main
from cleaner.config.load import load_config_text
from cleaner.config.model import RuleAction, Storage

P = pytest.param
QUARANTINE = """\
version: 1
targets: [{region: us-east-1}]
policies:
  - name: quarantine
    rules:
      - name: archive-stale
        select: {tag_status: any}
        expire: {not_pulled_for: 30d}
        action: archive
      - name: delete-archived
        select: {storage: archived}
        expire: {archived_before: ARCHIVED_BEFORE}
"""


def test_archive_keys_are_read() -> None:
    config = load_config_text(QUARANTINE.replace("ARCHIVED_BEFORE", "90d"))
    (policy,) = config.policies
    archive, delete = policy.rules
    assert (archive.action, archive.select.storage) == (RuleAction.ARCHIVE, Storage.ACTIVE)
    assert (delete.action, delete.select.storage) == (RuleAction.DELETE, Storage.ARCHIVED)
    assert delete.expire is not None and delete.expire.archived_before == timedelta(days=90)
    assert policy.lists_archived
    assert config.warnings == ()


def test_defaults_delete_active_images_and_list_only_active_ones() -> None:
    (policy,) = load_config_text(rule("{name: r, expire: {pushed_before: 1d}}")).policies
    assert policy.rules[0].action is RuleAction.DELETE
    assert policy.rules[0].select.storage is Storage.ACTIVE
    assert not policy.lists_archived


# fmt: off
ERROR_CASES = [
    P(rule("{name: r, expire: {pushed_before: 1d}, action: move}"), ["policy.yaml:3:77: policies[0].rules[0].action: must be one of: delete, archive (got 'move')"], id="action"),
    P(rule("{name: r, select: {storage: ARCHIVED}, expire: {pushed_before: 1d}}"), ["policy.yaml:3:58: policies[0].rules[0].select.storage: must be one of: active, archived (got 'ARCHIVED')"], id="storage"),
    P(rule("{name: r, select: {storage: archived}, expire: {archived_before: 90d}, action: archive}"), ["policy.yaml:3:109: policies[0].rules[0].action: archive needs active images (select.storage: archived selects images that are archived already)"], id="archive-archived"),
    P(rule("{name: r, expire: {archived_before: 90d}}"), ["policy.yaml:3:66: policies[0].rules[0].expire.archived_before: needs select.storage: archived (only archived images have an archive time)"], id="archived-before-on-active"),
    P(rule("{name: r, select: {storage: archived}, expire: {archived_before: 0d}}"), ["policy.yaml:3:95: policies[0].rules[0].expire.archived_before: must be > 0 (got '0d')"], id="archived-before-zero"),
]
# fmt: on


@pytest.mark.parametrize(("text", "errors"), ERROR_CASES)
def test_archive_key_errors(text: str, errors: list[str]) -> None:
    assert errors_of(text) == errors


@pytest.mark.parametrize(
    ("age", "warned"), [("30d", True), ("89d", True), ("90d", False), ("13w", False)]
)
def test_archived_before_below_90_days_is_a_warning_with_its_place(age: str, warned: bool) -> None:
    config = load_config_text(QUARANTINE.replace("ARCHIVED_BEFORE", age), source="policy.yaml")
    expected = (
        "policy.yaml:12:35: warning: policies[0].rules[1].expire.archived_before: below ECR's "
        "90-day minimum charge for archived images: one deleted sooner is billed for 90 days anyway"
    )
    assert config.warnings == ((expected,) if warned else ())


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_the_warning_goes_to_stderr_and_is_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(QUARANTINE.replace("ARCHIVED_BEFORE", "30d"))
    if command == "plan":  # no AWS call: the output cannot be written, which stops it first
        code = main(["plan", "--config", str(path), "--output", str(tmp_path / "no" / "x")])
    else:
        code = main(["validate", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code == (0 if command == "validate" else 2)
    assert err.splitlines()[0].startswith(
        f"{path}:12:35: warning: policies[0].rules[1].expire.archived_before"
    )
    if command == "validate":
        assert out.startswith(f"{path}: valid")


def test_the_quarantine_policy_of_the_docs_is_valid_and_warns_of_nothing() -> None:
    page = (Path(__file__).resolve().parent.parent / "docs" / "archive.md").read_text()
    section = page[page.index("## The quarantine pattern") :]
    text = section[section.index("```yaml\n") + 8 : section.index("```\n", 8)]
    config = load_config_text(text)
    (policy,) = config.policies
    assert [r.action for r in policy.rules] == [RuleAction.ARCHIVE, RuleAction.DELETE]
    assert policy.lists_archived and config.warnings == ()

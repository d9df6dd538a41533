"""The `in-use` listing: references resolved against a registry, and its JSON read back
by the `file` source only when it is whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cleaner.core.model import Image, Inventory, RepositoryRef
from cleaner.core.references import Usage, parse_reference
from cleaner.inuse.kinds.file import read_file
from cleaner.inuse.listing import (
    Entry,
    Resolver,
    SourceView,
    TargetView,
    to_json,
    to_table,
)
from cleaner.inuse.reading import SourceError

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def resolver() -> Resolver:
    app = Inventory(
        RepositoryRef("us-east-1", "123456789012", "app"),
        {D1: Image(D1, ("v1",), WHEN), D2: Image(D2, (), WHEN)},
    )
    return Resolver("123456789012", "us-east-1", ["app", "empty"], {"app": app})


@pytest.mark.parametrize(
    ("text", "repository", "digest", "note"),
    [
        (f"{ECR}/app:v1", "app", D1, ""),
        ("app:v1", "app", D1, ""),
        (f"docker-pullable://{ECR}/app@{D2}", "app", D2, ""),
        (D2, "app", D2, ""),
        (f"{ECR}/app:v9", None, None, "no tag v9 in app"),
        (f"{ECR}/app@sha256:{'9' * 64}", None, None, f"no image sha256:{'9' * 64} in app"),
        (f"{ECR}/other:v1", None, None, "no repository other"),
        ("ghcr.io/app:v1", None, None, "another registry (ghcr.io)"),
        ("sha256:" + "9" * 64, None, None, f"no image sha256:{'9' * 64}"),
    ],
)
def test_each_reference_resolves_to_an_image_or_says_why_not(
    text: str, repository: str | None, digest: str | None, note: str
) -> None:
    (entry,) = resolver().entries(Usage(parse_reference(text), "pod a/b (cluster c)"))
    assert (entry.repository, entry.digest, entry.note) == (repository, digest, note)


def test_only_the_repositories_references_name_are_listed() -> None:
    refs = [parse_reference(t) for t in (f"{ECR}/app:v1", "ghcr.io/empty:1", "nope:1")]
    assert resolver().wanted(refs) == {"app"}
    assert resolver().wanted([*refs, parse_reference(D1)]) == {"app", "empty"}  # bare digest


def listing(*, source_error: str | None = None, target_error: str | None = None) -> str:
    entries = [
        Entry(f"{ECR}/app:v1", "pod prod/api (cluster eks-prod)", "app", D1),
        Entry(f"{ECR}/app:v1", "deployment prod/api template (cluster eks-prod)", "app", D1),
        Entry("ghcr.io/x:1", "pod prod/api (cluster eks-prod)", None, None, "another registry"),
    ]
    source = SourceView("kubernetes", "kubernetes", source_error, entries)
    return to_json([TargetView("us-east-1", "123456789012", target_error, [source])])


def test_the_json_reads_back_as_references_with_their_workloads(tmp_path: Path) -> None:
    path = tmp_path / "in-use.json"
    path.write_text(listing())
    usages = read_file(str(path))
    assert [(u.reference.text, u.workload) for u in usages] == [
        (f"{ECR}/app:v1", f"pod prod/api (cluster eks-prod), listed in file {path}"),
        (
            f"{ECR}/app:v1",
            f"deployment prod/api template (cluster eks-prod), listed in file {path}",
        ),
        ("ghcr.io/x:1", f"pod prod/api (cluster eks-prod), listed in file {path}"),
    ]


def broken(change: str) -> str:
    document = json.loads(listing())
    if change == "version":
        document["version"] = 2
    elif change == "format":
        document["format"] = "something else"
    elif change == "no-targets":
        del document["targets"]
    elif change == "reference-number":
        document["targets"][0]["sources"][0]["references"][0]["reference"] = 7
    return json.dumps(document)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not valid JSON"),
        ('{"a": 1}', "JSON, but not the output of `ecr-cleaner in-use --format json`"),
        (broken("format"), "JSON, but not the output"),
        (broken("version"), "listing version 2; this reads 1"),
        (broken("no-targets"), "malformed listing: missing or wrong 'targets'"),
        (broken("reference-number"), "malformed listing: 7 ('pod prod/api (cluster eks-prod)')"),
        (
            listing(source_error="in-use source kubernetes could not be read: 403"),
            "incomplete: us-east-1/123456789012: in-use source kubernetes could not be read",
        ),
        (
            listing(target_error="cannot list repositories: AccessDenied"),
            "incomplete: us-east-1/123456789012: cannot list repositories",
        ),
    ],
)
def test_anything_but_a_whole_listing_is_refused(text: str, says: str, tmp_path: Path) -> None:
    path = tmp_path / "in-use.json"
    path.write_text(text)
    with pytest.raises(SourceError) as failure:
        read_file(str(path))
    assert says in str(failure.value)


def test_the_table_shows_one_row_per_reference_and_counts_failures() -> None:
    table = to_table(json_view := [TargetView("us-east-1", "123456789012")])
    assert table.splitlines() == ["target us-east-1/123456789012", "", "every source read"]
    views = [
        _view_of(listing()),
        TargetView(
            "eu-west-1",
            None,
            None,
            [SourceView("ecs", "ecs", "in-use source ecs could not be read: denied")],
        ),
    ]
    lines = to_table(views).splitlines()
    assert lines[1] == "  kubernetes: 2 references"
    (row,) = [line for line in lines if line.startswith(f"    {ECR}/app:v1")]
    assert row.split("  ")[-1] == (  # both workloads of the reference, in one row
        "deployment prod/api template (cluster eks-prod); pod prod/api (cluster eks-prod)"
    )
    assert f"app@{D1[:19]}" in row
    assert lines[-4:] == [
        "target eu-west-1/default registry",
        "  ecs: FAILED: in-use source ecs could not be read: denied",
        "",
        "1 source failed",
    ]
    assert json_view[0].name == "us-east-1/123456789012"


def _view_of(text: str) -> TargetView:
    raw = json.loads(text)["targets"][0]
    entries = [
        Entry(r["reference"], r["workload"], r["repository"], r["digest"])
        for r in raw["sources"][0]["references"]
    ]
    source = SourceView("kubernetes", "kubernetes", None, entries)
    return TargetView(raw["region"], raw["registry_id"], None, [source])

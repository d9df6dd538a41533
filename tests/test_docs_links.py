"""The documents stand on their own: every link in README.md and docs/ points at a file
(and heading) of this repository, and nothing cites a document from outside it."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# CommonMark plus tables: most links of these pages sit in table cells.
PARSER = MarkdownIt("commonmark").enable("table")


def _tokens(page: Path) -> Iterator[Token]:
    for token in PARSER.parse(page.read_text(encoding="utf-8")):
        yield token
        yield from token.children or ()


def links(page: Path) -> list[str]:
    """Every link and image target of `page`, in order (code spans and blocks excluded)."""
    found = []
    for token in _tokens(page):
        target = token.attrGet("href") if token.type == "link_open" else None
        if token.type == "image":
            target = token.attrGet("src")
        if target is not None:
            found.append(str(target))
    return found


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped (letters,
    digits, `_`, `-` and spaces stay), spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


@functools.cache  # each page is linked to many times: parse it once
def anchors(page: Path) -> frozenset[str]:
    """The anchors of `page`'s headings; a repeated heading gets -1, -2, ... as on GitHub."""
    tokens = PARSER.parse(page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set()
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "heading_open":
            continue
        parts = inline.children or ()
        text = "".join(c.content for c in parts if c.type in ("text", "code_inline"))
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def problem(page: Path, target: str) -> str | None:
    """Why `target`, a link on `page`, is broken or leaves the repository; None if fine."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "points outside the repository"
    path = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if not path.is_relative_to(ROOT):
        return "points outside the repository"
    if not path.exists():
        return f"{path.relative_to(ROOT)} does not exist"
    if parts.fragment:
        if path.suffix != ".md":
            return "an anchor into a file that is not markdown"
        if parts.fragment not in anchors(path):
            return f"{path.relative_to(ROOT)} has no heading #{parts.fragment}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository(page: Path) -> None:
    broken = [f"{t}: {why}" for t in links(page) if (why := problem(page, t))]
    assert broken == []


# New pages whose link from README.md is added when their branch is merged (README.md is
# edited in one place only); remove a page from here once README.md links it.
AWAITING_A_LINK: set[str] = set()


def test_the_front_door_links_every_page_of_docs() -> None:
    readme = ROOT / "README.md"
    linked = {(readme.parent / urlsplit(t).path).resolve() for t in links(readme)}
    pages = {p.resolve() for p in (ROOT / "docs").glob("*.md")}
    unlinked = {str(p.relative_to(ROOT)) for p in pages - linked}
    assert sorted(unlinked - AWAITING_A_LINK) == []
    assert not AWAITING_A_LINK & {str(p.relative_to(ROOT)) for p in linked & pages}, (
        "README.md links it now: remove it from AWAITING_A_LINK"
    )


@pytest.mark.parametrize(
    ("page", "target", "expected"),
    [
        ("docs/policy.md", "semantics.md#rules", None),
        ("docs/policy.md", "semantics.md#no-such-heading", "has no heading"),
        ("docs/policy.md", "missing.md", "does not exist"),
        ("docs/policy.md", "../../elsewhere/NOTES.md", "outside the repository"),
        ("README.md", "https://example.invalid/page", "outside the repository"),
        ("README.md", "#exit-codes", None),
        ("README.md", "config/example.yaml", None),
    ],
)
def test_the_check_tells_good_links_from_bad(page: str, target: str, expected: str | None) -> None:
    found = problem(ROOT / page, target)
    assert found is None if expected is None else expected in (found or "")


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("What goes: a tag or the image", "what-goes-a-tag-or-the-image"),
        ("`/healthz`", "healthz"),
        ("1. Feature branches", "1-feature-branches"),
        ("Scale: accounts, regions", "scale-accounts-regions"),
        ("Kubernetes — and ECS", "kubernetes--and-ecs"),
    ],
)
def test_headings_get_githubs_anchors(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


# Built from parts, so that this file does not mention what it looks for.
OUTSIDE = [
    "../" + "shared",
    "SPEC" + ".md",
    "ECR" + "-NOTES",
    "DESIGN" + ".md",
]
CITATION = re.compile(r"\bSPEC(?: section)? \d")
SCANNED = ["README.md", "Makefile", "Dockerfile", "pyproject.toml", ".ci"]
SCANNED += ["cleaner", "tests", "bench", "docs", "deploy", "config", "requirements"]


def _files() -> Iterator[Path]:
    for name in SCANNED:
        path = ROOT / name
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from (
                p for p in sorted(path.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
            )


def test_nothing_cites_a_document_from_outside_the_repository() -> None:
    cited = []
    for path in _files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if any(word in line for word in OUTSIDE) or CITATION.search(line):
                cited.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert cited == []

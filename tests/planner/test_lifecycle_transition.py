"""ECR lifecycle `transition` rules archive through the same path as `action: archive`;
rules of ECR's archive storage class act on archived images only."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cleaner.core.model import ActionKind, Image, ImageStatus

from .conftest import NOW, dg
from .conftest import num as digest_number
from .lifecycle_support import ecr_rule, image, letter, lifecycle, planned

R = ecr_rule


def archived(img: Image, days_ago: float) -> Image:
    return replace(img, status=ImageStatus.ARCHIVED, archived_at=NOW - timedelta(days=days_ago))


def by_kind(images: list[Image], *rules: dict[str, object]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for action in planned(lifecycle(*rules), images).actions:
        result.setdefault(action.kind.value, set()).add(letter(digest_number(action.digest)))
    return result


@pytest.mark.parametrize(
    ("images", "rules", "expected"),
    [
        pytest.param(
            [image("A", pushed=40), image("B", pushed=10)],
            [R(1, "any", "pushed", 30, action="transition")],
            {"archive_image": {"A"}},
            id="transition-archives-what-it-marks",
        ),
        pytest.param(
            [image("A", pushed=40, pulled=2), image("B", pushed=40)],
            [R(1, "any", "pulled", 30, action="transition")],
            {"archive_image": {"B"}},
            id="since-pulled-counts-the-pull",
        ),
        pytest.param(
            [archived(image("A", pushed=400), 100), image("B", pushed=400)],
            [R(1, "any", "pushed", 30, action="transition")],
            {"archive_image": {"B"}},  # A is archived already: a standard rule never sees it
            id="archived-image-not-archived-again",
        ),
        pytest.param(
            [archived(image("A", pushed=400), 100), archived(image("B", pushed=400), 10)],
            [R(1, "any", "transitioned", 90, storage="archive")],
            {"delete_image": {"A"}},
            id="archive-class-rule-expires-by-time-in-archive",
        ),
        pytest.param(
            [archived(image("A", pushed=400), 100), image("B", pushed=400)],
            [
                R(1, "any", "transitioned", 90, storage="archive"),
                R(2, "any", "pushed", 30, action="transition"),
            ],
            {"delete_image": {"A"}, "archive_image": {"B"}},
            id="quarantine-both-classes",
        ),
        pytest.param(
            [replace(image("A", pushed=400), status=ImageStatus.ACTIVATING)],
            [R(1, "any", "pushed", 30, action="transition")],
            {},  # on its way back from archive: ECR's rules act on neither class
            id="activating-untouched",
        ),
    ],
)
def test_transition_and_archive_class_rules(
    images: list[Image], rules: list[dict[str, object]], expected: dict[str, set[str]]
) -> None:
    assert by_kind(images, *rules) == expected


def test_a_transition_archives_an_index_with_its_children_after_it() -> None:
    from .conftest import img, plan
    from .lifecycle_support import as_policy

    index = img(1, ["v1"], 40, index=True)
    children = [img(2, (), 40), img(3, (), 40)]
    policy = as_policy(lifecycle(R(1, "any", "pushed", 30, action="transition")))
    result = plan([index, *children], policy, children={1: [2, 3]})
    kinds = {a.digest: (a.kind, a.phase) for a in result.actions}
    assert kinds[dg(1)] == (ActionKind.ARCHIVE_IMAGE, 0)
    assert {kinds[dg(2)], kinds[dg(3)]} == {(ActionKind.ARCHIVE_IMAGE, 1)}

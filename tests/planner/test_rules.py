"""rules.py on its own: version precedence, age wording, candidates, reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cleaner.config.model import Rule, Select, TagPattern, TagStatus
from cleaner.core.model import Image
from cleaner.core.rules import (
    Claims,
    Decision,
    age,
    duration,
    evaluate,
    select_candidates,
    semver_key,
)

from .conftest import NOW, dg, img, rule


def test_semver_precedence() -> None:
    ordered = [
        "0.9.0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "v1.0.0",
        "1.0.1",
        "1.2.0",
        "1.10.0",
        "2.0.0",
    ]
    keys = [semver_key(t) for t in ordered]
    assert all(k is not None for k in keys)
    assert keys == sorted(keys)  # type: ignore[type-var]
    assert semver_key("v1.2.3+build.7") == semver_key("1.2.3")


@pytest.mark.parametrize(
    "tag", ["latest", "1.2", "1.2.3.4", "01.2.3", "V1.2.3", "1.2.3-", "1.2.3-01", "\u0661.2.3"]
)
def test_not_versions(tag: str) -> None:
    assert semver_key(tag) is None


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=40, hours=23), "40d"),
        (timedelta(days=1), "1d"),
        (timedelta(hours=23, minutes=59), "23h"),
        (timedelta(minutes=5), "0h"),
        (timedelta(hours=-3), "0h"),
    ],
)
def test_age(delta: timedelta, text: str) -> None:
    assert age(delta) == text


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(weeks=2), "14d"),
        (timedelta(hours=36), "36h"),
        (timedelta(minutes=90), "90m"),
        (timedelta(seconds=45), "45s"),
    ],
)
def test_duration(delta: timedelta, text: str) -> None:
    assert duration(delta) == text


def test_candidates_claim_tags_and_untagged_images_in_order() -> None:
    images = [img(1, ["feature-a", "main"]), img(2), img(3, ["feature-b"])]
    claims = Claims()
    first = select_candidates(
        Select(TagStatus.TAGGED, (TagPattern.parse("feature-*"),)), images, claims
    )
    second = select_candidates(Select(TagStatus.ANY), images, claims)
    third = select_candidates(Select(TagStatus.ANY), images, claims)
    assert [(c.image.digest, c.tags, c.untagged) for c in first] == [
        (dg(1), ("feature-a",), False),
        (dg(3), ("feature-b",), False),
    ]
    assert [(c.image.digest, c.tags, c.untagged) for c in second] == [
        (dg(1), ("main",), False),
        (dg(2), (), True),
    ]
    assert third == []


def decide(r: Rule, images: list[Image]) -> dict[tuple[int, str | None], Decision]:
    verdicts = evaluate(r, select_candidates(r.select, images, Claims()), NOW)
    found: dict[tuple[int, str | None], Decision] = {}
    for v in verdicts:
        n = int(v.digest[7:], 16)
        found.update({(n, t): d for t, d in v.tags.items()})
        if v.untagged is not None:
            found[(n, None)] = v.untagged
    return found


FIVE = [img(n, [f"t{n}"], pushed_days_ago=10 * n) for n in range(1, 7)]


@pytest.mark.parametrize(
    ("r", "images", "item", "decision"),
    [
        pytest.param(
            rule(keep=5, pushed_before=14),
            FIVE,
            (6, "t6"),
            Decision(True, "beyond 5 most recent; pushed 60d ago"),
            id="keep+expire expired",
        ),
        pytest.param(
            rule(keep=5, pushed_before=14),
            FIVE,
            (5, "t5"),
            Decision(False, "within 5 most recent (by push time)"),
            id="keep kept",
        ),
        pytest.param(
            rule(keep=5),
            FIVE,
            (6, "t6"),
            Decision(True, "beyond 5 most recent; pushed 60d ago"),
            id="keep without expire",
        ),
        pytest.param(
            rule(pushed_before=14, not_pulled_for=30),
            [img(1, ["a"], 40, 35)],
            (1, "a"),
            Decision(True, "pushed 40d ago; not pulled for 35d"),
            id="both conditions",
        ),
        pytest.param(
            rule(pushed_before=14, not_pulled_for=30),
            [img(1, ["a"], 40)],
            (1, "a"),
            Decision(True, "pushed 40d ago; never pulled"),
            id="both, never pulled",
        ),
        pytest.param(
            rule(not_pulled_for=30),
            [img(1, ["a"], 40)],
            (1, "a"),
            Decision(True, "never pulled, pushed 40d ago"),
            id="never pulled",
        ),
        pytest.param(
            rule(pushed_before=14),
            [img(1, ["a"], 3)],
            (1, "a"),
            Decision(False, "pushed 3d ago (pushed_before 14d not met)"),
            id="pushed_before not met",
        ),
        pytest.param(
            rule(keep=1, pushed_before=14, not_pulled_for=30),
            [img(1, ["a"], 1), img(2, ["b"], 40, 0.5)],
            (2, "b"),
            Decision(False, "beyond 1 most recent; pulled 12h ago (not_pulled_for 30d not met)"),
            id="not_pulled_for not met, in hours",
        ),
        pytest.param(
            rule(keep=2, group_by="re:^feature-([a-z]+)-", pushed_before=14),
            [img(n, [f"feature-login-{n}"], 10 * n) for n in (1, 2, 3)],
            (3, "feature-login-3"),
            Decision(True, "beyond 2 most recent in group 'login'; pushed 30d ago"),
            id="group expired",
        ),
        pytest.param(
            rule(keep=1, group_by="re:^feature-([a-z]+)-"),
            [img(1, ["main"], 1), img(2, [], 20)],
            (2, None),
            Decision(True, "beyond 1 most recent outside group_by groups; pushed 20d ago"),
            id="untagged in the unmatched group",
        ),
        pytest.param(
            rule(keep=1, group_by="re:^feature-([a-z]+)-"),
            [img(1, ["feature-x-1"], 1)],
            (1, "feature-x-1"),
            Decision(False, "within 1 most recent in group 'x' (by push time)"),
            id="group kept",
        ),
        pytest.param(
            rule(keep=1, order_by="semver"),
            [img(1, ["1.0.0"], 1), img(2, ["2.0.0"], 9)],
            (2, "2.0.0"),
            Decision(False, "within 1 most recent (by version)"),
            id="semver kept",
        ),
        pytest.param(
            rule(keep=1, order_by="pulled"),
            [img(1, ["a"], 1), img(2, ["b"], 9, 0.1)],
            (2, "b"),
            Decision(False, "within 1 most recent (by last pull)"),
            id="pulled kept",
        ),
    ],
)
def test_reasons(
    r: Rule, images: list[Image], item: tuple[int, str | None], decision: Decision
) -> None:
    assert decide(r, images)[item] == decision

"""Every example of ECR's lifecycle documentation, transcribed: same repository, same
policy, same outcome, through the evaluator and (for expire rules on active images)
through the planner with no protection, which must delete exactly those images.

The examples, in the user guide's order (the images are the guide's unless a case says
the guide gives only the policy; then the images are ours, chosen to show the rule):

- image-age: "Filtering on image age". Tagged `prod*`, older than 14 days, expire. The
  guide gives only the policy: prod-1 (20 days) goes, prod-2 (10 days) stays, a
  `dev-1` and an untagged image of 30 days are not selected.
- image-age-untagged: the older guide's version of that example (untagged images older
  than 14 days), images ours.
- last-pulled: "Filtering on last pulled time". Any image not pulled for 90 days is
  transitioned to archive; never pulled counts from its push. Images ours.
- archived-for: "Filtering on archive transition time". Archived images archived more
  than 365 days ago expire; rules with storageClass archive see archived images only.
  Images ours.
- image-count: "Filtering on image count". Keep one untagged image, expire the others;
  tagged images are not counted. Images ours.
- multiple-rules-a / -a-prefix: "Filtering on multiple rules", Example A: rule 1 `prod*`
  keeps 1, rule 2 `beta*` keeps 1; A [beta-1, prod-1] 10 days, B [beta-2, prod-2] 9 days,
  C [beta-3] 8 days. Rule 2 marks A and B, but B matches rule 1's selection: only A is
  expired (by rule 1). The older guide wrote it with tagPrefixList ["prod"], ["beta"].
- multiple-rules-b / -b-prefix: Example B, the same repository with the priorities
  swapped: rule 1 `beta*` sees all three and marks A and B; rule 2 `prod*` sees nothing
  left. A and B are expired.
- multiple-tags-a / -a-prefix: "Filtering on multiple tags in a single rule", Example A:
  tagPatternList [alpha*, beta*] means an image needs both; older than 5 days. A [alpha-1]
  12d, B [beta-1] 11d, C [alpha-2, beta-2] 10d, D [alpha-3] 4d, E [beta-3] 3d,
  F [alpha-4, beta-4] 2d: the rule sees C and F; C is expired.
- multiple-tags-b / -b-prefix: Example B, "tags are not exclusive": A [alpha-1, beta-1,
  gamma-1] 10d, B [alpha-2, beta-2] 9d, C [alpha-3, beta-3, gamma-2] 8d; keep 1: A and B
  are expired.
- all-images-a: "Filtering on all images", Example A: the catch-all `any` rule keeping 1
  over A [alpha-1] 4d, B [beta-1] 3d, C [] 2d, D [alpha-2] 1d: A, B and C are expired.
- all-images-b: Example B, every rule type: rule 1 `alpha*` keeps 1, rule 2 untagged
  older than 1 day, rule 3 `any` keeps 1; A [alpha-1, beta-1] 4d, B [] 3d, C [alpha-2] 2d,
  D ["git hash"] 1d, E [] 1d. Rule 3 counts all five but may act on D only (A, B, C, E
  were selected by higher rules): A, B and D are expired. The guide gives D and E the same
  age and needs E to be the newer (rule 3 keeps "the newest", and it is not D) and not
  older than one day (rule 2 does not take it): E is pushed 23 hours ago here.
- archive-prod: "Archive examples", archiving `prod*` images older than 30 days. Images
  ours.
- archive-not-pulled: archiving images not pulled in 90 days (the same policy as
  last-pulled, its own images).
- archive-then-expire: "Combining archive and expire rules": standard images older than 30
  days are archived; archived images in archive for more than 365 days expire. Both rules
  are `any` rules, each the last of its storage class. Images ours.
- prefix-vs-pattern: the properties page's tagPrefixList / tagPatternList example: images
  tagged prod, prod1, prod2 are all selected by the prefix `prod` and by the pattern
  `prod*`, while the pattern `prod` (no wildcard) selects the tag prod alone.
"""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from cleaner.core.model import ActionKind

from .lifecycle_support import (
    acted,
    ecr_rule,
    image,
    lifecycle,
    planned,
    verdicts,
)
from .lifecycle_support import (
    deleted_letters as deleted,
)

R = ecr_rule
HOUR = 1 / 24


@dataclass(frozen=True)
class Example:
    rules: list[dict[str, object]]
    images: list[tuple[str, list[str], float, float | None]]  # letter, tags, pushed, pulled
    expired: set[str] = field(default_factory=set)
    transitioned: set[str] = field(default_factory=set)
    archived: dict[str, float] = field(default_factory=dict)  # letter -> days in archive


MULTIPLE_RULES_REPOSITORY = [
    ("A", ["beta-1", "prod-1"], 10, None),
    ("B", ["beta-2", "prod-2"], 9, None),
    ("C", ["beta-3"], 8, None),
]
MULTIPLE_TAGS_A_REPOSITORY = [
    ("A", ["alpha-1"], 12, None),
    ("B", ["beta-1"], 11, None),
    ("C", ["alpha-2", "beta-2"], 10, None),
    ("D", ["alpha-3"], 4, None),
    ("E", ["beta-3"], 3, None),
    ("F", ["alpha-4", "beta-4"], 2, None),
]
MULTIPLE_TAGS_B_REPOSITORY = [
    ("A", ["alpha-1", "beta-1", "gamma-1"], 10, None),
    ("B", ["alpha-2", "beta-2"], 9, None),
    ("C", ["alpha-3", "beta-3", "gamma-2"], 8, None),
]
NOT_PULLED_REPOSITORY = [
    ("A", ["v1"], 200, 100),  # last pulled 100 days ago
    ("B", ["v2"], 200, 10),
    ("C", [], 120, None),  # never pulled: counts from its push
    ("D", ["v3"], 30, None),
]

EXAMPLES = {
    "image-age": Example(
        [R(1, "tagged", "pushed", 14, patterns=["prod*"])],
        [("A", ["prod-1"], 20, None), ("B", ["prod-2"], 10, None), ("C", ["dev-1"], 30, None), ("D", [], 30, None)],
        expired={"A"},
    ),
    "image-age-untagged": Example(
        [R(1, "untagged", "pushed", 14)],
        [("A", [], 20, None), ("B", [], 10, None), ("C", ["v1"], 30, None)],
        expired={"A"},
    ),
    "last-pulled": Example(
        [R(1, "any", "pulled", 90, action="transition")],
        NOT_PULLED_REPOSITORY,
        transitioned={"A", "C"},
    ),
    "archived-for": Example(
        [R(1, "any", "transitioned", 365, storage="archive")],
        [("A", ["v1"], 900, None), ("B", ["v2"], 900, None), ("C", ["v3"], 1000, None)],
        expired={"A"},
        archived={"A": 400, "B": 100},
    ),
    "image-count": Example(
        [R(1, "untagged", "count", 1)],
        [("A", [], 3, None), ("B", [], 2, None), ("C", [], 1, None), ("D", ["v1"], 5, None)],
        expired={"A", "B"},
    ),
    "multiple-rules-a": Example(
        [R(1, "tagged", "count", 1, patterns=["prod*"]), R(2, "tagged", "count", 1, patterns=["beta*"])],
        MULTIPLE_RULES_REPOSITORY,
        expired={"A"},
    ),
    "multiple-rules-a-prefix": Example(
        [R(1, "tagged", "count", 1, prefixes=["prod"]), R(2, "tagged", "count", 1, prefixes=["beta"])],
        MULTIPLE_RULES_REPOSITORY,
        expired={"A"},
    ),
    "multiple-rules-b": Example(
        [R(1, "tagged", "count", 1, patterns=["beta*"]), R(2, "tagged", "count", 1, patterns=["prod*"])],
        MULTIPLE_RULES_REPOSITORY,
        expired={"A", "B"},
    ),
    "multiple-rules-b-prefix": Example(
        [R(1, "tagged", "count", 1, prefixes=["beta"]), R(2, "tagged", "count", 1, prefixes=["prod"])],
        MULTIPLE_RULES_REPOSITORY,
        expired={"A", "B"},
    ),
    "multiple-tags-a": Example(
        [R(1, "tagged", "pushed", 5, patterns=["alpha*", "beta*"])],
        MULTIPLE_TAGS_A_REPOSITORY,
        expired={"C"},
    ),
    "multiple-tags-a-prefix": Example(
        [R(1, "tagged", "pushed", 5, prefixes=["alpha", "beta"])],
        MULTIPLE_TAGS_A_REPOSITORY,
        expired={"C"},
    ),
    "multiple-tags-b": Example(
        [R(1, "tagged", "count", 1, patterns=["alpha*", "beta*"])],
        MULTIPLE_TAGS_B_REPOSITORY,
        expired={"A", "B"},
    ),
    "multiple-tags-b-prefix": Example(
        [R(1, "tagged", "count", 1, prefixes=["alpha", "beta"])],
        MULTIPLE_TAGS_B_REPOSITORY,
        expired={"A", "B"},
    ),
    "all-images-a": Example(
        [R(1, "any", "count", 1)],
        [("A", ["alpha-1"], 4, None), ("B", ["beta-1"], 3, None), ("C", [], 2, None), ("D", ["alpha-2"], 1, None)],
        expired={"A", "B", "C"},
    ),
    "all-images-b": Example(
        [R(1, "tagged", "count", 1, patterns=["alpha*"]), R(2, "untagged", "pushed", 1), R(3, "any", "count", 1)],
        [("A", ["alpha-1", "beta-1"], 4, None), ("B", [], 3, None), ("C", ["alpha-2"], 2, None), ("D", ["git hash"], 1, None), ("E", [], 23 * HOUR, None)],
        expired={"A", "B", "D"},
    ),
    "archive-prod": Example(
        [R(1, "tagged", "pushed", 30, patterns=["prod*"], action="transition")],
        [("A", ["prod-1"], 40, None), ("B", ["prod-2"], 10, None), ("C", ["dev-1"], 40, None)],
        transitioned={"A"},
    ),
    "archive-not-pulled": Example(
        [R(1, "any", "pulled", 90, action="transition")],
        [("A", ["v1"], 95, None), ("B", ["v2"], 400, 89), ("C", ["v3"], 400, 91)],
        transitioned={"A", "C"},
    ),
    "archive-then-expire": Example(
        [R(1, "any", "pushed", 30, action="transition"), R(2, "any", "transitioned", 365, storage="archive")],
        [("A", ["v1"], 40, None), ("B", ["v2"], 10, None), ("C", ["v0"], 900, None), ("D", ["v00"], 900, None)],
        transitioned={"A"},
        expired={"C"},
        archived={"C": 400, "D": 100},
    ),
    "prefix-vs-pattern-prefix": Example(
        [R(1, "tagged", "count", 1, prefixes=["prod"])],
        [("A", ["prod"], 3, None), ("B", ["prod1"], 2, None), ("C", ["prod2"], 1, None)],
        expired={"A", "B"},
    ),
    "prefix-vs-pattern-pattern": Example(
        [R(1, "tagged", "count", 1, patterns=["prod*"])],
        [("A", ["prod"], 3, None), ("B", ["prod1"], 2, None), ("C", ["prod2"], 1, None)],
        expired={"A", "B"},
    ),
    "prefix-vs-pattern-exact": Example(
        [R(1, "tagged", "pushed", 1, patterns=["prod"])],
        [("A", ["prod"], 3, None), ("B", ["prod1"], 2, None), ("C", ["prod2"], 3, None)],
        expired={"A"},
    ),
}  # fmt: skip


def _images(example: Example) -> list:  # type: ignore[type-arg]
    return [image(name, tags, pushed, pulled) for name, tags, pushed, pulled in example.images]


@pytest.mark.parametrize("name", EXAMPLES)
def test_documented_example_evaluates_as_documented(name: str) -> None:
    example = EXAMPLES[name]
    found = verdicts(lifecycle(*example.rules), _images(example), archived=example.archived)
    assert acted(found, "expire") == example.expired
    assert acted(found, "transition") == example.transitioned


PLANNABLE = [name for name, e in EXAMPLES.items() if not e.transitioned and not e.archived]


@pytest.mark.parametrize("name", PLANNABLE)
def test_documented_example_plans_the_documented_deletions(name: str) -> None:
    example = EXAMPLES[name]
    result = planned(lifecycle(*example.rules), _images(example))
    assert deleted(result) == example.expired
    # ECR never removes just a tag: a lifecycle plan deletes whole images or nothing.
    assert not [a for a in result.actions if a.kind is ActionKind.REMOVE_TAG]
    assert all(a.rule.startswith("lifecycle rule ") for a in result.actions)


def test_multiple_rules_a_says_why_b_stays() -> None:
    example = EXAMPLES["multiple-rules-a"]
    found = verdicts(lifecycle(*example.rules), _images(example))
    assert found["A"].rule.priority == 1 and found["A"].acts
    assert found["A"].reason == "beyond 1 most recent tagged prod*; pushed 10d ago"
    assert not found["B"].acts and found["B"].rule.priority == 1
    assert found["B"].reason == (
        "within 1 most recent tagged prod* (rule 2 marks it too, but may not act on an "
        "image rule 1 selects)"
    )
    assert found["C"].rule.priority == 2 and not found["C"].acts


def test_all_images_b_counts_what_higher_rules_selected() -> None:
    example = EXAMPLES["all-images-b"]
    found = verdicts(lifecycle(*example.rules), _images(example))
    # E was selected by rule 2 (not old enough), so rule 3 may not act on it, but it is
    # still the newest image rule 3 counts: D comes second and is expired.
    assert (found["E"].rule.priority, found["E"].acts) == (2, False)
    assert (found["D"].rule.priority, found["D"].acts) == (3, True)
    assert found["D"].reason == "beyond 1 most recent images; pushed 1d ago"


def test_priorities_not_the_listing_order_decide() -> None:
    """All rules are evaluated at once, then applied by rulePriority: listing the rules in
    another order changes nothing."""
    example = EXAMPLES["all-images-b"]
    listed = lifecycle(*reversed(example.rules))
    assert verdicts(listed, _images(example)) == verdicts(
        lifecycle(*example.rules), _images(example)
    )

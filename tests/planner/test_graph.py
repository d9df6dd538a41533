"""The dependency graph: who is top-level, who owns whom, what dies with what."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from cleaner.core.graph import EdgeKind, build_graph, fallout, subjects_of
from cleaner.core.model import Image

from .conftest import dg, img, inventory, num, sig


def nums(digests: Iterable[str]) -> set[int]:
    return {num(d) for d in digests}


@pytest.mark.parametrize(
    ("images", "children", "top", "orphans"),
    [
        pytest.param([img(1), img(2)], {}, {1, 2}, set(), id="plain images"),
        pytest.param(
            [img(1, ["v1"], index=True), img(2), img(3)], {1: [2, 3]}, {1}, set(), id="index"
        ),
        pytest.param(
            [img(1, ["v1"], index=True), img(2)], {1: [2, 99]}, {1}, set(), id="absent child"
        ),
        pytest.param([img(2)], {1: [2]}, {2}, set(), id="absent index: child is top-level"),
        pytest.param(
            [img(1, index=True), img(2, index=True), img(3)],
            {1: [2], 2: [3]},
            {1},
            set(),
            id="nested indexes",
        ),
        pytest.param([img(1), img(2, subject=1)], {}, {1}, set(), id="OCI referrer"),
        pytest.param([img(1), img(2, [sig(1)])], {}, {1}, set(), id="cosign tag"),
        pytest.param([img(2, [sig(1, "att")])], {}, {2}, {2}, id="cosign orphan"),
        pytest.param([img(2, subject=1)], {}, {2}, {2}, id="OCI orphan"),
        pytest.param(
            [img(1), img(2, [sig(1), sig(7, "sbom")])], {}, {1}, set(), id="one present subject"
        ),
        pytest.param([img(1, ["sha256-12.sig"])], {}, {1}, set(), id="not a cosign tag"),
    ],
)
def test_top_level_and_orphans(
    images: list[Image], children: dict[int, list[int]], top: set[int], orphans: set[int]
) -> None:
    graph = build_graph(inventory(images, children))
    assert nums(graph.top_level) == top
    assert nums(graph.orphaned_referrers) == orphans


def test_subjects_of_reads_oci_subject_and_cosign_tags() -> None:
    image = img(5, ["latest", sig(1), sig(2, "att")], subject=3)
    assert subjects_of(image) == (dg(1), dg(2), dg(3))


def test_edge_kinds_and_maps() -> None:
    graph = build_graph(inventory([img(1, index=True), img(2), img(3, subject=2)], {1: [2]}))
    assert graph.owners == {dg(2): (dg(1),), dg(3): (dg(2),)}
    assert graph.dependents == {dg(1): (dg(2),), dg(2): (dg(3),)}
    assert graph.kinds[(dg(1), dg(2))] is EdgeKind.CHILD
    assert graph.kinds[(dg(2), dg(3))] is EdgeKind.REFERRER


SHARED = inventory(
    [img(1, ["old"], index=True), img(2, ["new"], index=True), img(3), img(4), img(5)],
    {1: [3, 4], 2: [3, 5]},
)


@pytest.mark.parametrize(
    ("deleted", "dying"),
    [
        pytest.param({1}, {4}, id="shared child lives while the other index does"),
        pytest.param({2}, {5}, id="the other way round"),
        pytest.param({1, 2}, {3, 4, 5}, id="both indexes: the shared child dies"),
        pytest.param(set(), set(), id="nothing"),
    ],
)
def test_a_dependent_dies_only_with_all_its_owners(deleted: set[int], dying: set[int]) -> None:
    result = fallout(build_graph(SHARED), [dg(n) for n in deleted])
    assert nums(result.dying) == dying


def test_depth_parent_and_root_follow_the_deepest_owner() -> None:
    # 1 -> index 2 -> 3; 4 refers to 3; 5 refers to 1 (the top) directly
    graph = build_graph(
        inventory(
            [img(1, index=True), img(2, index=True), img(3), img(4, subject=3), img(5, [sig(1)])],
            {1: [2], 2: [3]},
        )
    )
    result = fallout(graph, [dg(1)])
    found = {
        num(d.digest): (d.depth, num(d.parent), num(d.root), d.kind) for d in result.dying.values()
    }
    assert found == {
        2: (1, 1, 1, EdgeKind.CHILD),
        3: (2, 2, 1, EdgeKind.CHILD),
        4: (3, 3, 1, EdgeKind.REFERRER),
        5: (1, 1, 1, EdgeKind.REFERRER),
    }


def test_a_child_listed_at_two_depths_goes_after_the_deeper_parent() -> None:
    graph = build_graph(
        inventory([img(1, index=True), img(2, index=True), img(3)], {1: [2, 3], 2: [3]})
    )
    dep = fallout(graph, [dg(1)]).dying[dg(3)]
    assert (dep.depth, dep.parent) == (2, dg(2))


def test_protected_dependent_is_spared_and_shields_its_own_dependents() -> None:
    graph = build_graph(
        inventory([img(1, index=True), img(2, index=True), img(3), img(4)], {1: [2, 4], 2: [3]})
    )
    result = fallout(graph, [dg(1)], protected={dg(2)})
    assert nums(result.dying) == {4}
    assert nums(result.spared) == {2}

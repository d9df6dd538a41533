"""The audit's core: what ECR's own lifecycle policy would expire that our policy keeps.

ECR sees every image: platform images of a multi-arch index are untagged images to it,
cosign signatures plain tagged images; OCI referrers follow their subject."""

from __future__ import annotations

from datetime import timedelta

from cleaner.config.lifecycle_model import ActionType
from cleaner.config.model import Protect, TagPattern
from cleaner.core.lifecycle.audit import audit_repository

from .conftest import NOW, dg, img, inventory, num, sig
from .lifecycle_support import ecr_rule, lifecycle

R = ecr_rule
NOTHING = Protect(keep_at_least=0)


def found(result_findings: object) -> dict[int, tuple[str, ...]]:
    return {num(f.digest): f.protected_by for f in result_findings}  # type: ignore[attr-defined]


def test_nothing_to_report_when_ecr_expires_only_what_we_would_not_keep() -> None:
    images = [img(1, [], 30), img(2, [], 20), img(3, [], 1)]
    result = audit_repository(
        inventory(images), lifecycle(R(1, "untagged", "count", 1)), NOTHING, NOW
    )
    assert result.acted_on == 2 and result.findings == ()


def test_an_in_use_image_ecr_would_expire_is_reported_with_the_rule() -> None:
    images = [img(1, ["v1"], 30), img(2, ["v2"], 20), img(3, ["v3"], 1)]
    policy = lifecycle(R(1, "tagged", "count", 1, patterns=["v*"]))
    result = audit_repository(
        inventory(images), policy, NOTHING, NOW, in_use={dg(1): "ecs:prod/api"}
    )
    (finding,) = result.findings
    assert (num(finding.digest), finding.tags, finding.rule) == (1, ("v1",), 1)
    assert finding.action is ActionType.EXPIRE
    assert finding.ecr_reason == "beyond 1 most recent tagged v*; pushed 30d ago"
    assert finding.protected_by == ("in use by ecs:prod/api",)


def test_protected_tags_and_recent_pulls_are_reported() -> None:
    images = [
        img(1, ["latest", "b1"], 30),
        img(2, ["b2"], 20, pulled_days_ago=2),
        img(3, ["b3"], 1),
    ]
    protect = Protect(
        tags=(TagPattern.parse("latest"),), pulled_within=timedelta(days=7), keep_at_least=0
    )
    policy = lifecycle(R(1, "tagged", "count", 1, prefixes=["b"]))
    result = audit_repository(inventory(images), policy, protect, NOW)
    assert found(result.findings) == {
        1: ("protected tag latest",),
        2: ("pulled 2d ago (protect.pulled_within 7d)",),
    }


def test_platform_images_of_a_kept_index_are_untagged_images_to_ecr() -> None:
    images = [img(1, ["v1"], 1, index=True), img(2, [], 1), img(3, [], 1), img(4, [], 9)]
    policy = lifecycle(R(1, "untagged", "count", 1))
    result = audit_repository(inventory(images, {1: [2, 3]}), policy, NOTHING, NOW)
    # ECR keeps the newest untagged image (2, by digest) and expires 3 and the leftover 4;
    # 3 is a platform of index v1, which ECR keeps: the multi-arch image would break.
    assert found(result.findings) == {3: (f"child of index {dg(1)}, which ECR keeps",)}


def test_a_cosign_signature_is_just_a_tagged_image_to_ecr() -> None:
    images = [img(1, ["v1"], 1), img(2, [sig(1)], 1)]
    policy = lifecycle(R(1, "tagged", "pushed", 1, patterns=["sha256-*"]), R(2, "any", "count", 5))
    result = audit_repository(inventory(images), policy, NOTHING, NOW + timedelta(days=2))
    assert found(result.findings) == {2: (f"referrer of {dg(1)}, which ECR keeps",)}


def test_oci_referrers_follow_their_subject_and_say_what_keeps_it() -> None:
    images = [img(1, ["v1"], 30), img(2, [], 30, subject=1), img(3, ["v2"], 1)]
    policy = lifecycle(R(1, "tagged", "count", 1, patterns=["v*"]), R(2, "untagged", "count", 9))
    result = audit_repository(inventory(images), policy, NOTHING, NOW, in_use={dg(1): "ecs:a"})
    # The referrer is not an untagged image to ECR (rule 2 would keep it): it goes with
    # its subject, by rule 1.
    assert result.acted_on == 2
    assert found(result.findings) == {
        1: ("in use by ecs:a",),
        2: (f"referrer of {dg(1)}, which ecr-cleaner keeps",),
    }
    assert {num(f.digest): f.rule for f in result.findings} == {1: 1, 2: 1}


def test_keep_at_least_flags_the_newest_images_ecr_would_take_below_the_floor() -> None:
    images = [img(1, [], 30), img(2, [], 20), img(3, [], 10)]
    policy = lifecycle(R(1, "untagged", "pushed", 5))
    result = audit_repository(inventory(images), policy, Protect(keep_at_least=2), NOW)
    assert found(result.findings) == {
        3: ("protect.keep_at_least 2",),
        2: ("protect.keep_at_least 2",),
    }


def test_archiving_an_in_use_image_is_reported_as_such() -> None:
    images = [img(1, ["v1"], 200, pulled_days_ago=100)]
    policy = lifecycle(R(1, "any", "pulled", 90, action="transition"))
    result = audit_repository(inventory(images), policy, NOTHING, NOW, in_use={dg(1): "lambda:fn"})
    (finding,) = result.findings
    assert finding.action is ActionType.TRANSITION
    assert finding.ecr_reason == "images, pulled 100d ago (more than 90 days)"

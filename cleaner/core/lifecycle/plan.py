"""An ECR lifecycle policy as the planner's rule stage.

With `lifecycle_policy:` the planner runs ECR's evaluation instead of the policy's rules
and keeps everything else (units, protections, limits). What differs is said here: each
image is decided by one ECR rule, and always whole (ECR never removes only a tag), so a
protected tag keeps its whole image.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cleaner.config.lifecycle_model import ActionType, LifecyclePolicy
from cleaner.core.lifecycle.evaluate import evaluate
from cleaner.core.model import Image, ImageStatus
from cleaner.core.rules import Claims, Decision, Verdict

RULE_NAME = "lifecycle rule {priority}"  # an action's `rule`
ECR_RULE = "ECR rule {priority}"  # how kept images name the rule


def lifecycle_rounds(
    policy: LifecyclePolicy, images: Sequence[Image], now: datetime, claims: Claims
) -> tuple[list[str], list[list[Verdict]], list[bool]]:
    """Rule names, each rule's verdicts and whether it archives (a `transition`), in
    priority order, as `rules.run_rules` gives them; records what the rules selected in
    `claims` (for the pseudo-rules after them).

    Archived images are in archive storage for ECR's rules (`storageClass: archive`);
    images on their way back (ACTIVATING) are in neither, as ECR acts on neither."""
    seen = [i for i in images if i.status is not ImageStatus.ACTIVATING]
    archived = {
        i.digest: i.archived_at or i.pushed_at for i in seen if i.status is ImageStatus.ARCHIVED
    }
    verdicts = evaluate(policy, seen, now, archived=archived)
    position = {rule.priority: i for i, rule in enumerate(policy.rules)}
    rounds: list[list[Verdict]] = [[] for _ in policy.rules]
    for image in sorted(seen, key=lambda i: i.digest):
        found = verdicts.get(image.digest)
        if found is None:
            continue
        name = ECR_RULE.format(priority=found.rule.priority)
        decision = Decision(found.acts, found.reason if found.acts else f"{name}: {found.reason}")
        tags = dict.fromkeys(image.tags, decision)
        claims.tags.update((image.digest, tag) for tag in tags)
        if not image.tags:
            claims.untagged.add(image.digest)
        untagged = None if image.tags else decision
        rounds[position[found.rule.priority]].append(Verdict(image.digest, tags, untagged))
    names = [RULE_NAME.format(priority=rule.priority) for rule in policy.rules]
    archives = [rule.action.type is ActionType.TRANSITION for rule in policy.rules]
    return names, rounds, archives


def kept_reason(rule: str, reason: str, protections: Sequence[str]) -> str:
    """Why an image that ECR's `rule` (a name from `lifecycle_rounds`) would act on stays."""
    ecr = rule.replace(RULE_NAME.format(priority=""), ECR_RULE.format(priority=""))
    return f"{ecr} would expire this ({reason}); kept: {'; '.join(protections)}"

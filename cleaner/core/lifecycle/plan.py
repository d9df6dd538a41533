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
from cleaner.core.model import Image
from cleaner.core.rules import Claims, Decision, Verdict

RULE_NAME = "lifecycle rule {priority}"  # an action's `rule`
ECR_RULE = "ECR rule {priority}"  # how kept images name the rule


def lifecycle_rounds(
    policy: LifecyclePolicy, images: Sequence[Image], now: datetime, claims: Claims
) -> tuple[list[str], list[list[Verdict]]]:
    """Rule names and each rule's verdicts, in priority order, as `rules.run_rules` gives
    them; records what the rules selected in `claims` (for the pseudo-rules after them)."""
    verdicts = evaluate(policy, images, now)
    position = {rule.priority: i for i, rule in enumerate(policy.rules)}
    rounds: list[list[Verdict]] = [[] for _ in policy.rules]
    for image in sorted(images, key=lambda i: i.digest):
        found = verdicts.get(image.digest)
        if found is None:
            continue
        if found.acts and found.rule.action.type is not ActionType.EXPIRE:
            # The validator turns transition rules down until archiving exists.
            raise ValueError(f"cannot plan a {found.rule.action.type} action")
        name = ECR_RULE.format(priority=found.rule.priority)
        decision = Decision(found.acts, found.reason if found.acts else f"{name}: {found.reason}")
        tags = dict.fromkeys(image.tags, decision)
        claims.tags.update((image.digest, tag) for tag in tags)
        if not image.tags:
            claims.untagged.add(image.digest)
        untagged = None if image.tags else decision
        rounds[position[found.rule.priority]].append(Verdict(image.digest, tags, untagged))
    names = [RULE_NAME.format(priority=rule.priority) for rule in policy.rules]
    return names, rounds


def kept_reason(rule: str, reason: str, protections: Sequence[str]) -> str:
    """Why an image that ECR's `rule` (a name from `lifecycle_rounds`) would act on stays."""
    ecr = rule.replace(RULE_NAME.format(priority=""), ECR_RULE.format(priority=""))
    return f"{ecr} would expire this ({reason}); kept: {'; '.join(protections)}"

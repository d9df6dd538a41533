"""A cleaner policy as an ECR lifecycle policy, where ECR can express it.

ECR's grammar is narrower than ours: globs with `*` only, one count or one age per rule,
whole images only, no notion of use. The translation never pretends: every part it
cannot express exactly is listed in `approximations`, and `exact` means that the
exported policy, evaluated by ECR's rules, decides what this policy decides.

Exact translations: rules without a `tags` filter (tag_status alone), keeping the
`most_recent` N by push time or expiring by `pushed_before` in whole days; rules that a
rule before them leaves nothing to select are dropped. A `lifecycle_policy` is exported
as it is. Protected tags (globs) become keep rules at the top, which come close: ECR's
rules see top-level images only, while a protected tag also spares a platform image or
signature whose index or subject goes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta

from cleaner.config.lifecycle_model import (
    ActionType,
    CountType,
    LifecycleAction,
    LifecyclePolicy,
    LifecycleRule,
    LifecycleTagStatus,
    StorageClass,
)
from cleaner.config.model import (
    REGEX_PREFIX,
    Limits,
    OrderBy,
    OrphanedReferrers,
    Policy,
    Rule,
    RuleAction,
    Storage,
    TagStatus,
)

MAX_WILDCARDS = 4
# "Keep": an age no image can have, so a rule that only claims its selection.
KEEP_DAYS = 36_500
DAY = timedelta(days=1)
# group_by a list of literal prefixes: ^(api|web)- or ^release-
_LITERAL = r"(?:[A-Za-z0-9_-]|\\\.)+"
_PREFIX_GROUPS = re.compile(rf"\^(?:\(({_LITERAL}(?:\|{_LITERAL})*)\))?({_LITERAL})?")
_GLOB_ONLY_STAR = re.compile(r"[^?\[\]]*")


@dataclass(frozen=True, slots=True)
class Export:
    policy: LifecyclePolicy | None  # None: nothing for ECR to expire
    approximations: tuple[str, ...]  # what ECR cannot express, each in one line
    notes: tuple[str, ...] = ()  # worth knowing, but not a difference

    @property
    def exact(self) -> bool:
        return not self.approximations


@dataclass
class _Draft:
    rules: list[LifecycleRule] = field(default_factory=list)
    approximations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Storage classes in which an earlier rule selects every tagged (untagged) image:
    # ECR's rules of one storage class never see the other's images.
    tagged_taken: set[StorageClass] = field(default_factory=set)
    untagged_taken: set[StorageClass] = field(default_factory=set)
    # What the rule being translated does, and to which storage class.
    action: LifecycleAction = field(default_factory=LifecycleAction)
    storage: StorageClass = StorageClass.STANDARD

    def differ(self, text: str) -> None:
        """Something ECR cannot express: the export is approximate."""
        self.approximations.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def add(
        self, status: LifecycleTagStatus, count: tuple[CountType, int], patterns: tuple[str, ...]
    ) -> None:
        self.rules.append(
            LifecycleRule(
                len(self.rules) + 1,
                status,
                count[0],
                count[1],
                action=self.action,
                tag_patterns=patterns,
                storage_class=self.storage,
            )
        )


def export_policy(policy: Policy, limits: Limits) -> Export:
    draft = _Draft()
    _protected_tags(policy, draft)
    keeps = len(draft.rules)
    if policy.lifecycle is not None:
        draft.rules.extend(policy.lifecycle.rules)
    else:
        for rule in policy.rules:
            _rule(rule, draft)
    _protections(policy, limits, draft, keeps)
    if len(draft.rules) == keeps:
        draft.note("nothing to expire: give its repositories no lifecycle policy")
        return Export(None, tuple(draft.approximations), tuple(draft.notes))
    numbered = tuple(replace(r, priority=i + 1) for i, r in enumerate(draft.rules))
    return Export(LifecyclePolicy(numbered), tuple(draft.approximations), tuple(draft.notes))


def _protected_tags(policy: Policy, draft: _Draft) -> None:
    """A keep rule per protected glob, first: ECR then never acts on those images."""
    for pattern in policy.protect.tags:
        why = _inexpressible(pattern.source)
        if why:
            draft.differ(f"protect.tags {pattern.source!r}: {why}; ECR may expire images with it")
            continue
        keep = (CountType.SINCE_IMAGE_PUSHED, KEEP_DAYS)
        draft.add(LifecycleTagStatus.TAGGED, keep, (pattern.source,))
        description = f"ecr-cleaner: keep {pattern.source} (protect.tags)"
        draft.rules[-1] = replace(draft.rules[-1], description=description)


def _protections(policy: Policy, limits: Limits, draft: _Draft, keeps: int) -> None:
    protect = policy.protect
    if protect.keep_at_least:
        floor = f"protect.keep_at_least {protect.keep_at_least}"
        draft.differ(f"{floor}: ECR has no floor on the images a repository keeps")
    if protect.pulled_within is not None:
        draft.differ("protect.pulled_within: ECR does not spare recently pulled images")
    for source in protect.in_use:
        draft.differ(f"protect.in_use {source.kind}: ECR cannot see images in use")
    if limits.orphaned_referrers is OrphanedReferrers.DELETE:
        draft.differ("limits.orphaned_referrers delete: ECR has no rule for orphaned referrers")
    rules = draft.rules[keeps:]
    selects_tags = any(r.tag_status is not LifecycleTagStatus.UNTAGGED for r in rules)
    if keeps and policy.lifecycle is None and selects_tags:
        draft.differ(
            "protect.tags: ecr-cleaner keeps the tag but may remove the image's other tags; "
            "ECR keeps the whole image"
        )
    if keeps:
        draft.differ(
            "protect.tags: ecr-cleaner also keeps a platform image or signature with such a tag "
            "when its index or subject goes; ECR's keep rule sees top-level images only"
        )
    if any(r.tag_status is not LifecycleTagStatus.TAGGED for r in rules):
        draft.note(
            "ECR itself counts the platform images of multi-arch images as untagged images; "
            "ecr-cleaner never does (they follow their index)"
        )


def _rule(rule: Rule, draft: _Draft) -> None:
    """One of our rules as ECR rules, mirroring which images earlier rules already took."""
    where = f"rule {rule.name!r}"
    # action: archive is ECR's transition to archive; rules on archived images are rules
    # of ECR's archive storage class.
    archiving = rule.action is RuleAction.ARCHIVE
    draft.action = LifecycleAction(
        ActionType.TRANSITION if archiving else ActionType.EXPIRE,
        StorageClass.ARCHIVE if archiving else None,
    )
    archived = rule.select.storage is Storage.ARCHIVED
    draft.storage = StorageClass.ARCHIVE if archived else StorageClass.STANDARD
    count = _count(rule, draft, where)
    status = rule.select.tag_status
    tagged = status in (TagStatus.TAGGED, TagStatus.ANY) and draft.storage not in draft.tagged_taken
    untagged = (
        status in (TagStatus.UNTAGGED, TagStatus.ANY) and draft.storage not in draft.untagged_taken
    )
    if not (tagged or untagged):
        draft.note(f"{where}: left out, earlier rules select everything it would")
        return
    grouped = rule.keep is not None and rule.keep.group_by is not None
    if tagged and (rule.select.tags is not None or grouped):
        _tag_subsets(rule, draft, count, where)
        if untagged:
            draft.add(LifecycleTagStatus.UNTAGGED, count, ())
            if rule.keep is not None:
                draft.differ(f"{where}: ECR counts its untagged images apart from the tagged")
    elif tagged and untagged:
        draft.add(LifecycleTagStatus.ANY, count, ())
    elif tagged:
        draft.add(LifecycleTagStatus.TAGGED, count, ("*",))
    else:
        draft.add(LifecycleTagStatus.UNTAGGED, count, ())
    # As in the planner: a rule without `tags` takes every tag no earlier rule took.
    if tagged and rule.select.tags is None:
        draft.tagged_taken.add(draft.storage)
    if untagged:
        draft.untagged_taken.add(draft.storage)


def _tag_subsets(rule: Rule, draft: _Draft, count: tuple[CountType, int], where: str) -> None:
    """A rule selecting some tags of an image (by glob, or into group_by groups)."""
    group_by = rule.keep.group_by if rule.keep is not None else None
    prefixes = _group_prefixes(group_by.source) if group_by is not None else None
    if group_by is not None and prefixes is None:
        draft.differ(
            f"{where}: group_by {group_by.source!r} is not a list of literal prefixes; "
            "ECR keeps most_recent over the whole selection"
        )
    if prefixes:
        units = [f"{prefix}*" for prefix in prefixes]
        draft.differ(
            f"{where}: one ECR rule per group_by prefix ({', '.join(prefixes)}): tags outside "
            "them are left out, and an image with tags in two groups is decided by the first"
        )
    elif rule.select.tags is not None:
        units = _globs(rule, draft, where)
        if rule.keep is not None and len(units) > 1:
            globs = ", ".join(units)
            draft.differ(
                f"{where}: ECR counts keep.most_recent for each of its globs apart ({globs}); "
                "one ECR rule cannot match any of several"
            )
    else:
        units = ["*"]
    for unit in units:
        draft.add(LifecycleTagStatus.TAGGED, count, (unit,))
    draft.differ(
        f"{where}: ecr-cleaner removes only the selected tags from an image that has others; "
        "ECR expires the whole image"
    )


def _count(rule: Rule, draft: _Draft, where: str) -> tuple[CountType, int]:
    keep, expire = rule.keep, rule.expire
    if keep is not None:
        if keep.order_by is not OrderBy.PUSHED:
            draft.differ(f"{where}: order_by {keep.order_by}: ECR keeps the most recently pushed")
        if expire is not None:
            draft.differ(
                f"{where}: keep AND expire: ECR cannot require both; it expires every image "
                f"beyond the {keep.most_recent} most recent, whatever its age"
            )
        return CountType.IMAGE_COUNT_MORE_THAN, keep.most_recent
    assert expire is not None  # the loader requires keep or expire
    if expire.archived_before is not None:
        if expire.pushed_before is not None or expire.not_pulled_for is not None:
            draft.differ(f"{where}: ECR counts one age per rule; archived_before only")
        return CountType.SINCE_IMAGE_TRANSITIONED, _days(
            expire.archived_before, draft, f"{where}: archived_before"
        )
    if expire.not_pulled_for is not None and draft.action.type is ActionType.TRANSITION:
        if expire.pushed_before is not None:
            draft.differ(f"{where}: ECR counts one age per rule; not_pulled_for only")
        # ECR's sinceImagePulled counts from the push when never pulled, like ours.
        return CountType.SINCE_IMAGE_PULLED, _days(
            expire.not_pulled_for, draft, f"{where}: not_pulled_for"
        )
    if expire.not_pulled_for is not None:
        what = "its images are kept" if expire.pushed_before is None else "pushed_before only"
        draft.differ(
            f"{where}: not_pulled_for: ECR expires by last pull only through archive "
            f"(sinceImagePulled needs a transition); {what}"
        )
    if expire.pushed_before is None:
        return CountType.SINCE_IMAGE_PUSHED, KEEP_DAYS
    return CountType.SINCE_IMAGE_PUSHED, _days(
        expire.pushed_before, draft, f"{where}: pushed_before"
    )


def _days(age: timedelta, draft: _Draft, what: str) -> int:
    """Whole days, rounded up (so ECR acts on no more), and at least the 1 ECR takes."""
    days = max(1, -(-age // DAY))
    if age != days * DAY:
        draft.differ(f"{what} is not whole days; ECR counts days, so {days}d")
    return days


def _globs(rule: Rule, draft: _Draft, where: str) -> list[str]:
    globs = []
    for pattern in rule.select.tags or ():
        why = _inexpressible(pattern.source)
        if why:
            draft.differ(f"{where}: tag pattern {pattern.source!r}: {why}; left out")
        else:
            globs.append(pattern.source)
    return globs


def _inexpressible(source: str) -> str | None:
    if source.startswith(REGEX_PREFIX):
        return "a regex (ECR matches globs with * only)"
    if not _GLOB_ONLY_STAR.fullmatch(source):
        return "uses ? or [...] (ECR's patterns know only *)"
    if source.count("*") > MAX_WILDCARDS:
        return f"more than {MAX_WILDCARDS} * (ECR's limit)"
    return None


def _group_prefixes(source: str) -> list[str] | None:
    """The groups of a group_by made of literal prefixes (`^(api|web)-`), else None."""
    match = _PREFIX_GROUPS.fullmatch(source.removeprefix(REGEX_PREFIX))
    if match is None or not (match[1] or match[2]):
        return None
    suffix = (match[2] or "").replace("\\.", ".")
    if match[1] is None:
        return [suffix]
    return [alt.replace("\\.", ".") + suffix for alt in match[1].split("|")]

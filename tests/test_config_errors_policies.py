"""Invalid policies, rules and protections: each row is a file and its exact errors."""

# ruff: noqa: E501  (one row per line keeps the tables readable)
from __future__ import annotations

import pytest
from config_support import RULE, errors_of, in_use, policies, policy, protect, rule, top

P = pytest.param

# fmt: off
POLICY_CASES = [
    P(policy("{rules: []}"), ["policy.yaml:3:12: policies[0].name: required"], id="name-missing"),
    P(policy("{name: '', rules: []}"), ["policy.yaml:3:19: policies[0].name: must be a non-empty string (got '')"], id="name-empty"),
    P(policy("{name: [a], rules: []}"), ["policy.yaml:3:19: policies[0].name: must be a non-empty string (got a list)"], id="name-list"),
    P(policy("{name: p}"), ["policy.yaml:3:12: policies[0].rules: required"], id="rules-missing"),
    P(policy("{name: p, rules: {name: r}}"), ["policy.yaml:3:29: policies[0].rules: must be a list of rules (got a mapping)"], id="rules-mapping"),
    P(policy("{name: p, rules: [], repositorys: [a]}"), ["policy.yaml:3:33: policies[0].repositorys: unknown key (expected one of: name, repositories, protect, rules, lifecycle_policy)"], id="unknown-key"),
    P(policy("{name: p, repositories: [], rules: []}"), ["policy.yaml:3:36: policies[0].repositories: must be a non-empty list of repository globs (got an empty list)"], id="repositories-empty"),
    P(policy("p"), ["policy.yaml:3:12: policies[0]: must be a mapping (got 'p')"], id="not-mapping"),
    P(policies("{name: a, repositories: [x], rules: []}", "{name: a, repositories: [y], rules: []}"), ["policy.yaml:3:60: policies[1].name: duplicate name 'a' (first used at policies[0])"], id="name-duplicate"),
    P(policies("{name: all, rules: []}", "{name: b, repositories: [team-a/*], rules: []}"), ["policy.yaml:3:36: policies[1]: never applies: policies[0] ('all') matches all its repositories first"], id="after-catch-all"),
    P(policies("{name: a, repositories: [x, '!y'], rules: []}", "{name: b, repositories: ['!y', x], rules: []}"), ["policy.yaml:3:59: policies[1]: never applies: policies[0] ('a') matches all its repositories first"], id="same-globs"),
]

RULE_CASES = [
    P(rule("{expire: {pushed_before: 1d}}"), ["policy.yaml:3:30: policies[0].rules[0].name: required"], id="name-missing"),
    P(policy(f"{{name: p, rules: [{RULE}, {RULE}]}}"), ["policy.yaml:3:77: policies[0].rules[1].name: duplicate name 'r' (first used at policies[0].rules[0])"], id="name-duplicate"),
    P(rule("{name: r}"), ["policy.yaml:3:30: policies[0].rules[0]: needs keep, expire or both (with neither, every candidate would expire)"], id="neither-keep-nor-expire"),
    P(rule("{name: r, select: {tag_status: tagged}}"), ["policy.yaml:3:30: policies[0].rules[0]: needs keep, expire or both (with neither, every candidate would expire)"], id="select-only"),
    P(rule("{name: r, selct: {tag_status: tagged}, keep: {most_recent: 1}}"), ["policy.yaml:3:40: policies[0].rules[0].selct: unknown key (expected one of: name, select, keep, expire, action)"], id="unknown-key"),
    P(rule("{name: r, select: {tag_status: untagged, tags: [x]}, keep: {most_recent: 1}}"), ["policy.yaml:3:77: policies[0].rules[0].select.tags: not allowed with tag_status: untagged (they have no tags)"], id="tags-with-untagged"),
    P(rule("{name: r, select: {tag_status: dangling}, keep: {most_recent: 1}}"), ["policy.yaml:3:61: policies[0].rules[0].select.tag_status: must be one of: tagged, untagged, any (got 'dangling')"], id="tag-status-enum"),
    P(rule("{name: r, select: {tag_status: TAGGED}, keep: {most_recent: 1}}"), ["policy.yaml:3:61: policies[0].rules[0].select.tag_status: must be one of: tagged, untagged, any (got 'TAGGED')"], id="tag-status-case"),
    P(rule("{name: r, select: {tags: []}, keep: {most_recent: 1}}"), ["policy.yaml:3:55: policies[0].rules[0].select.tags: must be a non-empty list of tag patterns (got an empty list)"], id="tags-empty"),
    P(rule("{name: r, select: {tags: 'v*'}, keep: {most_recent: 1}}"), ["policy.yaml:3:55: policies[0].rules[0].select.tags: must be a non-empty list of tag patterns (got 'v*')"], id="tags-string"),
    P(rule("{name: r, select: {tags: [ok, 're:(', 1.10, 're:']}, keep: {most_recent: 1}}"), ["policy.yaml:3:60: policies[0].rules[0].select.tags[1]: invalid regex: missing ), unterminated subpattern at position 0", "policy.yaml:3:68: policies[0].rules[0].select.tags[2]: must be a non-empty string (got 1.1; quote it to make it a string)", "policy.yaml:3:74: policies[0].rules[0].select.tags[3]: needs a regex after 're:'"], id="tag-patterns"),
    P(rule("{name: r, select: {tags: [no]}, keep: {most_recent: 1}}"), ["policy.yaml:3:56: policies[0].rules[0].select.tags[0]: must be a non-empty string (got false; quote it to make it a string)"], id="tag-yaml-bool"),
    P(rule("{name: r, select: {sort: x}, keep: {most_recent: 1}}"), ["policy.yaml:3:49: policies[0].rules[0].select.sort: unknown key (expected one of: tag_status, tags, storage)"], id="select-unknown"),
    P(rule("{name: r, keep: {most_recent: 0}}"), ["policy.yaml:3:60: policies[0].rules[0].keep.most_recent: must be an integer >= 1 (got 0)"], id="most-recent-0"),
    P(rule("{name: r, keep: {most_recent: true}}"), ["policy.yaml:3:60: policies[0].rules[0].keep.most_recent: must be an integer >= 1 (got true)"], id="most-recent-bool"),
    P(rule("{name: r, keep: {most_recent: '5'}}"), ["policy.yaml:3:60: policies[0].rules[0].keep.most_recent: must be an integer >= 1 (got '5')"], id="most-recent-string"),
    P(rule("{name: r, keep: {most_recent: 2.5}}"), ["policy.yaml:3:60: policies[0].rules[0].keep.most_recent: must be an integer >= 1 (got 2.5)"], id="most-recent-float"),
    P(rule("{name: r, keep: {order_by: pushed}}"), ["policy.yaml:3:46: policies[0].rules[0].keep.most_recent: required"], id="most-recent-missing"),
    P(rule("{name: r, keep: 5}"), ["policy.yaml:3:46: policies[0].rules[0].keep: must be a mapping (got 5)"], id="keep-number"),
    P(rule("{name: r, keep: {most_recent: 1, order_by: created}}"), ["policy.yaml:3:73: policies[0].rules[0].keep.order_by: must be one of: pushed, pulled, semver (got 'created')"], id="order-by-enum"),
    P(rule("{name: r, keep: {most_recent: 1, group_by: 're:^feature-(['}}"), ["policy.yaml:3:73: policies[0].rules[0].keep.group_by: invalid regex: unterminated character set at position 10"], id="group-by-re-prefix"),
    P(rule("{name: r, keep: {most_recent: 1, group_by: 'a{2,1}'}}"), ["policy.yaml:3:73: policies[0].rules[0].keep.group_by: invalid regex: min repeat greater than max repeat at position 2"], id="group-by-bare-regex"),
    P(rule("{name: r, keep: {most_recent: 1, group_by: ''}}"), ["policy.yaml:3:73: policies[0].rules[0].keep.group_by: must be a non-empty string (got '')"], id="group-by-empty"),
    P(rule("{name: r, expire: {}}"), ["policy.yaml:3:48: policies[0].rules[0].expire: needs at least one of: pushed_before, not_pulled_for, archived_before (omit expire to expire every candidate keep does not keep)"], id="expire-empty"),
    P(rule("{name: r, expire: {pushed_after: 1d}}"), ["policy.yaml:3:49: policies[0].rules[0].expire.pushed_after: unknown key (expected one of: pushed_before, not_pulled_for, archived_before)"], id="expire-unknown"),
    P(rule("{name: r, expire: {pushed_before: 14}}"), ["policy.yaml:3:64: policies[0].rules[0].expire.pushed_before: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got 14)"], id="duration-no-unit"),
    P(rule("{name: r, expire: {pushed_before: 14x}}"), ["policy.yaml:3:64: policies[0].rules[0].expire.pushed_before: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '14x')"], id="duration-bad-unit"),
    P(rule("{name: r, expire: {pushed_before: 1.5d}}"), ["policy.yaml:3:64: policies[0].rules[0].expire.pushed_before: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '1.5d')"], id="duration-fraction"),
    P(rule("{name: r, expire: {pushed_before: -1d}}"), ["policy.yaml:3:64: policies[0].rules[0].expire.pushed_before: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '-1d')"], id="duration-negative"),
    P(rule("{name: r, expire: {pushed_before: 14 d}}"), ["policy.yaml:3:64: policies[0].rules[0].expire.pushed_before: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '14 d')"], id="duration-space"),
    P(rule("{name: r, expire: {pushed_before: 14D}}"), ["policy.yaml:3:64: policies[0].rules[0].expire.pushed_before: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got '14D')"], id="duration-upper-case"),
    P(rule("{name: r, expire: {not_pulled_for: 0d}}"), ["policy.yaml:3:65: policies[0].rules[0].expire.not_pulled_for: must be > 0 (got '0d')"], id="duration-zero"),
    P(rule("{name: r, expire: {not_pulled_for: 9999999999w}}"), ["policy.yaml:3:65: policies[0].rules[0].expire.not_pulled_for: is too long (got '9999999999w')"], id="duration-overflow"),
]

PROTECT_CASES = [
    P(protect("{keep_at_least: -1}"), ["policy.yaml:3:47: policies[0].protect.keep_at_least: must be an integer >= 0 (got -1)"], id="keep-at-least-negative"),
    P(protect("{keep_at_least: false}"), ["policy.yaml:3:47: policies[0].protect.keep_at_least: must be an integer >= 0 (got false)"], id="keep-at-least-bool"),
    P(protect("{pulled_within: 0d}"), ["policy.yaml:3:47: policies[0].protect.pulled_within: must be > 0 (got '0d')"], id="pulled-within-zero"),
    P(protect("{tags: latest}"), ["policy.yaml:3:38: policies[0].protect.tags: must be a non-empty list of tag patterns (got 'latest')"], id="tags-string"),
    P(protect("{tags: ['re:v[']}"), ["policy.yaml:3:39: policies[0].protect.tags[0]: invalid regex: unterminated character set at position 1"], id="tags-bad-regex"),
    P(protect("{tag: [latest]}"), ["policy.yaml:3:32: policies[0].protect.tag: unknown key (expected one of: tags, pulled_within, keep_at_least, in_use)"], id="unknown-key"),
    P(protect("[latest]"), ["policy.yaml:3:31: policies[0].protect: must be a mapping (got a list)"], id="not-mapping"),
    P(top("defaults: {protect: {keep_at_least: -2, pulled_within: soon}}\n"), ["policy.yaml:4:56: defaults.protect.pulled_within: must be a duration: an integer and a unit s, m, h, d or w, like 14d (got 'soon')", "policy.yaml:4:37: defaults.protect.keep_at_least: must be an integer >= 0 (got -2)"], id="defaults-protect"),
    P(protect("{in_use: [ecs]}"), ["policy.yaml:3:40: policies[0].protect.in_use: must be a mapping (got a list)"], id="in-use-list"),
    P(protect("{in_use: {}}"), ["policy.yaml:3:40: policies[0].protect.in_use.sources: required"], id="in-use-no-sources"),
    P(in_use(), ["policy.yaml:3:50: policies[0].protect.in_use.sources: must be a non-empty list of in-use sources (got an empty list)"], id="sources-empty"),
    P(in_use("k8s"), ["policy.yaml:3:51: policies[0].protect.in_use.sources[0]: must be one of: ecs, lambda, command, file, kubernetes (got 'k8s')"], id="source-unknown-name"),
    P(in_use("command"), ["policy.yaml:3:51: policies[0].protect.in_use.sources[0]: command needs options: {command: {argv: ...}}"], id="command-without-options"),
    P(in_use("file"), ["policy.yaml:3:51: policies[0].protect.in_use.sources[0]: file needs options: {file: {path: ...}}"], id="file-without-options"),
    P(in_use("{k8s: {}}"), ["policy.yaml:3:52: policies[0].protect.in_use.sources[0].k8s: unknown in-use source (expected one of: ecs, lambda, command, file, kubernetes)"], id="source-unknown-kind"),
    P(in_use("{ecs: {}, lambda: {}}"), ["policy.yaml:3:51: policies[0].protect.in_use.sources[0]: must be a source name or a mapping with one key, its kind (got a mapping)"], id="source-two-kinds"),
    P(in_use("3"), ["policy.yaml:3:51: policies[0].protect.in_use.sources[0]: must be a source name or a mapping with one key, its kind (got 3)"], id="source-number"),
    P(in_use("{ecs: {task_definition_revisions: -1}}"), ["policy.yaml:3:85: policies[0].protect.in_use.sources[0].ecs.task_definition_revisions: must be an integer >= 0 (got -1)"], id="ecs-revisions"),
    P(in_use("{ecs: {clusters: [a]}}"), ["policy.yaml:3:58: policies[0].protect.in_use.sources[0].ecs.clusters: unknown key (expected one of: task_definition_revisions)"], id="ecs-unknown-option"),
    P(in_use("{lambda: null}"), ["policy.yaml:3:60: policies[0].protect.in_use.sources[0].lambda: must be a mapping (got null)"], id="lambda-null"),
    P(in_use("{lambda: {functions: [f]}}"), ["policy.yaml:3:61: policies[0].protect.in_use.sources[0].lambda.functions: unknown key (takes no keys)"], id="lambda-has-no-options"),
    P(in_use("{command: {timeout: 30s}}"), ["policy.yaml:3:61: policies[0].protect.in_use.sources[0].command.argv: required"], id="command-argv-missing"),
    P(in_use("{command: {argv: []}}"), ["policy.yaml:3:68: policies[0].protect.in_use.sources[0].command.argv: must be a non-empty list of strings (got an empty list)"], id="command-argv-empty"),
    P(in_use("{command: {argv: 'list-images --all'}}"), ["policy.yaml:3:68: policies[0].protect.in_use.sources[0].command.argv: must be a non-empty list of strings (got 'list-images --all')"], id="command-argv-string"),
    P(in_use("{command: {argv: [x], timeout: 0s}}"), ["policy.yaml:3:82: policies[0].protect.in_use.sources[0].command.timeout: must be > 0 (got '0s')"], id="command-timeout"),
    P(in_use("{kubernetes: {contexts: prod}}"), ["policy.yaml:3:75: policies[0].protect.in_use.sources[0].kubernetes.contexts: must be a non-empty list of kubeconfig context names (got 'prod')"], id="kubernetes-contexts-string"),
    P(in_use("{kubernetes: {contexts: []}}"), ["policy.yaml:3:75: policies[0].protect.in_use.sources[0].kubernetes.contexts: must be a non-empty list of kubeconfig context names (got an empty list)"], id="kubernetes-contexts-empty"),
    P(in_use('{kubernetes: {namespaces: [prod, "!"]}}'), ["policy.yaml:3:84: policies[0].protect.in_use.sources[0].kubernetes.namespaces[1]: '!' must be followed by the glob to exclude"], id="kubernetes-namespace-bang"),
    P(in_use("{kubernetes: {cluster: x}}"), ["policy.yaml:3:65: policies[0].protect.in_use.sources[0].kubernetes.cluster: unknown key (expected one of: kubeconfig, contexts, namespaces)"], id="kubernetes-unknown-option"),
    P(in_use('{kubernetes: {kubeconfig: ""}}'), ["policy.yaml:3:77: policies[0].protect.in_use.sources[0].kubernetes.kubeconfig: must be a non-empty string (got '')"], id="kubernetes-kubeconfig-empty"),
    P(in_use("{file: {path: 7}}"), ["policy.yaml:3:65: policies[0].protect.in_use.sources[0].file.path: must be a non-empty string (got 7; quote it to make it a string)"], id="file-path"),
]
# fmt: on


@pytest.mark.parametrize(("text", "expected"), POLICY_CASES + RULE_CASES + PROTECT_CASES)
def test_invalid_policy_reports_each_error_with_its_place(text: str, expected: list[str]) -> None:
    assert errors_of(text) == expected

"""The policy file's YAML: what `yaml.safe_load` reads, with duplicate keys as errors.

PyYAML keeps the last of two equal keys without a word, so a second `rules:` in a
policy would silently replace the first; for a deletion tool that is an error.
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_MERGE_TAG = "tag:yaml.org,2002:merge"


def read_yaml(text: str, source: str) -> tuple[object, list[str]]:
    """(data, problems): data is None if the text is not YAML at all."""
    loader = yaml.SafeLoader(text)
    try:
        # The same two steps as safe_load, with a look at the nodes in between: only
        # they still show both of two duplicate keys.
        node = loader.get_single_node()
        if node is None:
            return None, []
        problems = _duplicate_keys(node, source)
        return loader.construct_document(node), problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        # PyYAML's context ("while scanning a quoted scalar") says what it was reading.
        what = ", ".join(part for part in (exc.context, exc.problem) if part)
        return None, [f"{where}: invalid YAML: {what}"]
    except yaml.YAMLError as exc:
        return None, [f"{source}: invalid YAML: {exc}"]
    finally:
        loader.dispose()


def _duplicate_keys(root: Node, source: str) -> list[str]:
    problems: list[tuple[int, int, str]] = []
    seen_nodes: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        # Aliases share nodes, and an anchor may even contain itself.
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, SequenceNode):
            pending.extend(reversed(node.value))
        elif isinstance(node, MappingNode):
            problems.extend(_duplicates_in(node))
            for key_node, value_node in reversed(node.value):
                pending.extend((value_node, key_node))
    return [f"{source}:{line}:{column}: {text}" for line, column, text in sorted(problems)]


def _duplicates_in(node: MappingNode) -> list[tuple[int, int, str]]:
    """(line, column, message) of each key that repeats an earlier key of the mapping."""
    problems: list[tuple[int, int, str]] = []
    first: dict[tuple[str, str], int] = {}
    for key_node, _ in node.value:
        # `<<` merges are meant to be overridden; complex keys cannot be compared cheaply.
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        mark = key_node.start_mark
        identity = (key_node.tag, key_node.value)
        if identity in first:
            message = f"duplicate key {key_node.value!r} (first at line {first[identity]})"
            problems.append((mark.line + 1, mark.column + 1, message))
        else:
            first[identity] = mark.line + 1
    return problems

"""The policy file's YAML: what `yaml.safe_load` reads, with duplicate keys as errors,
and the nodes it was read from, which know the line and column of every value.

PyYAML keeps the last of two equal keys without a word, so a second `rules:` in a
policy would silently replace the first; for a deletion tool that is an error.
"""

from __future__ import annotations

import re

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INDEX = re.compile(r"\[([0-9]+)\]")


def read_yaml(text: str, source: str) -> tuple[object, Node | None, list[str]]:
    """(data, root node, problems): data and root are None if the text is not YAML at all
    (or is empty)."""
    loader = yaml.SafeLoader(text)
    try:
        # The same two steps as safe_load, with a look at the nodes in between: only
        # they still show both of two duplicate keys.
        node = loader.get_single_node()
        if node is None:
            return None, None, []
        problems = _duplicate_keys(node, source)
        return loader.construct_document(node), node, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        # PyYAML's context ("while scanning a quoted scalar") says what it was reading.
        what = ", ".join(part for part in (exc.context, exc.problem) if part)
        return None, None, [f"{where}: invalid YAML: {what}"]
    except yaml.YAMLError as exc:
        return None, None, [f"{source}: invalid YAML: {exc}"]
    finally:
        loader.dispose()


def place(source: str, root: Node, path: str, *, at_key: bool = False) -> str:
    """`source:line:column` (from 1) of the node at `path` (`policies[0].rules[1].keep`)
    in the tree `read_yaml` returned, or of its key with `at_key`.

    A path that goes further than the file (a missing key) stops at the deepest node
    that exists: for a missing key, the mapping that lacks it. Keys are matched against
    the file's own keys, so a key that contains a dot or a bracket is still found.
    """
    node, key_node, rest = root, None, path
    while rest:
        if isinstance(node, SequenceNode):
            match = _INDEX.match(rest)
            if match is None or int(match[1]) >= len(node.value):
                break
            node, key_node, rest = node.value[int(match[1])], None, rest[match.end() :]
        elif isinstance(node, MappingNode):
            found = _key(node, rest)
            if found is None:
                break
            key_node, node = found
            rest = rest[len(key_node.value) :]
        else:
            break
        rest = rest.removeprefix(".")
    mark = (key_node if at_key and key_node is not None and not rest else node).start_mark
    return f"{source}:{mark.line + 1}:{mark.column + 1}"


def _key(node: MappingNode, path: str) -> tuple[ScalarNode, Node] | None:
    """The key (and its value) that `path` starts with; the longest such key, and of
    equal keys the last, which is the one the data holds (after `<<` merges too)."""
    found: tuple[ScalarNode, Node] | None = None
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode) or not path.startswith(key_node.value):
            continue
        if path[len(key_node.value) : len(key_node.value) + 1] not in ("", ".", "["):
            continue
        if found is None or len(key_node.value) >= len(found[0].value):
            found = key_node, value_node
    return found


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

"""`protect` (a policy's and `defaults.protect`) and its in-use sources.

The kinds of in-use source, and the options each takes, are declared by the modules
of `cleaner.inuse.kinds`; this module only reads that registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cleaner.config import fields as f
from cleaner.config.fields import JSON, Check, Issues, item, key
from cleaner.config.model import KEEP_AT_LEAST_DEFAULT, InUseSource, Protect, TagPattern
from cleaner.config.shape import Key, Section, Shape
from cleaner.inuse.kinds import SourceKind, named, registered


@dataclass(frozen=True, slots=True)
class ProtectParts:
    """A `protect` mapping as written: None where a setting was not given, which the
    combination with `defaults.protect` needs to tell apart from an explicit value."""

    tags: tuple[TagPattern, ...] = ()
    pulled_within: timedelta | None = None
    keep_at_least: int | None = None
    in_use: tuple[InUseSource, ...] = ()


def combine(defaults: ProtectParts, own: ProtectParts) -> Protect:
    """Lists add up (a policy can add protection, never drop one); scalars given by the
    policy replace the default's."""
    tags = {p.source: p for p in (*defaults.tags, *own.tags)}
    return Protect(
        tags=tuple(tags.values()),
        pulled_within=own.pulled_within
        if own.pulled_within is not None
        else defaults.pulled_within,
        keep_at_least=next(
            (n for n in (own.keep_at_least, defaults.keep_at_least) if n is not None),
            KEEP_AT_LEAST_DEFAULT,
        ),
        in_use=tuple(dict.fromkeys((*defaults.in_use, *own.in_use))),
    )


def _in_use_source(issues: Issues, path: str, value: object) -> InUseSource | None:
    source = _written_source(issues, path, value)
    kind = named(source.kind) if source is not None else None
    if kind is not None and (why := kind.why_unavailable()):
        issues.add(path, why)
        return None
    return source


def _written_source(issues: Issues, path: str, value: object) -> InUseSource | None:
    kinds = ", ".join(k.name for k in registered())
    if isinstance(value, str):
        kind = named(value)
        if kind is None:
            issues.add(path, f"must be one of: {kinds} (got {value!r})")
        elif not kind.bare_name_allowed:
            needed = kind.options.required[0]
            issues.add(path, f"{value} needs options: {{{value}: {{{needed}: ...}}}}")
        else:
            return InUseSource(value)
        return None
    if not isinstance(value, dict) or len(value) != 1:
        got = f.describe(value)
        issues.add(path, f"must be a source name or a mapping with one key, its kind (got {got})")
        return None
    ((name, raw),) = value.items()
    kind = named(name)
    if kind is None:
        message = f"unknown in-use source (expected one of: {kinds})"
        issues.add(key(path, str(name)), message, at_key=True)
        return None
    section = kind.options.read(issues, key(path, kind.name), raw)
    if section is None:
        return None
    # Options are stored parsed (durations as timedelta, lists as tuples) and only as
    # given: the reader adds the defaults.
    options = {option: section.field(option) for option in section.values}
    if None in options.values() or any(o not in options for o in kind.options.required):
        return None
    return InUseSource(kind.name, tuple(sorted(options.items())))


def _source_schema() -> JSON:
    kinds = registered()
    bare = [k.name for k in kinds if k.bare_name_allowed]
    by_name: list[JSON] = [{"enum": bare, "description": "The source with its default options."}]
    return {
        "description": "A source of image references: the name of a kind that needs no"
        " options, or a mapping with one key, the kind, whose value holds its options.",
        "oneOf": (by_name if bare else []) + [_kind_schema(k) for k in kinds],
    }


def _kind_schema(kind: SourceKind) -> JSON:
    options = {**kind.options.json(), "description": f"Options of the {kind.name} source."}
    return {
        "type": "object",
        "description": kind.description,
        "additionalProperties": False,
        "properties": {kind.name: options},
        "required": [kind.name],
    }


in_use_source = Check(_in_use_source, _source_schema, name="inUseSource")


def _sources(issues: Issues, path: str, value: object) -> tuple[InUseSource, ...] | None:
    items = f.non_empty_list(issues, path, value, "in-use sources")
    parsed = [in_use_source(issues, item(path, i), raw) for i, raw in enumerate(items or [])]
    return tuple(dict.fromkeys(s for s in parsed if s is not None))


IN_USE = Shape(
    {
        "sources": Key(
            Check(_sources, {"type": "array", "minItems": 1, "items": in_use_source}),
            "Where to look for images in use.",
            required=True,
        )
    }
)
in_use = IN_USE.reader(lambda section: section.field("sources"))

PROTECT = Shape(
    {
        "tags": Key(
            f.tag_list(allow_empty=True),
            "Tag patterns never removed; an image with such a tag is never deleted.",
        ),
        "pulled_within": Key(f.duration, "An image pulled within this long is not touched."),
        "keep_at_least": Key(
            f.at_least(0),
            "Each repository keeps at least this many top-level images: the newest of those"
            " about to be deleted are spared. Default 1, so no repository is emptied by"
            " accident; 0 allows it.",
            default=KEEP_AT_LEAST_DEFAULT,
        ),
        "in_use": Key(in_use, "Images that running workloads reference are never touched."),
    },
    description="Protections override rules: what they cover is never deleted.",
    name="protect",
)


@PROTECT.reader
def protect(section: Section) -> ProtectParts:
    return ProtectParts(
        tags=section.field("tags") or (),
        pulled_within=section.field("pulled_within"),
        # Written or not: defaults.protect may give it (see combine).
        keep_at_least=section.written("keep_at_least"),
        in_use=section.field("in_use") or (),
    )


DEFAULTS = Shape(
    {
        "protect": Key(
            protect,
            "Protections for every policy. Combined with each policy's protect: tags and"
            " in_use sources add up; a policy's pulled_within / keep_at_least replace these.",
        )
    }
)
defaults = DEFAULTS.reader(lambda section: section.field("protect"))

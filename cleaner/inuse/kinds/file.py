"""`file`: a text file listing image references, one or more a line (`#` comments), or
the JSON that `ecr-cleaner in-use --format json` writes."""

from __future__ import annotations

from pathlib import Path

from cleaner.config import fields as f
from cleaner.config.shape import Key, Shape
from cleaner.core.references import Usage
from cleaner.inuse import listing
from cleaner.inuse.kinds import SourceKind
from cleaner.inuse.reading import SourceError, references_in


def read_file(path: str) -> list[Usage]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if listing.is_listing(text):  # what `ecr-cleaner in-use --format json` wrote
        try:
            return listing.usages_from_listing(text, f"file {path}")
        except listing.ListingError as exc:
            raise SourceError(str(exc)) from None
    return references_in(text, f"file {path}")


KIND = SourceKind(
    name="file",
    description="A file listing image references (one a line), or the JSON that"
    " `ecr-cleaner in-use --format json` writes.",
    read=lambda request: read_file(str(request.options["path"])),
    label=lambda options: f"file {options.get('path')}",
    options=Shape({"path": Key(f.string, "Path of the file.", required=True)}),
    position=40,
)

"""The JSON Schema of the policy file, for editors and CI checks.

It is written from the same declarations the loader validates with (each section's
Shape in cleaner.config, each in-use source kind's options in cleaner.inuse.kinds), and
shipped in the package as policy.schema.json. After changing a declaration, write it
again with `make schema` (`python -m cleaner.config.schema --write`); a test fails while
the shipped file differs from what the declarations say.

The loader remains the authority: it also checks regexes, cron expressions, time zones
and duplicate names, which a schema cannot.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any, cast

from cleaner.config.fields import JSON
from cleaner.config.load import TOP
from cleaner.config.shape import SchemaWriter

SCHEMA_FILE = "policy.schema.json"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def policy_schema() -> JSON:
    """The policy file's JSON Schema, from the declarations."""
    writer = SchemaWriter()
    top = writer.shape(TOP)
    return {
        "$schema": DIALECT,
        "title": "ecr-cleaner policy file",
        "description": "Which ECR images ecr-cleaner removes, and what it never touches.",
        **top,
        "$defs": writer.defs,
    }


def schema_text() -> str:
    """The schema as the shipped file holds it."""
    return json.dumps(policy_schema(), indent=2, ensure_ascii=False) + "\n"


def schema_path() -> Path:
    """Where the installed schema file is, to point an editor or a validator at it."""
    # Wheels and editable installs put the package in a directory, so the resource is
    # a real file on disk.
    return Path(str(resources.files("cleaner").joinpath(SCHEMA_FILE)))


def load_schema() -> dict[str, Any]:
    text = resources.files("cleaner").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cleaner.config.schema",
        description=f"Print the policy file's JSON Schema, or write it to {SCHEMA_FILE}.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"write {schema_path()}")
    action.add_argument("--check", action="store_true", help="exit 1 if that file is stale")
    options = parser.parse_args(argv)
    text = schema_text()
    if options.write:
        schema_path().write_text(text, encoding="utf-8")
    elif options.check:
        if schema_path().read_text(encoding="utf-8") != text:
            print(f"{schema_path()} is stale: run `make schema`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

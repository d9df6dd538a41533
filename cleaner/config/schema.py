"""The JSON Schema of the policy file, shipped in the package for editors and CI checks.

The schema describes the file's shape for completion and early feedback; the loader in
`cleaner.config.load` remains the authority (it also checks regexes, cron expressions, time
zones and duplicate names, which a schema cannot).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any, cast

SCHEMA_FILE = "policy.schema.json"


def schema_path() -> Path:
    """Where the installed schema file is, to point an editor or a validator at it."""
    # Wheels and editable installs put the package in a directory, so the resource is
    # a real file on disk.
    return Path(str(resources.files("cleaner").joinpath(SCHEMA_FILE)))


def load_schema() -> dict[str, Any]:
    text = resources.files("cleaner").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return cast(dict[str, Any], json.loads(text))

"""Files a command will write: checked before any AWS call, written atomically, and
never lost when the write fails after the work is done."""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def file_problem(path: str) -> str | None:
    """Why `path` cannot be written as a file, or None if it can."""
    target = Path(path)
    parent = target.parent
    if target.is_dir():
        return f"{path}: is a directory"
    if not parent.is_dir():
        return f"{path}: directory {parent} does not exist"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{path}: directory {parent} is not writable"
    if target.exists() and not os.access(target, os.W_OK):
        return f"{path}: not writable"
    return None


def directory_problem(path: str) -> str | None:
    """Why `path` cannot hold the files a command writes into it (it is created if its
    parent exists), or None."""
    target = Path(path)
    if target.exists() and not target.is_dir():
        return f"{path}: not a directory"
    existing = target if target.exists() else target.parent
    if not existing.is_dir():
        return f"{path}: directory {existing} does not exist"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{path}: directory {existing} is not writable"
    return None


def write_atomically(text: str, path: str | None) -> None:
    """`text` to `path` (stdout if None); a reader never sees half a file."""
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def write_fallback(text: str, name: str, now: datetime | None = None) -> Path:
    """Keep `text` in the system's temporary directory when its own place failed."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    handle, path = tempfile.mkstemp(prefix=f"ecr-cleaner-{stamp}-", suffix=f"-{name}")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    return Path(path)

"""`command`: an external program (no shell) that prints image references, one or
more a line; kubectl, a script asking another cluster, ..."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from datetime import timedelta

from cleaner.config import fields as f
from cleaner.config.fields import Check, Issues
from cleaner.config.shape import Key, Shape
from cleaner.core.references import Usage
from cleaner.inuse.kinds import Runner, SourceKind, SourceRequest
from cleaner.inuse.reading import SourceError, references_in

DEFAULT_COMMAND_TIMEOUT = timedelta(minutes=2)
OUTPUT_EXCERPT = 300
# Handed to the command, so one script can serve several targets.
REGION_ENV = "ECR_CLEANER_REGION"
REGISTRY_ENV = "ECR_CLEANER_REGISTRY_ID"


def read_command(
    argv: Sequence[str],
    *,
    timeout: timedelta | None,
    environment: Mapping[str, str],
    run: Runner = subprocess.run,
) -> list[Usage]:
    """Run `argv` (no shell) and read the references it prints; a non-zero exit or a
    timeout is a failure. `environment` is added to this process's environment."""
    limit = (timeout or DEFAULT_COMMAND_TIMEOUT).total_seconds()
    try:
        done = run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **environment},
        )
    except subprocess.TimeoutExpired:
        raise SourceError(f"timed out after {limit:g}s") from None
    except OSError as exc:
        raise SourceError(f"cannot run {argv[0]!r}: {exc.strerror or exc}") from None
    if done.returncode != 0:
        said = (done.stderr or "").strip()[-OUTPUT_EXCERPT:]
        raise SourceError(f"exited with status {done.returncode}" + (f": {said}" if said else ""))
    return references_in(done.stdout, f"command {argv[0]}")


def _read(request: SourceRequest) -> list[Usage]:
    argv, timeout = request.options["argv"], request.options.get("timeout")
    assert isinstance(argv, tuple) and isinstance(timeout, timedelta | None)
    target = request.target
    environment = {REGION_ENV: target.region, REGISTRY_ENV: target.registry_id or ""}
    return read_command(argv, timeout=timeout, environment=environment, run=request.run)


def _label(options: Mapping[str, object]) -> str:
    argv = options.get("argv", ())
    assert isinstance(argv, tuple)
    return "command " + " ".join(str(a) for a in argv)


def _argv(issues: Issues, path: str, value: object) -> tuple[str, ...] | None:
    # A tuple, so the frozen config stays hashable.
    argv = f.strings(issues, path, value, "strings")
    return tuple(argv) if argv is not None else None


KIND = SourceKind(
    name="command",
    description="An external command printing image references.",
    read=_read,
    label=_label,
    options=Shape(
        {
            "argv": Key(
                Check(_argv, {"type": "array", "minItems": 1, "items": f.string}),
                "Program and arguments (no shell).",
                required=True,
            ),
            "timeout": Key(
                f.duration,
                "Longest the command may run. Default:"
                f" {int(DEFAULT_COMMAND_TIMEOUT.total_seconds() // 60)}m.",
            ),
        }
    ),
    position=30,
)

"""structlog setup: JSON lines for machines, console lines for people, always on stderr
so that stdout carries only the report."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

FORMATS = ("auto", "json", "console")
REDACTED = "[REDACTED]"
# A key containing one of these (case and -/_ ignored) never reaches the log with its
# value: credentials from STS, request signatures, passwords. Over-matching (a paging
# token) costs nothing; under-matching leaks a secret into log storage.
_SECRET_WORDS = (
    "secret",
    "token",
    "password",
    "passwd",
    "authorization",
    "credential",
    "signature",
    "access_key",
    "cookie",
)
# The process environment holds credentials in most deployments: dropped whole.
_DROPPED_KEYS = frozenset({"env", "environ", "environment"})


class _Stderr:
    """Whatever sys.stderr is at write time (it is replaced under test runners and
    daemons); binding the object once would write to a closed stream later."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _OneAtATime:
    """Writes to `stream` one at a time, across threads. Unbuffered (PYTHONUNBUFFERED,
    as containers often set), each write is a system call of its own, and the kernel
    keeps a write to a pipe whole only up to 4 KiB: a batch of a worker's lines
    (cleaner/run/worker.py), or a long event, could otherwise take another thread's
    line into its middle."""

    _lock = threading.Lock()

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with self._lock:
            written: int = self._stream.write(text)
            self._stream.flush()
            return written

    def flush(self) -> None:
        with self._lock:
            self._stream.flush()


def _is_secret(key: str) -> bool:
    normalized = key.lower().replace("-", "_")
    compact = normalized.replace("_", "")
    return any(word in normalized or word.replace("_", "") in compact for word in _SECRET_WORDS)


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _is_secret(k) else _redact(v)
            for k, v in value.items()
            if not (isinstance(k, str) and k.lower() in _DROPPED_KEYS)
        }
    if isinstance(value, list | tuple):
        return [_redact(v) for v in value]
    return value


def redact_secrets(
    logger: Any, method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: secret-looking keys (at any depth) are redacted, the
    environment is dropped."""
    clean: MutableMapping[str, Any] = _redact(event_dict)
    return clean


class _ToStructlog(logging.Handler):
    """Library warnings (APScheduler's missed runs, ...) as events of the same stream,
    rendered and redacted like the cleaner's own."""

    def emit(self, record: logging.LogRecord) -> None:
        structlog.get_logger(record.name).log(
            record.levelno, record.getMessage(), logger=record.name, exc_info=record.exc_info
        )


def _forward_library_logs(names: tuple[str, ...] = ("apscheduler",)) -> None:
    for name in names:
        library = logging.getLogger(name)
        for handler in [h for h in library.handlers if isinstance(h, _ToStructlog)]:
            library.removeHandler(handler)
        # Their INFO lines ("Running job ...") repeat the cleaner's own events.
        library.setLevel(logging.WARNING)
        library.addHandler(_ToStructlog())
        library.propagate = False


# The last configure()'s (format, level), "auto" resolved, and where it writes: the
# worker processes of a run (cleaner/run/worker.py) render their events the same way,
# and this process writes their lines where it writes its own.
_settings: tuple[str, str] | None = None
_output = _OneAtATime(_Stderr())


def settings() -> tuple[str, str] | None:
    """(format, level) as last configured, or None if configure() was never called."""
    return _settings


def write_rendered(text: str) -> None:
    """Whole lines of events another process rendered with settings(): one write."""
    _output.write(text)


def configure(log_format: str = "auto", level: str = "info", stream: Any = None) -> None:
    """`stream`: where rendered events go (default: whatever sys.stderr is then)."""
    global _settings, _output
    use_json = log_format == "json" or (log_format == "auto" and not sys.stdout.isatty())
    _settings = ("json" if use_json else "console", level)
    _output = output = _OneAtATime(stream or _Stderr())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        # One write per event (print() writes the line and its newline in two calls):
        # threads, and the worker processes whose events this process writes, never
        # share a line.
        logger_factory=structlog.WriteLoggerFactory(file=output),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    _forward_library_logs()

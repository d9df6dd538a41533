"""Every exit code of the command line, in one place."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # done, also when there was nothing to do
    FAILURES = 1  # finished, but some deletions, repositories or sources failed
    USAGE = 2  # invalid configuration or usage: nothing was touched
    LIMIT = 3  # a safety limit stopped the run before it deleted anything
    SIGINT = 130  # stopped by SIGINT (128 + 2); the report was written
    SIGTERM = 143  # stopped by SIGTERM (128 + 15); the report was written

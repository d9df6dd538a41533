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


# A run's outcome, as `serve` counts runs (`runs_total{outcome}`) and notifications say.
OUTCOMES = ("success", "failures", "limit", "stopped", "error")


def outcome_of(exit_code: int | None, *, stopped: bool = False) -> str:
    """`runs_total{outcome}` for a run's exit code (None: the run raised). A run that a
    stop request cut short is `stopped` whatever else happened: it did not finish."""
    if exit_code is None:
        return "error"
    if stopped:
        return "stopped"
    return {0: "success", 1: "failures", 3: "limit"}.get(exit_code, "error")

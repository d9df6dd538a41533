"""One line for the report and the log, from any exception a run can meet.

Kept out of the AWS layer so the in-use sources, the pipeline and `serve` can name an
error without importing botocore: an AWS error is recognised by the `response` it
carries (botocore's ClientError shape), not by its class.
"""

from __future__ import annotations

from typing import Any


def _aws_error(exc: Exception) -> dict[str, Any] | None:
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return error if isinstance(error, dict) else None


def error_code(exc: Exception) -> str:
    """The AWS error code (`ImageNotFoundException`), else the exception's class name."""
    error = _aws_error(exc)
    if error is not None:
        return str(error.get("Code", "ClientError"))
    return type(exc).__name__


def error_message(exc: Exception) -> str:
    """The AWS error's message alone, else the exception's own text."""
    error = _aws_error(exc)
    if error is not None and "Message" in error:
        return str(error["Message"])
    return str(exc)


def error_text(exc: Exception) -> str:
    """One line for the report and the log: the AWS error code and message."""
    error = _aws_error(exc)
    if error is not None:
        return f"{error_code(exc)}: {error.get('Message', '')}"
    return f"{type(exc).__name__}: {exc}"

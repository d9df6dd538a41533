"""botocore's retries, made visible and bounded for an endpoint that cannot be reached.

botocore retries throttling, 5xx and connection errors alike, up to `max_attempts`
with exponential backoff: right for throttling, but an endpoint that refuses every
connection (a wrong AWS_ENDPOINT_URL, no route) then kept `plan` silent for ~30 s.
Each retry is logged with its attempt number, and connection errors give up after
CONNECT_ATTEMPTS attempts, so such a run says what is wrong within 15 s.
"""

from __future__ import annotations

from typing import Any

import structlog
from botocore.exceptions import ConnectionError as BotoConnectionError

log = structlog.get_logger("cleaner.aws")

# With a 3 s connect timeout: at most 3 x 3 s plus backoff (at most 1 s + 2 s) = 12 s.
CONNECT_ATTEMPTS = 3
CONNECT_TIMEOUT = 3


def watch_retries(client: Any) -> None:
    """Log each retry of `client`'s calls; stop retrying connection errors early."""
    service = client.meta.service_model.service_id.hyphenize()
    total = int(client.meta.config.retries.get("total_max_attempts", 1))
    client.meta.events.register_first(
        f"needs-retry.{service}", _RetryWatch(service, total).needs_retry
    )


class _RetryWatch:
    def __init__(self, service: str, total_attempts: int) -> None:
        self.service = service
        self.total_attempts = total_attempts

    def needs_retry(
        self,
        attempts: int,
        response: Any = None,
        caught_exception: Exception | None = None,
        operation: Any = None,
        **_: Any,
    ) -> None:
        """Runs before botocore's own retry handler and never answers for it (None)."""
        cause = _cause(response, caught_exception)
        if cause is None:
            return None
        unreachable = isinstance(caught_exception, BotoConnectionError)
        if unreachable and attempts >= CONNECT_ATTEMPTS:
            assert caught_exception is not None
            raise caught_exception
        if attempts < self.total_attempts:
            log.warning(
                "aws_call_retried",
                service=self.service,
                operation=getattr(operation, "name", None),
                attempt=attempts,
                max_attempts=CONNECT_ATTEMPTS if unreachable else self.total_attempts,
                cause=cause,
            )
        return None


def _cause(response: Any, caught: Exception | None) -> str | None:
    """Why a call failed in a way botocore may retry, or None if it did not fail so."""
    if caught is not None:
        return f"{type(caught).__name__}: {caught}"
    if not response:
        return None
    http, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code")
    if http.status_code >= 500 or (code and "Throttl" in code) or code == "TooManyRequests":
        return f"{code or 'HTTP'} {http.status_code}"
    return None

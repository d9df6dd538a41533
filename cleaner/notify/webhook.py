"""POST a JSON document to a webhook, with a timeout and a few retries.

The standard library's HTTP client is enough for one small POST; it honours the usual
proxy variables (HTTPS_PROXY, NO_PROXY). A URL is never logged: webhook URLs carry
their secret in the path.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from cleaner import __version__

TIMEOUT = 10.0  # seconds for each attempt: connecting and the answer
ATTEMPTS = 3
BACKOFF = 2.0  # seconds before the second attempt, doubling after


class WebhookError(Exception):
    """The webhook could not be delivered, after every attempt."""


def post_json(
    url: str,
    payload: Any,
    *,
    timeout: float = TIMEOUT,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Retries what may pass on its own (no connection, a timeout, HTTP 429 and 5xx);
    any other HTTP error (a wrong URL, a revoked hook) fails at once."""
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "User-Agent": f"ecr-cleaner/{__version__}"}
    problem = ""
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            sleep(BACKOFF * 2 ** (attempt - 2))
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
            return
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code} {exc.reason}"
            if exc.code != 429 and exc.code < 500:
                break
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            problem = f"no answer within {timeout:g}s" if _timed_out(reason) else str(reason)
    raise WebhookError(f"{problem} (after {attempt} attempt{'s' if attempt > 1 else ''})")


def _timed_out(reason: object) -> bool:
    return isinstance(reason, TimeoutError) or "timed out" in str(reason)

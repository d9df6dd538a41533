"""botocore's own call for what the fast path (cleaner/aws/fast_calls.py) did not
take: the answer it received, or the exception its request raised, replayed as the
first attempt of the client's method.

The client's `before-send` handler (`Gate`) answers that attempt with what was
received instead of letting botocore send the request again; botocore then parses it,
logs and retries it, feeds it to the rate limiter and raises its error exactly as if
it had sent the request itself.

The adaptive retry mode's rate limiter waits for a token on `before-send`: it must wait
once for each request that goes on the wire, the fast path's included, and not again for
a replayed attempt. So the gate takes the limiter's place on `before-send` and calls it
unless it is answering a replay. botocore keeps the limiter nowhere but in the handlers
it registers (botocore.retries.adaptive.register_retry_handler), so it is found there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.retries.adaptive import ClientRateLimiter


@dataclass(frozen=True)
class Replay:
    event: str  # the `before-send` event of the call being replayed
    response: Any = None
    exception: BaseException | None = None


class Gate:
    """The client's `before-send` handler in place of the adaptive rate limiter's: it
    lets the limiter wait for a token before each request, except when it answers the
    first attempt of a replayed call with what the fast path already received (the
    limiter already waited for that request). It is registered first on the generic
    `before-send`: only handlers of a more specific `before-send.ecr...` event, which the
    cleaner does not register, would see a replayed attempt before it."""

    def __init__(self, limiter: Callable[..., Any] | None) -> None:
        self._limiter = limiter
        self._local = threading.local()

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> Any:
        replay: Replay | None = getattr(self._local, "replay", None)
        if replay is not None and event_name == replay.event:
            self._local.replay = None
            if replay.exception is not None:
                raise replay.exception
            return replay.response
        if self._limiter is not None:
            self._limiter(request=request, **kwargs)
        return None

    @contextmanager
    def replaying(self, replay: Replay) -> Iterator[None]:
        self._local.replay = replay
        try:
            yield
        finally:
            self._local.replay = None  # never left for a later call on this thread


def rate_limiter(client: Any) -> tuple[bool, ClientRateLimiter | None]:
    """(known, limiter): the client's adaptive rate limiter (None if it has none), and
    whether the client's handlers could be read at all. botocore keeps the limiter only
    in the handlers it registers (adaptive.register_retry_handler)."""
    found = _limiters(client, "needs-retry")
    if found is None or len(found) > 1:
        return False, None
    return True, found.pop() if found else None


def _limiters(client: Any, event: str) -> set[ClientRateLimiter] | None:
    """The rate limiters with a handler registered on `event` itself (None: unknown)."""
    emitter = getattr(client.meta.events, "_emitter", None)
    handlers = getattr(emitter, "_handlers", None)
    if handlers is None or not hasattr(handlers, "prefix_search"):
        return None
    return {
        handler.__self__
        for handler in handlers.prefix_search(event)
        if isinstance(getattr(handler, "__self__", None), ClientRateLimiter)
    }


def install_gate(client: Any) -> Gate | None:
    """The client's gate, in the rate limiter's place on `before-send`; None (and the
    client untouched) if its handlers are not what this module knows."""
    known, limiter = rate_limiter(client)
    adaptive = client.meta.config.retries.get("mode") == "adaptive"
    if not known or (adaptive and limiter is None):
        return None
    waits = None if limiter is None else limiter.on_sending_request
    if limiter is not None:
        if _limiters(client, "before-send") != {limiter}:
            return None
        # adaptive.register_retry_handler registers it on every `before-send`.
        client.meta.events.unregister("before-send", waits)
        if _limiters(client, "before-send"):
            client.meta.events.register("before-send", waits)  # as it was
            return None
    gate = Gate(waits)
    client.meta.events.register_first("before-send", gate)
    return gate

"""AWS clients per target: the standard credential chain, assumed roles, retries."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config as BotoConfig
from botocore.loaders import Loader, create_loader
from botocore.utils import parse_timestamp

from cleaner.aws import fast_calls, fast_parse
from cleaner.aws.credentials import Role, TimeFetcher, assumed_session
from cleaner.aws.retries import CONNECT_TIMEOUT, watch_retries
from cleaner.config.model import Target

# ECR publishes no rate for DescribeImages/BatchDeleteImage: adaptive mode backs off on
# ThrottlingException and retries 5xx; enough attempts to ride out a burst.
# A short connect timeout: an unreachable endpoint must be reported within seconds
# (cleaner/aws/retries.py bounds its retries); a slow answer still has the default 60 s.
RETRY_CONFIG = BotoConfig(
    retries={"mode": "adaptive", "max_attempts": 10}, connect_timeout=CONNECT_TIMEOUT
)
# One connection per worker thread (limits.concurrency is at most 64); the default of
# 10 would make threads beyond that wait for a connection, or discard them.
CLIENT_CONFIG = RETRY_CONFIG.merge(BotoConfig(max_pool_connections=64))


def _utc_timestamp(value: Any) -> datetime:
    kind = type(value)  # floats first: a listing parses two or three per image
    if kind is float or kind is int or isinstance(value, int | float):  # epoch seconds
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed.astimezone(UTC)


def utc_timestamps(session: Any) -> None:
    """Parse response timestamps as UTC epoch seconds. botocore's default converts every
    one to the local zone through dateutil: a third of the client's CPU when listing a
    large registry (profiled with bench/latency.py), for times the cleaner only compares."""
    factory = session._session.get_component("response_parser_factory")
    factory.set_parser_defaults(timestamp_parser=_utc_timestamp)


_loaders: dict[str | None, Loader] = {}
_loaders_lock = threading.Lock()


def share_service_models(session: Any) -> None:
    """Let `session` read the service models through the process's one botocore Loader.

    The models are read-only JSON files (endpoints, ECR, STS, ...: megabytes), which
    every new session would otherwise find and parse again; a run makes a session of
    its own (and one per assumed role), so that was most of a small run's CPU. Call it
    before the session makes a client."""
    core = session._session
    path = core.get_config_variable("data_path")  # $AWS_DATA_PATH
    with _loaders_lock:
        loader = _loaders.get(path)
        if loader is None:
            loader = _loaders[path] = create_loader(path)
    core.register_component("data_loader", loader)


class Clients:
    """AWS clients per target from the standard AWS chain (AWS_ENDPOINT_URL[_ECR] and the
    like honoured by botocore), acting as the target's `role_arn` where it names one.

    ECR, ECS and Lambda clients of a target share its region, role and retry settings.
    boto3 clients are thread-safe but sessions are not: clients are made under a lock,
    once per (service, region, role), and then shared by the worker threads.
    """

    def __init__(
        self,
        session: Any = None,
        *,
        time_fetcher: TimeFetcher | None = None,
        fast_calls: bool = True,
    ) -> None:
        import boto3

        portable = session is None and time_fetcher is None
        if session is None:  # an injected session (tests) is its maker's to set up
            session = boto3.session.Session()
            share_service_models(session)
        self.session: Any = session
        # Another process can make the same clients from its own environment only if
        # nothing was handed in here (cleaner/run/parallel.py).
        self.portable = portable
        self._time_fetcher = time_fetcher  # for the credentials' expiry; tests inject it
        # The hot ECR calls sent by cleaner/aws/fast_calls.py; False: all through botocore.
        self.fast_calls = fast_calls
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str, Role | None, str], Any] = {}
        self._sessions: dict[Role, Any] = {}

    def for_target(self, service: str, target: Target, lane: str = "") -> Any:
        """The target's client; clients of different `lane`s keep separate retry and
        rate-limiter state (see Registry)."""
        role = None
        if target.role_arn is not None:
            role = Role(target.role_arn, target.external_id, target.session_name)
        return self.client(service, target.region, role, lane)

    def ecr(self, region: str, role_arn: str | None = None) -> Any:
        return self.client("ecr", region, Role(role_arn) if role_arn else None)

    def client(
        self,
        service: str,
        region: str,
        role: Role | None = None,
        lane: str = "",
        config: BotoConfig | None = None,
    ) -> Any:
        """`config` replaces the retry and timeout settings; give such a client a lane
        of its own."""
        key = (service, region, role, lane)
        with self._lock:
            if key not in self._clients:
                session = self.session if role is None else self._assumed(role, region)
                utc_timestamps(session)
                client = session.client(service, region_name=region, config=config or CLIENT_CONFIG)
                watch_retries(client)
                if service == "ecr":
                    fast_parse.register(client, _utc_timestamp)
                    if self.fast_calls:
                        fast_calls.install(client, _utc_timestamp)
                self._clients[key] = client
            return self._clients[key]

    def _assumed(self, role: Role, region: str) -> Any:
        """One session per role, whatever the region: its credentials work in all."""
        if role not in self._sessions:
            sts = self.session.client("sts", region_name=region, config=RETRY_CONFIG)
            watch_retries(sts)
            self._sessions[role] = assumed_session(
                sts, role, region, time_fetcher=self._time_fetcher
            )
            share_service_models(self._sessions[role])
        return self._sessions[role]

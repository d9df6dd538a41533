"""Assumed-role sessions whose credentials renew themselves.

A cleaning pass over a large organisation can outlast an STS session (one hour by
default), and `serve` keeps its clients for days: credentials fetched once would
expire mid-run. botocore's refreshable credentials call AssumeRole again shortly
before expiry, under their own lock, so the threads sharing a client never see an
expired key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cleaner.config.model import DEFAULT_SESSION_NAME

# What RefreshableCredentials asks for: the current time, timezone-aware.
TimeFetcher = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Role:
    arn: str
    external_id: str | None = None
    session_name: str | None = None

    def assume_role_params(self) -> dict[str, str]:
        params = {"RoleArn": self.arn, "RoleSessionName": self.session_name or DEFAULT_SESSION_NAME}
        if self.external_id:
            params["ExternalId"] = self.external_id
        return params


def assumed_session(
    sts: Any, role: Role, region: str, *, time_fetcher: TimeFetcher | None = None
) -> Any:
    """A boto3 session acting as `role`; `sts` (a client with the caller's credentials)
    is called on first use and again whenever the credentials are about to expire."""
    import boto3
    import botocore.session
    from botocore.credentials import DeferredRefreshableCredentials

    def refresh() -> dict[str, str]:
        credentials = sts.assume_role(**role.assume_role_params())["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    options = {} if time_fetcher is None else {"time_fetcher": time_fetcher}
    refreshable = DeferredRefreshableCredentials(
        refresh_using=refresh, method="sts-assume-role", **options
    )
    core: Any = botocore.session.get_session()
    # botocore has no public setter for a credentials object; this is the attribute its
    # own credential resolver fills, and every client of the session reads it.
    core._credentials = refreshable
    return boto3.session.Session(botocore_session=core, region_name=region)

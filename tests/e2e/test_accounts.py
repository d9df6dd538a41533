"""Across accounts and regions: each target reached through its own role, with
credentials that renew themselves before they expire."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from workloads import Workloads, reset_moto

from cleaner.aws.clients import Clients
from cleaner.config.load import parse_config
from cleaner.config.model import Config
from cleaner.run.options import RunOptions
from cleaner.run.pipeline import run_once
from cleaner.sandbox import Sandbox, Seeder

NOW = datetime(2027, 1, 1, tzinfo=UTC)
OLD = NOW - timedelta(days=30)
CALLER = "123456789012"  # the account of the sandbox's default credentials
ACCOUNTS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")


def role(account: str) -> str:
    return f"arn:aws:iam::{account}:role/ecr-cleaner"


def organisation(in_use: bool = False) -> Config:
    policy: dict[str, Any] = {
        "name": "all",
        "rules": [{"name": "old", "expire": {"pushed_before": "1d"}}],
    }
    if in_use:
        policy["protect"] = {"in_use": {"sources": ["ecs"]}}
    return parse_config(
        {
            "version": 1,
            "targets": [
                {
                    "regions": list(REGIONS),
                    "role_arn": role(ACCOUNTS[0]),
                    "external_id": "org-42",
                    "session_name": "nightly",
                },
                {"regions": list(REGIONS), "role_arn": role(ACCOUNTS[1])},
            ],
            "policies": [policy],
        }
    )


@pytest.fixture
def seeded(sb: Sandbox) -> Iterator[dict[tuple[str, str], dict[str, str]]]:
    """In every account and region (and the caller's own, which no target names): one
    old image and one fresh image in repository "app"."""
    reset_moto(sb)
    seeder = Seeder(sb.store)
    images = {}
    for account in (*ACCOUNTS, CALLER):
        for region in REGIONS:
            repo = seeder.repository("app", account=account, region=region)
            images[(account, region)] = {
                "old": repo.image([f"old-{account}-{region}"], pushed_at=OLD),
                "fresh": repo.image([f"fresh-{account}-{region}"], pushed_at=NOW),
            }
    yield images
    reset_moto(sb)


def left(sb: Sandbox, account: str, region: str) -> set[str]:
    repo = sb.store.repository(account, region, "app")
    assert repo is not None
    return set(repo.images)


def test_assumed_role_credentials_act_in_the_roles_account(sb: Sandbox) -> None:
    # What the rest relies on: the sandbox's ECR, like moto, takes the account from the
    # access key, and STS's keys for a role map to the role's account.
    sts = sb.client("sts")
    creds = sts.assume_role(RoleArn=role(ACCOUNTS[1]), RoleSessionName="check")["Credentials"]
    ecr = boto3.session.Session().client(
        "ecr",
        region_name="eu-west-1",
        endpoint_url=sb.endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    ecr.create_repository(repositoryName="probe")
    assert sb.store.repository(ACCOUNTS[1], "eu-west-1", "probe") is not None
    assert sb.store.repository(CALLER, "eu-west-1", "probe") is None


def test_each_registry_is_cleaned_with_its_own_roles_credentials(
    sb: Sandbox, seeded: dict[tuple[str, str], dict[str, str]]
) -> None:
    result = run_once(organisation(), Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 0
    # No registry_id in the targets: each registry is the one its role's account owns.
    assert [
        (r.repository.registry_id, r.repository.region) for r in result.report.repositories
    ] == [(account, region) for region in sorted(REGIONS) for account in ACCOUNTS]
    for account in ACCOUNTS:
        for region in REGIONS:
            assert left(sb, account, region) == {seeded[(account, region)]["fresh"]}
    for region in REGIONS:  # the caller's own registry is no target: untouched
        assert left(sb, CALLER, region) == set(seeded[(CALLER, region)].values())


@pytest.mark.slow  # ~2 s
def test_in_use_sources_read_each_account_through_its_role(
    sb: Sandbox, seeded: dict[tuple[str, str], dict[str, str]]
) -> None:
    # A task in account 2 / us-east-1 runs that registry's old image; the same tag in
    # account 1 is no workload of account 1's.
    creds = sb.client("sts").assume_role(RoleArn=role(ACCOUNTS[1]), RoleSessionName="seed")
    account2 = Workloads(sb, account=ACCOUNTS[1], credentials=creds["Credentials"])
    image = f"{ACCOUNTS[1]}.dkr.ecr.us-east-1.amazonaws.com/app:old-{ACCOUNTS[1]}-us-east-1"
    account2.task("prod", image)

    result = run_once(organisation(in_use=True), Clients(), NOW, RunOptions(dry_run=False))

    assert result.exit_code == 0
    kept = seeded[(ACCOUNTS[1], "us-east-1")]
    assert left(sb, ACCOUNTS[1], "us-east-1") == {kept["old"], kept["fresh"]}
    assert left(sb, ACCOUNTS[0], "us-east-1") == {seeded[(ACCOUNTS[0], "us-east-1")]["fresh"]}


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class RecordingSession:
    """The caller's session, recording each AssumeRole; the credentials it hands out
    expire an hour after the fake clock's now (moto's would follow the real clock)."""

    def __init__(self, clock: FakeClock) -> None:
        self.inner = boto3.session.Session()
        self.clock = clock
        self.assumed: list[dict[str, Any]] = []

    def client(self, service: str, **options: Any) -> Any:
        client = self.inner.client(service, **options)
        if service == "sts":
            real = client.assume_role

            def assume_role(**params: Any) -> Any:
                self.assumed.append(params)
                answer = real(**params)
                answer["Credentials"]["Expiration"] = self.clock.now + timedelta(hours=1)
                return answer

            client.assume_role = assume_role
        return client


def test_credentials_are_renewed_when_a_run_outlives_them(
    sb: Sandbox, seeded: dict[tuple[str, str], dict[str, str]]
) -> None:
    clock = FakeClock()
    session = RecordingSession(clock)
    clients = Clients(session, time_fetcher=clock)

    assert run_once(organisation(), clients, NOW, RunOptions(dry_run=True)).exit_code == 0
    # One AssumeRole per role, shared by its two regions and all their threads.
    assert sorted(p["RoleArn"] for p in session.assumed) == [role(a) for a in ACCOUNTS]
    assert {
        "RoleArn": role(ACCOUNTS[0]),
        "RoleSessionName": "nightly",
        "ExternalId": "org-42",
    } in session.assumed
    assert {"RoleArn": role(ACCOUNTS[1]), "RoleSessionName": "ecr-cleaner"} in session.assumed

    # The next run's first DescribeImages happens 55 minutes later: inside the last 10
    # minutes of the credentials' hour, so they are renewed before the next call.
    next_call = sb.faults.calls["DescribeImages"] + 1
    later = clock.now + timedelta(minutes=55)
    sb.faults.after_call("DescribeImages", next_call, lambda store: setattr(clock, "now", later))
    result = run_once(organisation(), clients, NOW, RunOptions(dry_run=False))

    assert result.exit_code == 0
    assert len(session.assumed) == 4
    for account in ACCOUNTS:
        for region in REGIONS:
            assert left(sb, account, region) == {seeded[(account, region)]["fresh"]}

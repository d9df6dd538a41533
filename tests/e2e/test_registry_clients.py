"""Registry clients: UTC timestamps whatever the local zone, a client per deletion lane."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cleaner.aws.clients import Clients, _utc_timestamp
from cleaner.aws.ecr import ManifestCache, Registry
from cleaner.sandbox import RepoSeeder, Sandbox

PUSHED = datetime(2026, 3, 29, 1, 30, 15, 250000, tzinfo=UTC)  # near a DST change in Europe


def test_inventory_times_are_the_pushed_and_pulled_instants_in_utc(
    sb: Sandbox, repo: RepoSeeder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    digest = repo.image(["v1"], pushed_at=PUSHED, last_pulled=PUSHED.replace(hour=3))
    registry = Registry(Clients().ecr("us-east-1"), "us-east-1")
    (ref,) = registry.repositories()
    image = registry.inventory(ref, ManifestCache()).images[digest]
    assert image.pushed_at == PUSHED and image.pushed_at.tzinfo is UTC
    assert image.last_pulled == PUSHED.replace(hour=3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1_774_747_815.25, datetime(2026, 3, 29, 1, 30, 15, 250000, tzinfo=UTC)),
        ("2026-03-29T03:30:15+02:00", datetime(2026, 3, 29, 1, 30, 15, tzinfo=UTC)),
    ],
)
def test_utc_timestamp_parser(value: object, expected: datetime) -> None:
    assert _utc_timestamp(value) == expected


def test_deletions_get_a_client_of_their_own(sb: Sandbox) -> None:
    from cleaner.config.model import Target

    clients = Clients()
    target = Target(region="us-east-1")
    reader = clients.for_target("ecr", target)
    deleter = clients.for_target("ecr", target, lane="delete")
    assert deleter is not reader  # separate adaptive rate limiters
    assert clients.for_target("ecr", target, lane="delete") is deleter  # made once

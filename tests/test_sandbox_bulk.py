"""`ecr-cleaner sandbox --seed bulk:REPOSxIMAGES`: the argument, and the registry it
seeds (the benchmarks' mix: bench/seeding.py seeds through the same code, which
tests/test_bench_smoke.py runs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cleaner.cli import main
from cleaner.sandbox import Store
from cleaner.sandbox.bulk import MAX_IMAGES, BulkSeed, parse_bulk, seed_registry

NOW = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seed"),
    [
        ("bulk:50x2000", BulkSeed(50, 2000)),
        ("bulk:1x1", BulkSeed(1, 1)),
        ("bulk:007x10", BulkSeed(7, 10)),
    ],
)
def test_bulk_argument(text: str, seed: BulkSeed) -> None:
    assert parse_bulk(text) == seed


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("bulk:0x5", "bulk:0x5: repositories and images must be at least 1"),
        ("bulk:5x0", "bulk:5x0: repositories and images must be at least 1"),
        ("bulk:abc", "expected bulk:REPOSITORIESxIMAGES, like bulk:50x2000 (got 'bulk:abc')"),
        ("bulk:5x", "expected bulk:REPOSITORIESxIMAGES, like bulk:50x2000 (got 'bulk:5x')"),
        ("bulk:-1x5", "expected bulk:REPOSITORIESxIMAGES, like bulk:50x2000 (got 'bulk:-1x5')"),
        ("bulk:5X5", "expected bulk:REPOSITORIESxIMAGES, like bulk:50x2000 (got 'bulk:5X5')"),
        ("bulk:2000x2000", f"bulk:2000x2000: at most {MAX_IMAGES:,} images in all"),
    ],
)
def test_bad_bulk_arguments(text: str, error: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_bulk(text)
    assert str(raised.value) == error


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ("bulk:0x5", "repositories and images must be at least 1"),
        ("bulk:abc", "expected bulk:REPOSITORIESxIMAGES"),
        ("lots", "expected demo or bulk:REPOSxIMAGES (got 'lots')"),
    ],
)
def test_the_cli_exits_2_before_starting_the_sandbox(
    capsys: pytest.CaptureFixture[str], seed: str, message: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["sandbox", "--seed", seed])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: " in err and message in err


def test_bulk_seeds_the_benchmarks_mix() -> None:
    store = Store()
    total = seed_registry(store, 3, 40, NOW)
    repositories = store.registry("123456789012", "us-east-1")
    assert sorted(repositories) == ["team/service-0000", "team/service-0001", "team/service-0002"]
    assert total == sum(len(r.images) for r in repositories.values()) >= 3 * 40
    tags = {t for r in repositories.values() for image in r.images.values() for t in image.tags}
    assert {"feature-b1-1", "v0.5.5", "build-7"} <= tags

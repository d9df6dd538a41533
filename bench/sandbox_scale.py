"""Sandbox scale: seed N images into one repository, then page through them with
DescribeImages at 1000 a page over HTTP. Usage: python bench/sandbox_scale.py [N]"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from cleaner.sandbox import Sandbox, Seeder


def main(count: int) -> None:
    with Sandbox() as sandbox:
        started = time.perf_counter()
        Seeder(sandbox.store).repository("big").bulk(count, start=datetime(2025, 1, 1, tzinfo=UTC))
        seeded = time.perf_counter()
        ecr = sandbox.client("ecr")
        seen = 0
        for page in ecr.get_paginator("describe_images").paginate(
            repositoryName="big", PaginationConfig={"PageSize": 1000}
        ):
            seen += len(page["imageDetails"])
        paged = time.perf_counter()
    assert seen == count, (seen, count)
    print(f"images                 {count}")
    print(f"seed (fast path)       {seeded - started:.2f} s")
    print(f"DescribeImages pages   {sandbox.faults.calls['DescribeImages']}")
    print(f"page through (HTTP)    {paged - seeded:.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)

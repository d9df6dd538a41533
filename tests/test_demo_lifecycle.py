"""`ecr-cleaner demo --lifecycle`: a real lifecycle policy previewed with our protections,
then the audit catching what ECR itself would delete: the in-use release and the
platform images of a live multi-arch image."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

from cleaner.demo.lifecycle import run_lifecycle_demo

NOW = datetime(2027, 1, 1, tzinfo=UTC)


def test_lifecycle_demo_previews_then_audits() -> None:
    out = io.StringIO()
    assert run_lifecycle_demo(out=out, clock=lambda: NOW) == 0
    text = out.getvalue()
    for heading in ("1. The repository's ECR lifecycle policy", "3. The preview", "4. The audit"):
        assert heading in text
    assert '"description": "Keep the 5 newest releases"' in text  # the policy itself
    # The preview: ECR's rules, and the in-use release kept, saying why.
    assert "lifecycle rule 1  planned  beyond 5 most recent tagged v*; pushed 200d ago" in text
    assert (
        "ECR rule 1 would expire this (beyond 5 most recent tagged v*; pushed 160d ago); "
        "kept: in use by ecs service api (cluster prod, task definition api:1)"
    ) in text
    assert "would delete 12 images and 0 tags" in text
    assert re.search(r"\(previewed in [0-9.]+ s, the registry read included", text)
    # The audit: the in-use release, and the four manifests of the live v2.0.0-rc1.
    assert "ECR would act on 17 images; 5 of them this policy keeps:" in text
    assert text.count(", which ECR keeps") == 4
    assert "`ecr-cleaner lifecycle audit` exits 1 here" in text

"""The audit report: exit 1 when an image is at risk or a repository could not be
audited; a repository not found is listed and changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cleaner.config.lifecycle_model import ActionType
from cleaner.core.lifecycle.audit import Finding
from cleaner.core.model import RepositoryRef
from cleaner.report.audit import AuditReport, RepositoryAudit, to_json, to_table

NOW = datetime(2027, 1, 1, tzinfo=UTC)
REF = RepositoryRef("us-east-1", "123456789012", "team-a/api")
FINDING = Finding("sha256:" + "a" * 64, ("v1",), ActionType.EXPIRE, 2, "why", ("in use by x",))


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        (RepositoryAudit(REF, "p", 3, True, 1), 0),
        (RepositoryAudit(REF, "p", 3, False), 0),
        (RepositoryAudit(REF, "p", error="repository not found"), 0),
        (RepositoryAudit(REF, "p", 3, True, 1, (FINDING,)), 1),
        (RepositoryAudit(REF, "p", error="not audited: AccessDenied", failed=True), 1),
    ],
    ids=["nothing-at-risk", "no-lifecycle-policy", "not-found", "at-risk", "failed"],
)
def test_exit_code(entry: RepositoryAudit, code: int) -> None:
    assert AuditReport(NOW, [entry]).exit_code == code


def test_json_and_table_carry_every_finding() -> None:
    report = AuditReport(NOW, [RepositoryAudit(REF, "p", 3, True, 2, (FINDING,))], ["w"])
    data = json.loads(to_json(report))
    assert data["summary"] == {
        "repositories": 1,
        "with_lifecycle_policy": 1,
        "ecr_would_act_on": 2,
        "protected_at_risk": 1,
        "failures": 0,
    }
    assert data["repositories"][0]["at_risk"] == [
        {
            "digest": FINDING.digest,
            "tags": ["v1"],
            "ecr_action": "expire",
            "ecr_rule": 2,
            "ecr_reason": "why",
            "protected_by": ["in use by x"],
        }
    ]
    table = to_table(report)
    assert "ECR rule 2 would expire it: why" in table and "WARNING: w" in table

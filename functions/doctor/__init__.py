"""`remedy doctor`: is the account what the catalog says it is, and can the service work in it?

Each check is a domain function over ports (functions.doctor.ports; no boto3 here) that returns findings:
PASS, FAIL or WARN, what it looked at, and the exact fix (a command or a catalog edit). Where a check runs:

- `api`       through AWS APIs, with the caller's credentials: from the CLI (`remedy doctor --env ENV`,
              before and after a deploy) and in the daily scheduled run (`<prefix>-doctor`, maintenance stack).
              The Redshift Data API reaches the database from outside the VPC.
- `templates` through AWS APIs too, but compared with what the synthesized stacks will ask (the VPC endpoints
              the in-VPC functions need, reserved concurrency, the Powertools layer version of cdk.json): from
              the CLI only, which synthesizes the stacks it is about to deploy.
- `vpc`       from inside the catalog's private subnets: the brokers and the cluster are private. Only the
              daily run (`<prefix>-doctor-vpc`) makes these; `remedy doctor` shows its latest report and its age.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["PASS", "WARN", "FAIL"]
Where = Literal["api", "templates", "vpc"]

WHERE_TEXT: dict[str, str] = {
    "api": "CLI and daily run, through AWS APIs",
    "templates": "CLI only, AWS APIs vs the synthesized stacks",
    "vpc": "daily run inside the VPC only",
}


@dataclass(frozen=True)
class Finding:
    check: str  # the check's id, e.g. msk-cluster
    status: Status
    subject: str  # what it looked at: "MSK cluster retail-msk-dev", "Glue job sales-batch"
    detail: str  # what it found
    fix: str = ""  # the exact command or catalog edit; empty for PASS

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "subject": self.subject, "detail": self.detail,
                "fix": self.fix}


def worst(findings: list[Finding]) -> Status:
    statuses = {f.status for f in findings}
    return "FAIL" if "FAIL" in statuses else "WARN" if "WARN" in statuses else "PASS"

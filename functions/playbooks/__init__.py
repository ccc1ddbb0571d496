"""Declarations of the playbooks: data only, so CDK and tests read them without importing the playbooks.

Each playbook answers one runbook issue, has one Lambda function and one EventBridge rule. `reads` are the
read-only IAM actions its diagnosis and verification make; `actions` the registered actions it may plan
(their IAM actions are declared in functions.core.actions). CDK grants exactly reads + actions' needs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlaybookDeclaration:
    name: str
    runbook_section: str
    handler: str  # module.function inside the Lambda asset
    signals: tuple[str, ...]  # alarm signals (see functions.core.naming) routed to it
    reads: tuple[str, ...]
    actions: tuple[str, ...]


PLAYBOOKS: dict[str, PlaybookDeclaration] = {
    "msk_consumer_lag": PlaybookDeclaration(
        name="msk_consumer_lag",
        runbook_section="Common Issues and Resolutions / MSK Consumer Lag High",
        handler="functions.handlers.msk_consumer_lag.handler",
        signals=("consumer-lag",),
        reads=("glue:GetJobRuns",),
        actions=("glue.restart_streaming_job", "glue.scale_streaming_job"),
    ),
}

# Every handler reads alarm states (lineage hold), writes the audit trail, claims the circuit breaker,
# checks the kill switch, keeps idempotency records and notifies. CDK scopes each to its resource.
CORE_READS = ("cloudwatch:DescribeAlarms",)

"""Wiring for the procedure step handlers: settings from the environment, the catalog, the adapters,
built once per cold start (and again when the environment changes, as a new container would).

A handler calls one function here with its event and returns what it returns: the state machine puts
that into the run's data (ResultPath). A step that cannot go on raises: the state's Catch sends the run
into its failure path with the error's type and message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pydantic import Field

from functions.core.catalog import Catalog, load_catalog
from functions.core.ports import KillSwitchPort, SafetyPort
from functions.core.settings import FunctionSettings
from functions.procedures.adapters import AwsProcedurePorts
from functions.procedures.ports import ApprovalStore, AuditLog, Clock, Notifier


class ProcedureSettings(FunctionSettings):
    audit_table: str = Field(alias="AUDIT_TABLE")
    approvals_table: str = Field(alias="APPROVALS_TABLE")
    topic_arn: str = Field(alias="TOPIC_ARN")
    # The report's: an approval nobody answered pages the escalation target too (functions.core.escalation).
    escalation_topic_arn: str = Field(default="", alias="ESCALATION_TOPIC_ARN")
    # The gate's (functions/procedures/gate.py): ad-hoc freezes live in the playbooks' breaker table. The kill
    # switch's name is the catalog's (guardrails.kill_switch_parameter).
    breaker_table: str = Field(default="", alias="BREAKER_TABLE")


@dataclass(frozen=True)
class Wiring:
    settings: ProcedureSettings
    catalog: Catalog
    ports: AwsProcedurePorts  # every procedure port: each step passes the few it needs
    approvals: ApprovalStore
    audit: AuditLog
    notifier: Notifier
    escalation: Notifier | None
    clock: Clock
    kill_switch: KillSwitchPort
    safety: SafetyPort | None


def _environment_key() -> tuple[str, ...]:
    names = ("CATALOG_PATH", "AUDIT_TABLE", "APPROVALS_TABLE", "TOPIC_ARN", "ESCALATION_TOPIC_ARN", "BREAKER_TABLE",
             "AWS_ENDPOINT_URL", "AWS_REGION")
    return tuple(os.environ.get(name, "") for name in names)


@lru_cache(maxsize=2)
def _wiring(_key: tuple[str, ...]) -> Wiring:
    from functions.core.adapters.clients import Clients
    from functions.core.adapters.clock import SystemClock
    from functions.core.adapters.dynamodb import DynamoAudit
    from functions.core.adapters.safety import DynamoSafety
    from functions.core.adapters.sns import SnsNotifier
    from functions.core.adapters.ssm import SsmKillSwitch
    from functions.procedures.adapters import ApprovalTable

    settings = ProcedureSettings.model_validate(dict(os.environ))
    catalog = load_catalog(settings.catalog_path)
    clients = Clients()
    clock = SystemClock()
    ports = AwsProcedurePorts(clients, audit_table=settings.audit_table, database=catalog.redshift.database,
                              db_user=catalog.redshift.db_user, cluster_id=catalog.redshift.cluster_id)
    return Wiring(settings=settings, catalog=catalog, ports=ports,
                  approvals=ApprovalTable(clients, settings.approvals_table),
                  audit=DynamoAudit(clients, settings.audit_table, clock),
                  notifier=SnsNotifier(clients, settings.topic_arn),
                  escalation=SnsNotifier(clients, settings.escalation_topic_arn)
                  if settings.escalation_topic_arn else None, clock=clock,
                  kill_switch=SsmKillSwitch(clients, catalog.guardrails.kill_switch_parameter),
                  safety=DynamoSafety(clients, settings.breaker_table) if settings.breaker_table else None)


def wiring() -> Wiring:
    return _wiring(_environment_key())


def now() -> datetime:
    return datetime.now(UTC)


def step(event: dict[str, Any]) -> str:
    return str(event.get("step", "")) if isinstance(event, dict) else ""


def state_of(event: dict[str, Any]) -> dict[str, Any]:
    """The run's data, with the procedure the state machine names (the input's own claim does not count).
    InputRefused (one line) for anything else: only a state machine invokes a step, always with an object."""
    if not isinstance(event, dict) or not isinstance(event.get("state"), dict):
        from functions.procedures.inputs import InputRefused

        json_types = {"list": "an array", "str": "a string", "int": "a number", "float": "a number",
                      "bool": "a boolean", "NoneType": "null"}
        what = (json_types.get(type(event).__name__, type(event).__name__) if not isinstance(event, dict) else
                f"an object with keys {', '.join(repr(k)[:40] for k in sorted(map(str, event))[:6]) or 'none'}")
        raise InputRefused(f"not a procedure step's input (an object with the run's 'state', from its state "
                           f"machine): got {what[:200]}")
    state = dict(event["state"])
    state["procedure"] = event.get("procedure") or state.get("procedure", "")
    return state


def is_schedule(event: Any) -> bool:
    """An EventBridge schedule's event (the approval step's sweep), not a state machine's input."""
    return isinstance(event, dict) and event.get("detail-type") == "Scheduled Event" and "state" not in event


def sweep_time(event: dict[str, Any]) -> datetime:
    """The time this service's own schedule fired for; InputRefused (one line) for any other schedule's."""
    from functions.core.events import BadEvent, parse_scheduled_event
    from functions.procedures.inputs import InputRefused

    try:
        return parse_scheduled_event(event, wiring().catalog)
    except BadEvent as error:
        raise InputRefused(f"not a procedure step's input, nor this service's sweep schedule: {error}") from None


STATE_KEYS = {"plan", "results", "approval", "failed", "outcome"}  # what the state machine adds to the input


def validated_input(event: dict[str, Any]) -> Any:
    """The run's input, validated again (a run started from the console skipped the CLI's check)."""
    from functions.procedures.inputs import validate

    state = state_of(event)
    fields = {k: v for k, v in state.items() if k not in STATE_KEYS}
    return validate(state["procedure"], fields, wiring().catalog, now())

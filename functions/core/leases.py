"""Leases: a scale-up is borrowed capacity. It records how to undo itself and is reverted once the alarm
that asked for it has stayed OK for the catalog's lease period (guardrails.lease_minutes).

A scheduled event (EventBridge rule) asks each playbook function to check its leases; the event's own
time is "now", so a delayed or replayed check judges the moment it stands for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from functions.core.catalog import Catalog
from functions.core.models import Action, ActionResult, Incident, Plan, Verification, VerificationStatus
from functions.core.ports import PlaybookPorts


class Lease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str  # catalog component, e.g. glue:orders-stream
    playbook: str
    alarm_name: str  # the alarm whose OK state ends the lease
    revert: Action  # what puts the borrowed capacity back
    granted_at: datetime


def lease_from(result: ActionResult, incident: Incident) -> Lease | None:
    """The lease an action's result asks for (its `changed` carries `revert`), if any."""
    revert = result.changed.get("revert")
    if not revert:
        return None
    return Lease(target=result.action.target, playbook=incident.playbook, alarm_name=incident.alarm_name,
                 revert=Action.model_validate(revert), granted_at=incident.changed_at)


def due(lease: Lease, alarm_state: str, ok_since: datetime | None, now: datetime, minutes: int) -> str | None:
    """Why the lease should be reverted now, or None to keep it."""
    if alarm_state != "OK" or ok_since is None:
        return None
    if now - ok_since < timedelta(minutes=minutes):
        return None
    return f"{lease.alarm_name} has been OK since {ok_since:%H:%M}Z (lease of {minutes} min is over)"


class LeaseRevert:
    """A one-action playbook: give back what the lease borrowed, through the same guard as everything."""

    # No verification window of its own: the lease ended because the alarm stayed OK, and the alarm keeps
    # watching (a lag that comes back is a new incident for the playbook).
    verification_window = False
    # Giving capacity back is not a new change to the fleet: it spends no fleet budget; during a change freeze
    # it waits (the guard refuses it with rule freeze, the lease is kept and the next check tries again).
    gives_back = True

    def __init__(self, lease: Lease, reason: str):
        self.name = lease.playbook
        self._lease = lease
        self._reason = reason

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: PlaybookPorts) -> Plan:
        action = self._lease.revert.model_copy(update={"reason": f"lease over: {self._reason}"})
        return Plan(playbook=self.name, actions=[action])

    def verify(self, incident: Incident, results: list[ActionResult], catalog: Catalog,
               ports: PlaybookPorts) -> Verification:
        return Verification(status=VerificationStatus.INCONCLUSIVE,
                            detail=f"capacity given back; {incident.alarm_name} is watched as before")


def lease_incident(lease: Lease, now: datetime, catalog: Catalog) -> Incident:
    return Incident(id=f"lease:{lease.target}@{now:%Y-%m-%dT%H:%M:%S}", alarm_name=lease.alarm_name,
                    state="LEASE_EXPIRED", previous_state="OK", reason="scale-up lease is over", changed_at=now,
                    account=catalog.account_id, region=catalog.region, playbook=lease.playbook,
                    resource=lease.target)

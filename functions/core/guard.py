"""The one gate every action passes. Pure decisions: the ports tell it the state of the world.

Order matters and is the order a person on call would ask in: is automation switched off? how far may
this playbook go? is something upstream broken (then fixing downstream is noise)? is the change within
the caps? did we just act on this resource (cooldown) or too often (attempt budget, the circuit breaker)?
Only then: recommend, wait for approval, dry-run or act.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError

from functions.core.actions import describe, spec_for, validated_params
from functions.core.autonomy import MODE, Effective, effective, unreadable
from functions.core.catalog import Catalog, Mode, PlaybookGuardrails
from functions.core.errors import error_line
from functions.core.models import Action, Decision, Verdict
from functions.core.ports import BreakerPort, BreakerState, KillSwitchPort, SafetyPort
from functions.core.safety import FREEZE, freeze_in_force, hands_off


@dataclass
class Guard:
    catalog: Catalog
    playbook: str
    kill_switch: KillSwitchPort
    breaker: BreakerPort
    dry_run: bool = False
    seen: dict[str, BreakerState] = field(default_factory=dict)  # breaker state each decision was based on
    # Snoozes, ad-hoc freezes (functions.core.safety); None: only the catalog's exclusions and freeze windows.
    safety: SafetyPort | None = None
    # A lease give-back (functions.core.leases): spends no fleet budget, waits while a freeze is in force.
    gives_back: bool = False

    def check(self, action: Action, unhealthy: set[str], now: datetime, approved: bool = False) -> Decision:
        """`approved`: a person approved this exact action (functions.core.approvals). That meets the mode
        approve and the destructive-action rule, nothing else: every rule that says no still applies."""
        command = describe(action)

        def decide(verdict: Verdict, rule: str, reason: str) -> Decision:
            return Decision(action=action, verdict=verdict, rule=rule, reason=reason, command=command)

        rails = self.catalog.guardrails.playbooks[self.playbook]
        spec = spec_for(action)
        try:
            params = validated_params(action)
        except ValidationError as error:
            return decide(Verdict.REFUSED, "parameters", f"invalid parameters: {error.errors()[0]['msg']}")

        earned = self.mode_of(action.name)  # rule `mode`: the effective mode, earned by the record
        mode, why = earned.mode, f" (effective mode {earned.mode}: {earned.why})"
        refusal = self._refusal(action, params, rails, mode, why, unhealthy, now)
        if refusal:
            return decide(*refusal)
        if mode is Mode.RECOMMEND:
            if approved:  # switched to recommend since it asked: the approval no longer carries it out
                return decide(Verdict.REFUSED, MODE, f"playbook {self.playbook} is in recommend mode now: "
                                                     f"an approval does not carry out its actions; run it "
                                                     f"yourself{why}")
            return decide(Verdict.RECOMMENDED, MODE, f"playbook {self.playbook} recommends; a person runs it{why}")
        if mode is Mode.APPROVE and not approved:
            return decide(Verdict.AWAITING_APPROVAL, MODE, f"playbook {self.playbook} acts after approval{why}")
        frozen = freeze_in_force(self.catalog, self.safety, now) if mode is Mode.AUTO else None
        if frozen and not approved:  # during a freeze, auto behaves as approve
            return decide(Verdict.AWAITING_APPROVAL, FREEZE, f"{frozen}: auto acts after approval meanwhile")
        if spec.destructive and action.name not in rails.auto_approve_destructive and not approved:
            return decide(Verdict.AWAITING_APPROVAL, "destructive",
                          f"{action.name} is destructive: it waits for a person")
        if self.dry_run or self.catalog.guardrails.dry_run:
            return decide(Verdict.DRY_RUN, "dry_run", "dry run: every check passed, nothing done")
        return decide(Verdict.ALLOWED, "ok", "every check passed")

    def mode_of(self, action: str) -> Effective:
        """The action's effective mode (functions.core.autonomy), read once per check; unreadable: approve."""
        if self.safety is None:
            return effective(self.catalog, None, self.playbook, action)
        try:
            return effective(self.catalog, self.safety.load_modes()[1], self.playbook, action)
        except Exception as error:
            return unreadable(self.catalog, self.playbook, action, error_line(error))

    def _refusal(self, action: Action, params: object, rails: PlaybookGuardrails, mode: Mode, why: str,
                 unhealthy: set[str], now: datetime) -> tuple[Verdict, str, str] | None:
        """The rules that say no, in the order a person on call would ask them."""
        named = getattr(params, "job_name", None)
        if named is not None and action.target != f"glue:{named}":
            # Cooldowns and lineage are judged on the target: it must be what the action changes.
            return Verdict.REFUSED, "parameters", f"target {action.target} is not glue:{named}"
        switch = self._kill_switch()
        if switch:
            parameter = self.catalog.guardrails.kill_switch_parameter
            return Verdict.REFUSED, "kill_switch", f"kill switch {parameter} {switch}"
        if mode is Mode.OBSERVE:
            return Verdict.OBSERVED, MODE, f"playbook {self.playbook} is in observe mode{why}"
        left_alone = hands_off(self.catalog, self.safety, action.target, now)
        if left_alone:
            return Verdict.REFUSED, *left_alone
        if self.gives_back:  # capacity is not taken away while a freeze is in force: the lease waits
            frozen = freeze_in_force(self.catalog, self.safety, now)
            if frozen:
                return Verdict.REFUSED, FREEZE, f"{frozen}: the give-back waits until it ends"
        held_by = [c for c in self.catalog.upstream_of(action.target) if c in unhealthy]
        if held_by:
            return Verdict.REFUSED, "lineage_hold", f"upstream {', '.join(held_by)} is unhealthy: fix the cause first"
        cap = blast_radius(self.catalog, action.name, params)
        if cap:
            return Verdict.REFUSED, "blast_radius", cap
        state = self.seen[action.target] = self.breaker.load(action.target)
        breaker = breaker_refusal(state, rails.cooldown_minutes, rails.attempt_budget, rails.budget_window_hours, now)
        if breaker:
            return Verdict.REFUSED, breaker[0], breaker[1]
        return None

    def _kill_switch(self) -> str | None:
        return kill_switch_reason(self.kill_switch)


def kill_switch_reason(kill_switch: KillSwitchPort) -> str | None:
    """Why the kill switch stops everything, or None. Unreadable counts as on: failing closed. The one reading
    of rule `kill_switch`: the playbooks' guard and the procedures' gate (functions.procedures.gate) ask it."""
    try:
        return "is on" if kill_switch.engaged() else None
    except Exception as error:
        return f"could not be read, so it counts as on ({error_line(error)})"


def breaker_refusal(state: BreakerState, cooldown_minutes: int, budget: int, window_hours: int,
                    now: datetime) -> tuple[str, str] | None:
    if state.last_action_at is not None:
        quiet_until = state.last_action_at + timedelta(minutes=cooldown_minutes)
        if now < quiet_until:
            return ("cooldown", f"acted on {state.target} at {state.last_action_at:%H:%M:%S}Z; "
                                f"cooldown of {cooldown_minutes} min runs until {quiet_until:%H:%M:%S}Z")
    window_start = now - timedelta(hours=window_hours)
    recent = [at for at in state.attempts if at >= window_start]
    if len(recent) >= budget:
        return ("budget", f"attempt budget spent: {len(recent)} of {budget} in {window_hours} h on "
                          f"{state.target}; circuit open, a person takes over")
    return None


def blast_radius(catalog: Catalog, action_name: str, params: object) -> str | None:
    """Caps from the catalog that no single action may exceed, whatever the playbook asked for."""
    to_workers = getattr(params, "to_workers", None)
    job_name = getattr(params, "job_name", None)
    if to_workers is not None and job_name is not None:
        try:
            job = catalog.glue_job(job_name)
        except KeyError:
            return f"glue job {job_name} is not in the catalog: no action on unknown resources"
        cap = min(job.max_workers, catalog.guardrails.max_glue_workers)
        if to_workers > cap:
            return f"{to_workers} workers exceeds the cap of {cap} for {job_name}"
    elif job_name is not None and job_name not in {j.name for j in catalog.glue_jobs}:
        return f"glue job {job_name} is not in the catalog: no action on unknown resources"
    nodes = getattr(params, "to_nodes", None)
    if nodes is not None and nodes > catalog.guardrails.max_redshift_nodes:
        return f"{nodes} nodes exceeds max_redshift_nodes {catalog.guardrails.max_redshift_nodes}"
    return None


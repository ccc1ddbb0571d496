"""Safety (issue 14, docs/safety.md): the rules that hold across playbooks, resources and procedures, each with its
own name in the audit trail: the kill switch holding a running procedure, a snooze, a change freeze, the fleet
budget in a storm, and earned autonomy (a failed verification demotes; a clean record is recommended for auto
and a person promotes it). Snoozes, freezes and modes are set as a person would: through the answer function's
IAM-authenticated URL, signed with that person's own key pair (sandbox.people)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from remedy.commands import incident
from remedy.commands.safety import setting
from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from remedy.gameday.scenarios.consumer_lag import JOB, RISING
from remedy.gameday.scenarios.glue_failures import BATCH, BATCH_CHECKS, fail_run
from remedy.gameday.scenarios.maintenance import run_job
from remedy.gameday.scenarios.procedures import (
    _finish_reprocessing,
    corrupt_customers,
    corrupt_landing,
    customer_quality,
    settle,
    start,
)
from sandbox.people import answering, arn, responder

SECTION = "Safety (kill switch, snooze, freeze, fleet budget, earned autonomy)"
THROTTLED = "An error occurred while calling o102.pyWriteDynamicFrame"
THROTTLED_LOG = ["INFO GlueContext: writing partition",
                 "ERROR Executor: com.amazonaws.services.glue.model.ThrottlingException: Rate exceeded"]
RESTART = "glue_job_failure.glue.restart_job"


def _as(d: Drill, who: str, body: dict[str, Any], shown: str) -> dict[str, Any]:
    d.say("answer", f"{who}: {shown}")
    result = setting(d.sandbox.client, d.catalog, body, credentials=responder(d.sandbox, who))
    d.say("note", result.get("message", ""))
    return result


def _decisions(d: Drill) -> list[tuple[str, str]]:
    return [(r["payload"]["verdict"], r["payload"]["rule"]) for r in d.audit("decision")]


def _throttled(d: Drill, partition_hours_back: int = 1) -> tuple[str, dict[str, Any]]:
    """A batch run of BATCH fails throttled (a transient cause: the playbook restarts it once)."""
    partition = (d.now - timedelta(hours=partition_hours_back)).strftime(d.catalog.s3.landing_partition_format)
    failed = d.start_run(BATCH, {"--partition": partition})
    result, _event = fail_run(d, BATCH, failed, THROTTLED, THROTTLED_LOG)
    return failed, result


def _retry_of(d: Drill, failed: str) -> str | None:
    new = [r["Id"] for r in d.active_runs(BATCH) if r["Id"] != failed]
    return new[0] if new else None


@scenario("kill-switch-holds-a-procedure", "Kill switch on: a running data-corruption procedure stops before its "
                                           "next changing step and goes on when it is off", SECTION)
def kill_switch_holds_a_procedure(d: Drill) -> None:
    from sandbox.catalog_variant import catalog_variant
    from sandbox.gaps import redshift

    now = datetime.now(UTC).replace(microsecond=0)
    # Its own id per run: the Redshift stand-in keeps the tables a procedure made across runs.
    ident = f"GD-KS-{now:%H%M%S}"
    suffix = ident.lower().replace("-", "_")
    corrupt_customers(d.sandbox, now)
    prefix = "landing/customers/replay/"
    corrupt_landing(d.sandbox, now, prefix)
    # A Wait passes at once on the sandbox's clock: a long hold (in polls) leaves real time to turn it off.
    with catalog_variant(d.sandbox, edit=lambda data: data["procedures"].update(kill_switch_hold_minutes=1440)):
        d.say("inject", f"remedy incident start data-corruption --table analytics.dim_customer --incident {ident}")
        start(d.sandbox, "data-corruption", ident, tables=["analytics.dim_customer"], prefixes=[prefix],
              start=(now - timedelta(hours=1)).isoformat(), end=(now + timedelta(minutes=1)).isoformat())
        settle(d.sandbox, "data-corruption", ident)
        before = customer_quality(d.sandbox)
        d.set_kill_switch(True)
        d.say("answer", f"oncall@example.com: remedy incident approve {ident} (the restore may go on)")
        incident.approve(d.sandbox.client, d.catalog, ident, reason="restore", **answering(d.sandbox, "oncall"))
        held = _wait_for(lambda: [r for r in d.sandbox.audit(ident) if r["kind"] == "procedure_held"])
        d.expect("the run stops before its next changing step: procedure_held audited with rule kill_switch",
                 bool(held) and held[0]["payload"]["rule"] == "kill_switch",
                 f"held before {held[0]['payload']['step'] if held else '-'}")
        tables = [r[0] for r in redshift.standin().execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics' ORDER BY 1")]
        d.expect("while held nothing from that step on is done: dim_customer untouched, nothing restored",
                 customer_quality(d.sandbox) == before and f"dim_customer_corrupt_{suffix}" not in tables,
                 f"{customer_quality(d.sandbox)} {tables}")
        # The hold is audited, then told: the notification can arrive a moment after the audit record.
        told = _wait_for(lambda: [n for n in d.notifications() if f"] HELD: data-corruption {ident}" in n["subject"]])
        d.expect("on call is told the run is held and why", bool(told) and "kill switch" in told[0]["message"])
        d.set_kill_switch(False)
        _finish_reprocessing(d, "customer-scd-batch", ident)
        state = settle(d.sandbox, "data-corruption", ident, timeout=120, until_end=True)
    released = [r for r in d.sandbox.audit(ident) if r["kind"] == "procedure_released"]
    d.say("note", f"run ended {state['status']} {state.get('cause', '')[:120]}")
    d.expect("turned off, the run goes on and succeeds: procedure_released audited, table restored",
             state["status"] == "SUCCEEDED" and len(released) == 1 and customer_quality(d.sandbox)["null_emails"] == 0,
             f"{state['status']} released={len(released)}")


def _effective_mode_range(d: Drill, playbook: str) -> tuple[float | None, float | None]:
    """(highest, lowest) EffectiveMode the runtime published for `playbook` over the last hours (EMF, turned into
    metrics as CloudWatch Logs would): what the remediation dashboard graphs."""
    from functions.core.observability import METRICS_NAMESPACE, SERVICE

    metric = {"Namespace": METRICS_NAMESPACE, "MetricName": "EffectiveMode",
              "Dimensions": [{"Name": "Playbook", "Value": playbook}, {"Name": "service", "Value": SERVICE}]}
    found = d.sandbox.client("cloudwatch").get_metric_data(
        MetricDataQueries=[{"Id": stat.lower(), "MetricStat": {"Stat": stat, "Period": 86400, "Metric": metric}}
                           for stat in ("Maximum", "Minimum")],
        StartTime=datetime.now(UTC) - timedelta(days=1), EndTime=datetime.now(UTC) + timedelta(days=1))
    values = {r["Id"]: r["Values"] for r in found["MetricDataResults"]}
    return (max(values["maximum"], default=None), min(values["minimum"], default=None))


def _wait_for(found: Any, seconds: float = 60.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.05)
    return found()


@scenario("snoozed-lag-not-acted-on", "A snoozed job's lag is diagnosed and notified, not acted on; the refusal "
                                      "names who snoozed it and until when", SECTION)
def snoozed_lag_not_acted_on(d: Drill) -> None:
    workers = [r.get("NumberOfWorkers") for r in d.active_runs(JOB)]
    _as(d, "alice", {"kind": "snooze", "target": JOB, "minutes": 120, "reason": "backfill running"},
        f"remedy snooze {JOB} --for 2h --reason 'backfill running'")
    d.consumer_lag(JOB, RISING)
    d.fire()
    outcome = d.outcomes[-1] if d.outcomes else {}
    reason = next((r["payload"]["reason"] for r in d.audit("decision")), "")
    d.expect("REFUSED by rule snooze, naming alice's verified ARN and until when",
             outcome.get("status") == "REFUSED" and _decisions(d)[-1:] == [("REFUSED", "snooze")]
             and arn(d.sandbox, "alice") in reason and "snoozed until" in reason, reason[:200])
    d.expect("diagnosed all the same: the plan is in the audit trail", bool(d.audit("plan")))
    d.expect("nothing changed on the job", [r.get("NumberOfWorkers") for r in d.active_runs(JOB)] == workers)
    inbox = d.notifications()
    d.expect("on call is told, with the snooze", bool(inbox) and "REFUSED by snooze" in inbox[-1]["message"],
             inbox[-1]["subject"] if inbox else "no notification")


@scenario("freeze-turns-auto-into-approval", "A change freeze: an auto restart becomes an approval request and the "
                                             "notification says a freeze is in force", SECTION)
def freeze_turns_auto_into_approval(d: Drill) -> None:
    frozen = _as(d, "alice", {"kind": "freeze", "minutes": 360, "reason": "flash sale", "name": "flash-sale"},
                 "remedy freeze now --for 6h --reason 'flash sale' --name flash-sale")
    d.stop_streaming_job(JOB, error="OutOfMemoryError: Java heap space")
    d.consumer_lag(JOB, RISING)
    d.fire()
    outcome = d.outcomes[-1] if d.outcomes else {}
    d.expect("the restart waits for a person: AWAITING_APPROVAL by rule freeze (the playbook is in auto)",
             outcome.get("status") == "AWAITING_APPROVAL" and _decisions(d)[-1:] == [("AWAITING_APPROVAL", "freeze")]
             and d.active_runs(JOB) == [], str(_decisions(d)))
    inbox = d.notifications()
    d.expect("the notification says a freeze is in force and how to approve",
             bool(inbox) and "change freeze flash-sale" in inbox[-1]["message"]
             and "remedy incident approve" in inbox[-1]["message"], inbox[-1]["subject"] if inbox else "none")
    _as(d, "alice", {"kind": "freeze_cancel", "target": frozen["detail"]["freeze"]["id"]},
        f"remedy freeze cancel {frozen['detail']['freeze']['id']}")


@scenario("storm-within-the-fleet-budget", "Several pipelines fail at once: no more actions than the fleet budget, "
                                           "the rest refused and recorded", SECTION)
def storm_within_the_fleet_budget(d: Drill) -> None:
    from sandbox.catalog_variant import catalog_variant

    with catalog_variant(d.sandbox, edit=lambda data: data["guardrails"].update(fleet_budget_per_hour=2)):
        d.say("inject", "guardrails.fleet_budget_per_hour set to 2")
        # Both batch loads fail throttled, then both streaming jobs die: four pipelines' worth of actions.
        _throttled(d)
        partition = (d.now - timedelta(hours=1)).strftime(d.catalog.s3.landing_partition_format)
        failed = d.start_run("customer-scd-batch", {"--partition": partition})
        fail_run(d, "customer-scd-batch", failed, THROTTLED, THROTTLED_LOG)
        for job in ("orders-stream", "customers-stream"):
            d.stop_streaming_job(job, error="OutOfMemoryError: Java heap space")
            d.consumer_lag(job, RISING)
        d.fire()
    verdicts = _decisions(d)
    allowed = [v for v in verdicts if v[0] == "ALLOWED"]
    refused = [v for v in verdicts if v == ("REFUSED", "fleet_budget")]
    d.say("note", f"decisions: {verdicts}")
    d.expect("four actions planned across four pipelines, two acted (the budget), two refused by fleet_budget",
             len(verdicts) == 4 and len(allowed) == 2 and len(refused) == 2, str(verdicts))
    reasons = [r["payload"]["reason"] for r in d.audit("decision") if r["payload"]["rule"] == "fleet_budget"]
    d.expect("each refusal says the budget is spent and when a unit frees",
             all("fleet budget spent: 2 of 2" in r and "a unit frees at" in r for r in reasons), str(reasons[:1]))


@scenario("failed-verification-demotes", "A failed verification demotes the playbook's action to approve at once; "
                                         "the next incident waits for a person", SECTION)
def failed_verification_demotes(d: Drill) -> None:
    failed, result = _throttled(d)
    retry = _retry_of(d, failed)
    d.expect("auto: the throttled run was restarted", result.get("status") == "ACTED" and retry is not None)
    if retry is None:
        return
    d.advance(10)
    d.set_run_state(BATCH, retry, "FAILED", "ThrottlingException: Rate exceeded")
    d.say("inject", f"the retry {retry[:10]} fails too")
    d.tick(BATCH_CHECKS)
    changed = d.audit("mode_changed")
    d.expect("verification FAILED: glue.restart_job demoted auto -> approve, audited with the evidence",
             any(r["payload"].get("key") == RESTART and r["payload"].get("to") == "approve"
                 and r["payload"].get("evidence") for r in changed), str([r["payload"] for r in changed])[:300])
    told = [n for n in d.notifications() if "DEMOTED" in n["subject"]]
    d.expect("on call is told of the demotion with why", bool(told) and "verification FAILED" in told[-1]["message"],
             told[-1]["subject"] if told else "no DEMOTED notification")
    modes = _effective_mode_range(d, "glue_job_failure")
    d.expect("the dashboard's EffectiveMode metric for glue_job_failure shows 3 (auto) before and 2 (approve) now",
             modes == (3.0, 2.0), f"highest, lowest: {modes}")
    d.advance(30)  # past the cooldown: only the mode holds the next one
    _failed, outcome = _throttled(d, partition_hours_back=2)
    reason = [r["payload"]["reason"] for r in d.audit("decision")][-1]
    d.expect("the next incident waits for approval, saying the action's effective mode and why",
             outcome.get("status") == "AWAITING_APPROVAL" and "effective mode approve: demoted at" in reason,
             reason[:200])


@scenario("earned-promotion", "A clean record: the weekly review recommends auto for an action and `remedy mode "
                              "set` applies it, as the verified person", SECTION)
def earned_promotion(d: Drill) -> None:
    from sandbox.catalog_variant import catalog_variant

    def edit(data: dict[str, Any]) -> None:
        data["guardrails"]["playbooks"]["glue_job_failure"]["start_mode"] = "approve"
        data["guardrails"]["autonomy"] = {"promote_after_verified": 2}

    with catalog_variant(d.sandbox, edit=edit):
        d.say("inject", "glue_job_failure starts at approve (ceiling auto); promote_after_verified: 2")
        for n in (1, 2):
            d.advance(16)  # past the cooldown (15 min)
            failed, result = _throttled(d, partition_hours_back=n)
            waiting = result.get("pending") or []
            ident = waiting[0]["approval_id"] if waiting else ""
            d.expect(f"incident {n}: the restart waits for approval", result.get("status") == "AWAITING_APPROVAL")
            answered = incident.approve(d.sandbox.client, d.catalog, ident, reason="throttling, retry",
                                        **answering(d.sandbox, "alice"))
            retry = _retry_of(d, failed)
            d.say("handler", f"approved: {answered.get('outcome', {}).get('status')}")
            d.advance(10)
            if retry:
                d.set_run_state(BATCH, retry, "SUCCEEDED")
            d.tick(BATCH_CHECKS)
        verdicts = [r["payload"]["status"] for r in d.audit("verification")]
        d.expect("both approved restarts VERIFIED", verdicts == ["VERIFIED", "VERIFIED"], str(verdicts))
        d.advance(2)  # the review runs later (its window ends at its scheduled minute)
        review = run_job(d, "weekly_review")
        promotions = review.get("report", {}).get("promotions", [])
        d.expect("the weekly review lists glue_job_failure.glue.restart_job as ready for auto",
                 [p["key"] for p in promotions] == [RESTART], str(promotions)[:200])
        _as(d, "alice", {"kind": "mode", "target": RESTART, "mode": "auto", "reason": "two verified restarts"},
            f"remedy mode set {RESTART} auto --reason 'two verified restarts'")
        changed = [r["payload"] for r in d.sandbox.audit(f"mode:{RESTART}")]
        d.expect("the promotion is audited with alice's verified identity",
                 [(c["to"], c["by"]) for c in changed] == [("auto", arn(d.sandbox, "alice"))], str(changed)[:200])
        d.advance(16)
        _failed, result = _throttled(d, partition_hours_back=3)
        d.expect("the next throttled run is restarted on its own (auto, earned)", result.get("status") == "ACTED",
                 result.get("summary", "")[:160])

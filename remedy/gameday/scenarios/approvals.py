"""Approvals of playbook actions and verification windows: an action awaiting approval approved by a person
with `remedy incident approve`, carried out and verified later by the playbook's scheduled check; one rejected;
a restart whose lag never comes back under the threshold, escalated when its verification window is over."""

from __future__ import annotations

import re

from remedy.commands import incident
from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from remedy.gameday.scenarios.consumer_lag import DRAINING, JOB, RISING
from remedy.gameday.scenarios.data_quality import BATCH, failed_quality_flags
from sandbox.people import answering, shown

SECTION = "Common Issues / approvals and verification windows"
LAG_CHECKS = "msk_consumer_lag-checks"  # the lag playbook's schedule (verification windows, leases)


def _approve_command(message: str) -> str | None:
    found = re.search(r"approve: (remedy incident approve (ap-[0-9a-f]{10}) --env \w+)", message)
    return found.group(2) if found else None


@scenario("playbook-approval-approved", "Approve mode: a scale-up waits, alice approves it with `remedy incident "
                                        "approve`, it is carried out once and verified when the lag is OK", SECTION)
def playbook_approval_approved(d: Drill) -> None:
    from sandbox.catalog_variant import catalog_variant

    job = d.catalog.glue_job(JOB)
    target = min(job.min_workers + d.catalog.guardrails.scale_step_workers, job.max_workers)
    with catalog_variant(d.sandbox, "msk_consumer_lag", mode="approve"):
        d.say("inject", "guardrails.playbooks.msk_consumer_lag.mode set to approve")
        d.consumer_lag(JOB, RISING)
        d.fire()
        d.expect("the scale-up waits for a person, nothing changed", d.outcomes[-1].get("status") ==
                 "AWAITING_APPROVAL" and [r.get("NumberOfWorkers") for r in d.active_runs(JOB)] == [job.min_workers])
        inbox = d.notifications()
        ident = _approve_command(inbox[0]["message"]) if inbox else None
        d.expect("the notification carries the exact command that approves it", ident is not None,
                 f"remedy incident approve {ident} --env dev" if ident else "no approve command")
        if ident is None:
            return
        d.advance(3)
        d.say("answer", f"alice: remedy incident approve {ident} --reason 'month-end volume'")
        answered = incident.approve(d.sandbox.client, d.catalog, ident, reason="month-end volume",
                                    **answering(d.sandbox, "alice"))
        outcome = answered.get("outcome", {})
        d.say("handler", f"{outcome.get('status')}: {outcome.get('summary', '')}")
        d.expect(f"carried out once approved: the run is stopping, its start with {target} workers pending",
                 answered.get("decision") == "APPROVED" and d.active_runs(JOB) == [] and
                 "is pending" in outcome.get("summary", ""), outcome.get("summary", "")[:160])
        d.advance(5)
        d.tick(LAG_CHECKS)  # the stop has finished: the scheduled check makes the start
        d.expect(f"{JOB} runs again with {target} workers", [r.get("NumberOfWorkers") for r in d.active_runs(JOB)]
                 == [target], f"active: {[(r['Id'][:10], r.get('NumberOfWorkers')) for r in d.active_runs(JOB)]}")
        texts = [r["payload"].get("text") for r in d.audit("approval")]
        approved = f"APPROVED by {shown(d.sandbox, 'alice')} (month-end volume)"  # the ARN as AWS verified it
        d.expect("the audit trail says who approved (verified) and why", texts == [approved],
                 str(texts))
        try:
            incident.approve(d.sandbox.client, d.catalog, ident, **answering(d.sandbox, "bob"))
            late = "carried out twice"
        except incident.IncidentError as error:
            late = str(error)
        d.say("answer", f"bob approves the same item: {late}")
        d.expect("a second approve is refused: it runs once", "answered once" in late and
                 len([r for r in d.runs(JOB) if r.get("NumberOfWorkers") == target]) == 1, late)
        d.expect("not verified yet: the lag alarm is still in ALARM, a verification window is open",
                 outcome.get("status") == "ACTED" and bool(outcome.get("follow_up")))

    d.advance(5)
    d.consumer_lag(JOB, DRAINING)
    d.fire()
    d.advance(5)
    d.tick(LAG_CHECKS)
    verdicts = [r["payload"]["status"] for r in d.audit("verification")]
    d.expect("the scheduled check saw the lag alarm OK again: VERIFIED, REMEDIATED",
             verdicts == ["VERIFIED"] and d.audit("outcome")[-1]["payload"]["status"] == "REMEDIATED", str(verdicts))
    told = [n for n in d.notifications() if n["subject"].endswith(f"REMEDIATED: msk_consumer_lag on glue:{JOB}")]
    d.expect("on call is told it is verified", len(told) == 1, told[0]["subject"] if told else "no notification")


@scenario("approver-not-on-the-list", "Approve mode: dave (role Analyst, allowed by IAM to call the answer URL) "
                                      "tries to approve a scale-up; the catalog's allow-list refuses him in one line, "
                                      "audited with his verified ARN; alice (OnCall) approves it", SECTION)
def approver_not_on_the_list(d: Drill) -> None:
    from sandbox.catalog_variant import catalog_variant
    from sandbox.people import ANALYST_ROLE, arn

    with catalog_variant(d.sandbox, "msk_consumer_lag", mode="approve"):
        d.say("inject", "guardrails.playbooks.msk_consumer_lag.mode set to approve; approvers: OnCall sessions only")
        d.consumer_lag(JOB, RISING)
        d.fire()
        inbox = d.notifications()
        ident = _approve_command(inbox[0]["message"]) if inbox else None
        d.expect("the scale-up waits for a person", ident is not None and d.outcomes[-1].get("status") ==
                 "AWAITING_APPROVAL", str(d.outcomes[-1].get("status")))
        if ident is None:
            return
        d.say("answer", f"dave (Analyst): remedy incident approve {ident}")
        try:
            incident.approve(d.sandbox.client, d.catalog, ident, **answering(d.sandbox, "dave", ANALYST_ROLE))
            refused = "carried out"
        except incident.IncidentError as error:
            refused = str(error)
        d.say("handler", refused)
        dave = arn(d.sandbox, "dave", ANALYST_ROLE)
        d.expect("refused in one line, naming the rule and the verified ARN, nothing done",
                 refused.startswith(f"{dave} may not answer {ident}") and refused.endswith("[allow-list]")
                 and "\n" not in refused and d.audit("approval") == [], refused[:160])
        audited = [r["payload"] for r in d.audit("answer")]
        d.expect("the refusal is audited with who (as AWS verified it) and the rule",
                 [(a["outcome"], a["rule"], a["principal"], a["verified"]) for a in audited] ==
                 [("REFUSED", "allow-list", dave, True)], str(audited)[:200])
        answered = incident.approve(d.sandbox.client, d.catalog, ident, reason="month-end volume",
                                    **answering(d.sandbox, "alice"))
        d.expect("alice, on the list, approves it: carried out", answered.get("decision") == "APPROVED" and
                 (answered.get("outcome") or {}).get("status") == "ACTED", str(answered.get("decision")))


@scenario("playbook-approval-rejected", "A partition re-run waiting for approval is rejected by bob: nothing runs, "
                                        "the rejection is recorded, a later approve is refused", SECTION)
def playbook_approval_rejected(d: Drill) -> None:
    _, loaded, result = failed_quality_flags(d)
    d.expect("the re-run waits for approval", result.get("status") == "AWAITING_APPROVAL",
             result.get("summary", "no data_quality outcome"))
    ident = result.get("incident", {}).get("id", "")
    d.say("answer", f"bob: remedy incident reject '{ident}' --reason 'the source resends the hour'")
    answered = incident.reject(d.sandbox.client, d.catalog, ident, reason="the source resends the hour",
                               **answering(d.sandbox, "bob"))
    d.expect("rejected by the incident's id: nothing ran", answered.get("decision") == "REJECTED" and
             [r["Id"] for r in d.runs(BATCH)] == [loaded], str(answered.get("decision")))
    texts = [r["payload"].get("text") for r in d.audit("approval")]
    d.expect("the audit trail records REJECTED by bob, and the outcome REJECTED",
             texts == [f"REJECTED by {shown(d.sandbox, 'bob')} (the source resends the hour)"]
             and d.audit("outcome")[-1]["payload"]["status"] == "REJECTED", str(texts))
    inbox = d.notifications()
    d.expect("on call is told it was rejected and nothing was done",
             any("REJECTED" in n["subject"] and "REJECTED by bob" in n["message"] for n in inbox),
             "; ".join(n["subject"] for n in inbox))
    try:
        incident.approve(d.sandbox.client, d.catalog, ident, **answering(d.sandbox, "alice"))
        late = "carried out after the rejection"
    except incident.IncidentError as error:
        late = str(error)
    d.say("answer", f"alice approves afterwards: {late}")
    d.expect("an approve after the rejection is refused, still nothing ran",
             "REJECTED by bob" in late and len(d.runs(BATCH)) == 1, late)


@scenario("verification-window-escalates", "Streaming job restarted but the lag stays high: the verification "
                                           "window ends, escalated to a person with what was tried", SECTION)
def verification_window_escalates(d: Drill) -> None:
    d.stop_streaming_job(JOB, error="Lost executors: connection to broker b-1 reset")
    d.consumer_lag(JOB, RISING)
    d.fire()
    first = d.outcomes[-1] if d.outcomes else {}
    d.expect("restarted (ACTED), verification INCONCLUSIVE: a window is open",
             first.get("status") == "ACTED" and first.get("verification", {}).get("status") == "INCONCLUSIVE"
             and bool(first.get("follow_up")), first.get("verification", {}).get("detail", ""))
    window = d.catalog.guardrails.playbooks["msk_consumer_lag"].verification_minutes
    d.advance(10)
    d.consumer_lag(JOB, [30_000, 34_000, 38_000, 41_000, 45_000])
    d.fire()
    d.tick(LAG_CHECKS)
    d.expect("within the window the scheduled check keeps watching", d.audit("verification") == [])
    d.advance(window)
    d.consumer_lag(JOB, [46_000, 48_000, 50_000, 52_000, 55_000])
    d.fire()
    d.tick(LAG_CHECKS)
    records = [r["payload"] for r in d.audit("verification")]
    d.expect(f"after {window} min the window is over: INCONCLUSIVE, ESCALATED",
             [r["status"] for r in records] == ["INCONCLUSIVE"]
             and d.audit("outcome")[-1]["payload"]["status"] == "ESCALATED",
             records[0]["detail"] if records else "no verdict")
    escalated = [n for n in d.notifications() if "ESCALATED" in n["subject"]]
    d.expect("on call is paged with what was tried", len(escalated) == 1 and
             "not fixed by what was tried (glue.restart_streaming_job" in escalated[0]["message"],
             escalated[0]["subject"] if escalated else "no escalation")
    d.tick(LAG_CHECKS)
    d.expect("the verdict is recorded once (a later check finds nothing open)", len(d.audit("verification")) == 1)

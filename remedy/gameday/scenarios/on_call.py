"""On call (issue 13): an approval nobody answers is asked again at half its window and lapses with a notice
that pages the escalation target; an event its playbook cannot handle waits in the unhandled-events queue,
whose alarm pages, and `remedy dlq redrive` replays it once the cause is gone; `remedy incident list/show/
report` tell the incidents from the records the drill left."""

from __future__ import annotations

from remedy.commands import dlq, incidents
from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from remedy.gameday.scenarios.consumer_lag import JOB, RISING

SECTION = "On call: escalation and the unhandled-events queue"
LAG_CHECKS = "msk_consumer_lag-checks"


@scenario("approval-reminds-then-lapses", "Approve mode, nobody answers: a REMINDER at half the window, then a "
                                          "LAPSED notice (nothing done) on call and on the escalation topic; "
                                          "remedy incident list/show/report tell it", SECTION)
def approval_reminds_then_lapses(d: Drill) -> None:
    from remedy import review
    from sandbox.catalog_variant import catalog_variant

    window = d.catalog.guardrails.playbooks["msk_consumer_lag"].approval_minutes
    with catalog_variant(d.sandbox, "msk_consumer_lag", mode="approve"):
        d.say("inject", f"guardrails.playbooks.msk_consumer_lag.mode set to approve (window {window} min)")
        d.consumer_lag(JOB, RISING)
        d.fire()
        d.expect("the scale-up waits for a person", d.outcomes[-1].get("status") == "AWAITING_APPROVAL")
        d.notifications(), d.escalations()
        d.advance(window // 2 + 1)
        d.tick(LAG_CHECKS)
        reminders = [n for n in d.notifications() if "REMINDER" in n["subject"]]
        d.expect("half the window gone: on call is asked again, marked REMINDER", len(reminders) == 1,
                 reminders[0]["subject"] if reminders else "no reminder")
        d.advance(5)
        d.tick(LAG_CHECKS)
        d.expect("reminded once only", not d.notifications() and len(d.audit("approval_reminded")) == 1)
        d.advance(window)
        d.tick(LAG_CHECKS)
        lapsed = [n for n in d.notifications() if "LAPSED" in n["subject"]]
        paged = [e for e in d.escalations() if "LAPSED" in e["subject"]]
        d.expect("at expiry a notice says it lapsed and nothing was done, on call and escalation target",
                 len(lapsed) == 1 and len(paged) == 1 and "NOTHING WAS DONE" in lapsed[0]["message"],
                 lapsed[0]["subject"] if lapsed else "no lapse notice")
        d.expect("nothing was done: the job still runs its workers",
                 [r.get("NumberOfWorkers") for r in d.active_runs(JOB)] == [d.catalog.glue_job(JOB).min_workers])
    records = d.audit("approval_lapsed")
    ident = records[0]["incident_id"] if records else ""
    rows = incidents.incidents(d.sandbox.client, d.catalog, now=d.now)
    mine = [r for r in rows if r["id"] == ident]
    d.say("note", f"remedy incident list: {[(r['id'][-25:], r['kind'], r['status']) for r in rows][:4]}")
    d.expect("remedy incident list shows the incident LAPSED", [r["status"] for r in mine] == ["LAPSED"])
    found = incidents.incident_record(d.sandbox.client, d.catalog, ident) if ident else {"records": []}
    phases = {line.phase for line in review.timeline(found["records"])}
    d.expect("remedy incident show: alarm, diagnosis, guard and approval lines",
             {"alarm", "diagnosis", "guard", "approval"} <= phases, ", ".join(sorted(phases)))
    draft = review.report(ident, found["records"])
    d.expect("remedy incident report: a Markdown review draft with the lapse in its timeline",
             draft.startswith("# Post-incident review") and "LAPSED" in draft)


@scenario("unhandled-event-redriven", "The lag playbook is denied its DynamoDB writes: the alarm event fails "
                                      "3 times, waits in the unhandled-events queue, the queue's alarm pages; "
                                      "`remedy dlq redrive` replays it once the grant is back", SECTION)
def unhandled_event_redriven(d: Drill) -> None:
    from sandbox import aws, iam

    spec = d.sandbox.function(f"{d.catalog.prefix}-msk-consumer-lag")
    key = iam.credentials(iam.function_key(spec))["AWS_ACCESS_KEY_ID"]
    queue_alarm = f"{d.catalog.prefix}/unhandled-events/sqs:{d.catalog.prefix}-unhandled-events"
    d.escalations()
    d.stop_streaming_job(JOB)
    with aws.inject_error("dynamodb", "PutItem", "AccessDeniedException", "not authorized (grant lost in a deploy)",
                          callers=[key]):
        d.say("inject", f"{spec.name} is denied dynamodb:PutItem (AccessDeniedException)")
        d.consumer_lag(JOB, [20_000] * 5)
        d.fire()
    waiting = dlq.list_messages(d.sandbox.client, d.catalog)
    d.expect("the failed event waits in the unhandled-events queue with its error",
             len(waiting) == 1 and "AccessDenied" in waiting[0]["error"],
             f"{len(waiting)} message(s)" + (f": {waiting[0]['error'][:100]}" if waiting else ""))
    d.advance(1)
    d.fire()
    pages = [p for p in d.pages() if queue_alarm in p["subject"]]
    escalated = [e for e in d.escalations() if queue_alarm in e["subject"]]
    d.expect("one message is enough: the queue's alarm pages on call and the escalation target",
             bool(pages) and bool(escalated))
    d.say("inject", "the grant is back")
    results = dlq.redrive(d.sandbox.client, d.catalog, waiting[0]["id"] if waiting else "none")  \
        if waiting else []
    d.say("answer", f"remedy dlq redrive: {[(r['status'], r['detail'][:80]) for r in results]}")
    d.expect("replayed and handled: the stopped job runs again, the queue is empty",
             [r["replayed"] for r in results] == [True] and dlq.list_messages(d.sandbox.client, d.catalog) == []
             and len(d.active_runs(JOB)) == 1)
    d.advance(1)
    d.fire()
    d.expect("the queue's alarm is OK again", any(queue_alarm in p["subject"] and p["subject"].startswith("OK")
                                                   for p in d.pages()))

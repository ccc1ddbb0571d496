"""Runbook: MSK Consumer Lag High — the streaming job is down, or too small for the lag."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario

SECTION = "Common Issues / MSK Consumer Lag High"
JOB = "orders-stream"
RISING = [800, 6_000, 14_000, 21_000, 30_000]  # nothing consumes: lag climbs past 10,000
DRAINING = [9_000, 4_000, 1_200, 300, 40]
LAG_CHECKS = "msk_consumer_lag-checks"  # the lag playbook's schedule (pending starts, verification windows, leases)


def _lag_alarm(d: Drill) -> str:
    return f"{d.catalog.prefix}/consumer-lag/glue:{JOB}"


@scenario("streaming-job-down", "Streaming job stopped: lag alarm trips, job restarted, lag recovers", SECTION)
def streaming_job_down(d: Drill) -> None:
    d.stop_streaming_job(JOB, error="Lost executors: connection to broker b-1 reset")
    d.consumer_lag(JOB, RISING)
    deliveries = d.fire()
    d.expect("the lag alarm tripped from the metric data",
             any(_lag_alarm(d) in (dl.event["detail"]["alarmName"]) and dl.event["detail"]["state"]["value"] ==
                 "ALARM" for dl in deliveries))
    active = d.active_runs(JOB)
    d.expect("the streaming job runs again (one new run)", len(active) == 1,
             f"active runs: {[r['Id'][:10] for r in active]}")
    decisions = [r["payload"] for r in d.audit("decision")]
    d.expect("the audit trail records the guard's ALLOWED decision for the restart",
             [x["verdict"] for x in decisions] == ["ALLOWED"] and
             decisions[0]["action"]["name"] == "glue.restart_streaming_job")
    inbox = d.notifications()
    d.expect("on call got one notification saying what fired, what was found and what was done",
             len(inbox) == 1 and all(w in inbox[0]["message"] for w in ("WHAT FIRED", "WHAT WE FOUND",
                                                                        "WHAT WE DID", "HOW TO UNDO")),
             inbox[0]["subject"] if inbox else "no notification")

    # EventBridge delivers at least once: the same state change again must not restart twice.
    d.deliver(deliveries[0].event)
    d.expect("a duplicate delivery does nothing and is recorded", len(d.active_runs(JOB)) == 1 and
             len(d.runs(JOB)) == 2 and d.audit("duplicate") != [])

    d.advance(5)
    d.consumer_lag(JOB, DRAINING)
    d.fire()
    d.expect("the lag alarm returned to OK and the incident is closed as RECOVERED",
             d.outcomes[-1].get("status") == "RECOVERED")


@scenario("lag-under-capacity", "Job short of task slots: scaled up by the catalog's step, scaled back later",
          SECTION)
def lag_under_capacity(d: Drill) -> None:
    job = d.catalog.glue_job(JOB)
    d.consumer_lag(JOB, RISING)
    d.fire()
    target = min(job.min_workers + d.catalog.guardrails.scale_step_workers, job.max_workers)
    # Glue only requests a stop: the run is STOPPING longer than the invocation may wait, so the start is left
    # to the playbook's scheduled check (a start now would fail: a STOPPING run still counts).
    d.expect("the run is being stopped and the start with the new count is pending, nothing assumed",
             [r["JobRunState"] for r in d.runs(JOB)][:1] == ["STOPPING"] and d.active_runs(JOB) == []
             and "is pending" in d.outcomes[-1].get("summary", ""), d.outcomes[-1].get("summary", "")[:160])
    # Soon after, the run has stopped and Glue says so (Glue Job State Change STOPPED): the outcomes probe must
    # not count the service's own stop, its start pending, as the pipeline down (that would page falsely).
    d.advance(2)
    stopped = d.runs(JOB)[0]
    from sandbox.glue_events import job_state_change_event

    delivery = d.deliver(job_state_change_event(d.catalog.account_id, d.catalog.region, JOB, stopped["Id"],
                                                stopped["JobRunState"], "", d.now))
    counted = [i.result for i in delivery.invocations if isinstance(i.result, dict) and "counted" in i.result]
    d.expect("Glue's STOPPED event for our own stop is not counted as a failure (a restart on its way)",
             stopped["JobRunState"] == "STOPPED" and [c["counted"] for c in counted] == [None],
             str([c.get("reason", "")[:100] for c in counted]))
    d.advance(3)
    d.tick(LAG_CHECKS)
    active = d.active_runs(JOB)
    d.expect(f"the scheduled check started {JOB} with {target} workers (from {job.min_workers}) once stopped",
             len(active) == 1 and active[0].get("NumberOfWorkers") == target,
             f"active: {[(r['Id'][:10], r.get('NumberOfWorkers')) for r in active]}")

    # Lag again later: now the job has a task slot per partition, so more workers cannot help.
    d.advance(3)
    d.consumer_lag(JOB, [2_000, 2_000, 1_000, 900, 800])
    d.fire()
    d.advance(3)
    d.consumer_lag(JOB, RISING)
    d.fire()
    last = d.outcomes[-1]
    d.expect("the second alarm changes nothing and recommends more partitions to a person",
             last.get("status") == "NO_ACTION" and "partitions" in " ".join(last["plan"]["recommendations"]),
             last.get("summary", ""))
    d.expect("still one run, still the scaled worker count",
             [r.get("NumberOfWorkers") for r in d.active_runs(JOB)] == [target])

    # The scale-up was a lease: once the lag alarm has stayed OK for the lease period, it is given back.
    d.advance(5)
    d.consumer_lag(JOB, DRAINING)
    d.fire()
    d.advance(d.catalog.guardrails.lease_minutes - 10)
    d.tick("msk_consumer_lag-checks")
    d.expect("within the lease period the extra workers stay",
             [r.get("NumberOfWorkers") for r in d.active_runs(JOB)] == [target])
    d.advance(15)
    d.tick("msk_consumer_lag-checks")
    d.advance(5)  # the give-back is a restart too: its start follows the stop at the next check
    d.tick("msk_consumer_lag-checks")
    d.expect(f"after {d.catalog.guardrails.lease_minutes} min of OK the lease is over: back to {job.min_workers} "
             f"workers", [r.get("NumberOfWorkers") for r in d.active_runs(JOB)] == [job.min_workers],
             f"active: {[(r['Id'][:10], r.get('NumberOfWorkers')) for r in d.active_runs(JOB)]}")


@scenario("restart-loop", "Job dies again right after its restart: the cooldown refuses a restart loop", SECTION)
def restart_loop(d: Drill) -> None:
    d.stop_streaming_job(JOB, error="OutOfMemoryError: Java heap space")
    d.consumer_lag(JOB, RISING)
    d.fire()
    d.expect("first failure: restarted", len(d.active_runs(JOB)) == 1)
    d.advance(3)
    d.consumer_lag(JOB, [2_000, 1_500, 900, 500, 300])
    d.fire()
    d.stop_streaming_job(JOB, error="OutOfMemoryError: Java heap space")
    d.advance(5)
    d.consumer_lag(JOB, RISING)
    d.fire()
    d.expect("second failure within the cooldown: not restarted", d.active_runs(JOB) == [])
    refusals = [r["payload"] for r in d.audit("decision") if r["payload"]["verdict"] == "REFUSED"]
    d.expect("the refusal is recorded: REFUSED by cooldown",
             len(refusals) == 1 and refusals[0]["rule"] == "cooldown", refusals[0]["reason"] if refusals else "")
    inbox = d.notifications()
    d.expect("on call is told the restart was refused and why",
             any("REFUSED" in n["subject"] and "cooldown" in n["message"] for n in inbox),
             "; ".join(n["subject"] for n in inbox))


@scenario("kill-switch", "Kill switch on: the lag alarm is diagnosed, nothing is changed, refusal recorded", SECTION)
def kill_switch(d: Drill) -> None:
    d.set_kill_switch(True)
    d.stop_streaming_job(JOB)
    d.consumer_lag(JOB, RISING)
    d.fire()
    d.expect("the job was not restarted", d.active_runs(JOB) == [])
    decisions = [r["payload"] for r in d.audit("decision")]
    d.expect("the refusal is recorded with its rule", [(x["verdict"], x["rule"]) for x in decisions] ==
             [("REFUSED", "kill_switch")])
    inbox = d.notifications()
    d.expect("on call is told what was not done and why",
             len(inbox) == 1 and "NOT DONE" in inbox[0]["message"] and "kill switch" in inbox[0]["message"])


@scenario("healthy-pipeline", "Healthy lag: no alarm trips, nothing is done (no false alarm)", SECTION)
def healthy_pipeline(d: Drill) -> None:
    for job in [j for j in d.catalog.glue_jobs if j.streaming and j.consumer_group]:
        d.consumer_lag(job.name, [300, 450, 200, 800, 150])
    deliveries = d.fire()
    d.expect("no alarm changed to ALARM", not any(dl.event["detail"]["state"]["value"] == "ALARM"
                                                  for dl in deliveries))
    d.expect("no action recorded", d.audit("action") == [])


@scenario("lag-observe-mode", "Playbook in observe mode: the stopped job is diagnosed and recorded, nothing "
                              "is changed", SECTION)
def lag_observe_mode(d: Drill) -> None:
    from sandbox.catalog_variant import catalog_variant

    with catalog_variant(d.sandbox, "msk_consumer_lag", mode="observe"):
        d.say("inject", "guardrails.playbooks.msk_consumer_lag.mode set to observe")
        d.stop_streaming_job(JOB)
        d.consumer_lag(JOB, RISING)
        d.fire()
    d.expect("the job was not restarted", d.active_runs(JOB) == [])
    decisions = [r["payload"] for r in d.audit("decision")]
    d.expect("the restart it would have made is recorded as OBSERVED",
             [(x["verdict"], x["action"]["name"]) for x in decisions] == [("OBSERVED", "glue.restart_streaming_job")])


@scenario("lag-at-maximum", "Job at its cap of workers and still short of task slots: escalated to a person, "
                            "nothing changed", SECTION)
def lag_at_maximum(d: Drill) -> None:
    from sandbox.catalog_variant import catalog_variant

    def small_cap(data: dict[str, Any]) -> None:  # 3 x G.1X = 8 task slots for 12 partitions: more would help
        next(j for j in data["glue_jobs"] if j["name"] == JOB).update(max_workers=3)

    with catalog_variant(d.sandbox, edit=small_cap):
        d.say("inject", f"glue_jobs[{JOB}].max_workers set to 3 in the catalog")
        d.stop_streaming_job(JOB)
        started = d.sandbox.client("glue").start_job_run(JobName=JOB, NumberOfWorkers=3, WorkerType="G.1X")
        d.say("inject", f"run {started['JobRunId'][:10]} of {JOB} started with 3 workers (its cap)")
        d.consumer_lag(JOB, RISING)
        d.fire()
    last = d.outcomes[-1] if d.outcomes else {}
    d.expect("escalated, not acted: the job is at its cap", last.get("status") == "ESCALATED",
             last.get("summary", "no outcome"))
    d.expect("the person is told how to get more capacity",
             "cap of 3 workers" in " ".join(last.get("plan", {}).get("recommendations", [])))
    d.expect("still one run with 3 workers", [r.get("NumberOfWorkers") for r in d.active_runs(JOB)] == [3])
    d.expect("on call is paged with ESCALATED",
             any(n["subject"].startswith(f"[{d.catalog.prefix}] ESCALATED") for n in d.notifications()))


@scenario("lag-brokers-unhealthy", "MSK cluster in maintenance: the lag playbook holds its restart (lineage), "
                                   "the brokers come first", SECTION)
def lag_brokers_unhealthy(d: Drill) -> None:
    from sandbox.seed import set_cluster_state

    set_cluster_state(d.catalog.msk.cluster_name, "MAINTENANCE")
    d.say("inject", f"MSK cluster {d.catalog.msk.cluster_name} is in MAINTENANCE")
    d.stop_streaming_job(JOB)
    d.consumer_lag(JOB, RISING)
    d.fire()
    d.expect("the job was not restarted", d.active_runs(JOB) == [])
    decisions = [r["payload"] for r in d.audit("decision")]
    d.expect("the restart is REFUSED by the lineage hold, naming the cluster",
             [(x["verdict"], x["rule"]) for x in decisions] == [("REFUSED", "lineage_hold")]
             and f"msk:{d.catalog.msk.cluster_name}" in decisions[0]["reason"],
             decisions[0]["reason"] if decisions else "no decision")


# -- where the lag comes from (catalog lag_source; README "Consumer lag: which metric") -------------------------

def _alarm_metric(d: Drill, job: str) -> str:
    props = d.sandbox.deployment.alarms[f"{d.catalog.prefix}/consumer-lag/glue:{job}"]
    return f"{props.get('Namespace')}/{props.get('MetricName')}"


def _kafka_lag_points(d: Drill, group: str) -> int:
    """SumOffsetLag datapoints MSK published for `group` (none for a group that commits no offsets)."""
    cloudwatch = d.sandbox.client("cloudwatch")
    listed = cloudwatch.list_metrics(Namespace="AWS/Kafka", MetricName="SumOffsetLag",
                                     Dimensions=[{"Name": "Consumer Group", "Value": group}])["Metrics"]
    return len(listed)


@scenario("spark-stream-stalls", "Spark stream stuck in a batch, MSK publishes no consumer-group lag: the lag "
                                 "probe's checkpoint lag trips the alarm and the playbook acts", SECTION)
def spark_stream_stalls(d: Drill) -> None:
    from sandbox.kafka_standin import plan_batch, set_lag

    job = d.catalog.glue_job(JOB)
    d.expect(f"{JOB} is watched through its Spark checkpoint (lag_source {job.lag_source}), not MSK's group lag",
             job.lag_source == "checkpoint" and _alarm_metric(d, JOB) == "Remedy/DataLake/ConsumerLagMessages",
             _alarm_metric(d, JOB))
    set_lag(d.sandbox, job, 5_000)
    planned = plan_batch(d.sandbox, job)
    d.say("inject", f"{JOB} planned batch {planned} (offsets/{planned} written, 5,000 messages) and is stuck in "
                    f"it: no commits/{planned}")
    d.consumer_lag(JOB, [6_000, 9_000, 14_000, 21_000, 30_000])
    d.expect(f"MSK published no consumer-group lag for {job.consumer_group} (Spark commits no offsets)",
             _kafka_lag_points(d, job.consumer_group or "") == 0)
    measured = d.run_lag_probe(d.now - timedelta(seconds=59))
    mine = next((j for j in measured.get("jobs", []) if j["job"] == JOB), {})
    d.expect(f"the probe measures from the newest committed batch, not the planned batch {planned}",
             mine.get("messages") == 30_000 and mine.get("batch") == planned - 1
             and any(f"batch {planned} is planned" in n for n in mine.get("notes", [])),
             f"{mine.get('messages')} messages from batch {mine.get('batch')}")
    deliveries = d.fire()
    d.expect("the lag alarm tripped from the probe's ConsumerLagMessages",
             any(dl.event["detail"]["alarmName"] == _lag_alarm(d) and dl.event["detail"]["state"]["value"] == "ALARM"
                 for dl in deliveries))
    decisions = [r["payload"] for r in d.audit("decision")]
    d.expect("the playbook acted on the stalled stream within the alarm's evaluation (ALLOWED, recorded)",
             [x["verdict"] for x in decisions] == ["ALLOWED"]
             and decisions[0]["action"]["name"] in ("glue.scale_streaming_job", "glue.restart_streaming_job"),
             decisions[0]["action"]["name"] if decisions else "no decision")


@scenario("committed-offsets-lag", "A stream that commits its offsets (lag_source msk): MSK's SumOffsetLag still "
                                   "trips the lag alarm", SECTION)
def committed_offsets_lag(d: Drill) -> None:
    job = next((j for j in d.catalog.glue_jobs if j.streaming and j.lag_source == "msk"), None)
    if not d.expect("the catalog has a streaming job whose group commits offsets (lag_source msk)", job is not None):
        return
    assert job is not None
    d.expect(f"{job.name}'s lag alarm reads MSK's consumer-group metric", _alarm_metric(d, job.name) ==
             "AWS/Kafka/SumOffsetLag", _alarm_metric(d, job.name))
    probe = d.lag_probe_minutes(1)[0]
    mine = next((j for j in probe.get("jobs", []) if j["job"] == job.name), {})
    d.expect(f"the lag probe confirms {job.consumer_group} commits offsets (MSK can publish its lag)",
             mine.get("measured") is True, "; ".join(mine.get("notes", [])) or mine.get("reason", ""))
    d.stop_streaming_job(job.name)
    d.consumer_lag(job.name, RISING)
    deliveries = d.fire()
    alarm = f"{d.catalog.prefix}/consumer-lag/glue:{job.name}"
    d.expect("the lag alarm tripped from SumOffsetLag",
             any(dl.event["detail"]["alarmName"] == alarm and dl.event["detail"]["state"]["value"] == "ALARM"
                 for dl in deliveries))
    d.expect(f"{job.name} runs again (restarted by the playbook)", len(d.active_runs(job.name)) == 1)


def _unmeasured_pages(d: Drill, job: str) -> list[str]:
    name = f"{d.catalog.prefix}/lag-unmeasured/glue:{job}"
    return [p["subject"] for p in d.pages() if p["subject"] == f'ALARM: "{name}" in {d.catalog.region}']


@scenario("checkpoint-unreadable", "A streaming job's checkpoint cannot be read (malformed, then gone): reported "
                                   "and paged, never taken for 'no lag'", SECTION)
def checkpoint_unreadable(d: Drill) -> None:
    from sandbox.kafka_standin import committed_checkpoint

    job = d.catalog.glue_job(JOB)
    s3 = d.sandbox.client("s3")
    d.consumer_lag(JOB, [300, 450, 200, 800, 150])
    d.fire()
    batch, _ = committed_checkpoint(s3, job)
    key = f"{job.checkpoint_prefix}offsets/{batch}"
    s3.put_object(Bucket=job.checkpoint_bucket, Key=key, Body=b"v1\n")
    d.say("inject", f"s3://{job.checkpoint_bucket}/{key} truncated (no source line): a malformed checkpoint")
    d.advance(5)
    runs = d.lag_probe_minutes(5)
    reasons = [j["reason"] for r in runs for j in r.get("jobs", []) if j["job"] == JOB and not j["measured"]]
    d.expect("every probe run reports the job as unmeasured, naming the file",
             len(reasons) == 5 and all(key in r for r in reasons), reasons[0] if reasons else "measured")
    states = {dl.event["detail"]["alarmName"]: dl.event["detail"]["state"]["value"] for dl in d.fire()}
    d.expect("lag-unmeasured went to ALARM; the lag alarm did not flip to a false OK or ALARM",
             states.get(f"{d.catalog.prefix}/lag-unmeasured/glue:{JOB}") == "ALARM" and _lag_alarm(d) not in states,
             str(states))
    d.expect("on call is paged: the lag of the job is not being measured", len(_unmeasured_pages(d, JOB)) == 1)

    for listed in s3.list_objects_v2(Bucket=job.checkpoint_bucket, Prefix=job.checkpoint_prefix).get("Contents", []):
        s3.delete_object(Bucket=job.checkpoint_bucket, Key=listed["Key"])
    d.say("inject", f"checkpoint {job.checkpoint_location} deleted (moved by a redeploy of the job's script)")
    d.advance(1)
    last = d.lag_probe_minutes(1)[0]
    mine = next((j for j in last.get("jobs", []) if j["job"] == JOB), {})
    d.expect("a missing checkpoint is reported too, with what to check", "no batch" in mine.get("reason", ""),
             mine.get("reason", "measured"))


@scenario("msk-group-silent", "A job said to commit offsets whose group commits none: reported, its lag alarm "
                              "would never fire", SECTION)
def msk_group_silent(d: Drill) -> None:
    from sandbox.kafka_standin import forget_group

    job = next((j for j in d.catalog.glue_jobs if j.streaming and j.lag_source == "msk"), None)
    if not d.expect("the catalog has a streaming job with lag_source msk", job is not None):
        return
    assert job is not None
    forget_group(job.consumer_group or "")
    d.say("inject", f"consumer group {job.consumer_group} has no committed offsets (the job is plain Spark)")
    runs = d.lag_probe_minutes(5)
    reasons = {j["reason"] for r in runs for j in r.get("jobs", []) if j["job"] == job.name and not j["measured"]}
    d.expect("the probe says why: no committed offsets, MSK publishes no lag, use lag_source checkpoint",
             len(reasons) == 1 and "lag_source: checkpoint" in next(iter(reasons)), "; ".join(reasons))
    d.fire()
    d.expect("on call is paged for the blind lag alarm", len(_unmeasured_pages(d, job.name)) == 1)

"""Runbook: Data Quality Issues — the batch partition loaded an hour ago failed its quality flags; the freshness
probe counts them and the quality-check-failures alarm fires: a re-run of that partition only, waiting for a person
(approve mode)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from sandbox.core import Invocation

SECTION = "Common Issues / Data Quality Issues"
BATCH = "sales-batch"
PREFIX = "landing/orders/"


def freshness_alarm(d: Drill, prefix: str, age_minutes: float) -> Invocation | None:
    """The landing-freshness alarm of `prefix` trips on the age the freshness probe measured, and its state
    change goes through EventBridge; the data_quality function's invocation."""
    from sandbox.alarms import Evaluation, record_transition, state_change_event

    alarm = f"{d.catalog.prefix}/landing-freshness/s3:{prefix}"
    if alarm in d.sandbox.deployment.alarms:  # the synthesized alarm decides, from the probe's metric
        d.sandbox.put_metric("Remedy/DataLake", "LandingAgeMinutes", {"Bucket": d.catalog.s3.name, "Prefix": prefix},
                             [age_minutes], period=300, end=d.now)
        d.say("inject", f"the freshness probe measured {prefix} {age_minutes:.0f} min old")
        deliveries = [dl for dl in d.fire() if dl.event["detail"]["alarmName"] == alarm]
    else:  # the detection issue's alarm is not in the templates: the event CloudWatch would send
        d.say("note", f"{alarm} is not in the templates yet: its state change event is built here")
        threshold = float(d.catalog.thresholds.landing_freshness_minutes)
        evaluation = Evaluation(alarm, "OK", "ALARM", f"Threshold Crossed: 1 out of the last 1 datapoints "
                                f"[{age_minutes}] was greater than the threshold ({threshold})",
                                {"version": "1.0"}, [age_minutes])
        props = {"Namespace": "Remedy/DataLake", "MetricName": "LandingAgeMinutes", "Period": 300,
                 "Statistic": "Maximum", "Dimensions": [{"Name": "Bucket", "Value": d.catalog.s3.name},
                                                        {"Name": "Prefix", "Value": prefix}]}
        event = state_change_event(evaluation, props, d.catalog.account_id, d.catalog.region, at=d.now)
        d.say("alarm", f"{alarm}: OK -> ALARM (age {age_minutes:.0f} min)")
        if alarm in {a["AlarmName"] for a in d.sandbox.client("cloudwatch").describe_alarms(
                AlarmNamePrefix=alarm)["MetricAlarms"]}:
            record_transition(d.sandbox.client("cloudwatch"), evaluation)
        deliveries = [d.deliver(event)]
    ours = [i for dl in deliveries for i in dl.invocations if i.function == f"{d.catalog.prefix}-data-quality"]
    return ours[0] if ours else None


def quality_alarm(d: Drill, prefix: str) -> Invocation | None:
    """The freshness probe's scheduled run counts the failed staging quality flags of the partitions read from
    `prefix`; the quality-check-failures alarm evaluates the count one period later and its state change goes
    through EventBridge: the data_quality function's invocation."""
    from functions.core.naming import alarm_name

    alarm = alarm_name(d.catalog.prefix, "quality-check-failures", f"s3:{prefix}")
    d.tick("probe-freshness")
    d.advance(5)  # the alarm's period (one probe run per period)
    deliveries = [dl for dl in d.fire() if dl.event["detail"]["alarmName"] == alarm]
    ours = [i for dl in deliveries for i in dl.invocations if i.function == f"{d.catalog.prefix}-data-quality"]
    return ours[0] if ours else None


def failed_quality_flags(d: Drill) -> tuple[str, str, dict[str, Any]]:
    """The last hour's partition loaded and its quality flags failed: the freshness probe counts them, the
    quality-check alarm fires and the playbook plans that partition's re-run. The partition, the run that loaded
    it and the playbook's outcome."""
    partition = (d.now - timedelta(hours=1)).strftime(d.catalog.s3.landing_partition_format)
    loaded = d.start_run(BATCH, {"--partition": partition})
    d.set_run_state(BATCH, loaded, "SUCCEEDED")
    d.write_quality_flags(BATCH, partition, passed=False, failed_rules=["row_count >= 1000 (got 212)"])
    invocation = quality_alarm(d, PREFIX)
    return partition, loaded, invocation.result if invocation and isinstance(invocation.result, dict) else {}


@scenario("data-quality-rerun-approval", "Quality flags of a partition failed: its re-run waits for approval",
          SECTION)
def data_quality_rerun_approval(d: Drill) -> None:
    partition, loaded, result = failed_quality_flags(d)

    command = (f"aws glue start-job-run --job-name {BATCH} --arguments "
               f"'{{\"--job-bookmark-option\":\"job-bookmark-disable\",\"--partition\":\"{partition}\"}}'")
    d.expect("data_quality waits for approval (the dev catalog's mode is approve)",
             result.get("status") == "AWAITING_APPROVAL", result.get("summary", "no data_quality outcome"))
    decisions = [r["payload"] for r in d.audit("decision")]
    d.expect("the decision is the re-run of that partition only, with the exact command",
             [(x["verdict"], x["action"]["name"], x["command"]) for x in decisions] ==
             [("AWAITING_APPROVAL", "glue.rerun_partition", command)], decisions[0]["command"] if decisions else "")
    d.expect("nothing ran: still the one loaded run", [r["Id"] for r in d.runs(BATCH)] == [loaded])
    inbox = d.notifications()
    d.expect("on call has the command and how to approve it",
             len(inbox) == 1 and command in inbox[0]["message"]
             and "remedy incident approve ap-" in inbox[0]["message"]
             and "row_count >= 1000" in inbox[0]["message"], inbox[0]["subject"] if inbox else "no notification")

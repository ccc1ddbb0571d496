"""The lake model's batch and Redshift side (sandbox/lake_batch.py): stale statistics plus a heavy query, and a
corrupted landing partition, each a cause in the model, run with and without the service and measured
(remedy.gameday.timeline with a watch of remedy.gameday.batch).

The sandbox's clock is moved to a fixed minute of the hour before each timeline: the batch jobs run on their
catalog schedules (cron(15 * * * ? *) for sales-batch), so where the fault falls in the hour decides when a load
lands; fixed, the figures do not depend on when the game day runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from remedy.gameday.batch import (
    APPROVAL_MINUTES,
    APPROVER,
    BatchWatch,
    FailedQuality,
    RedshiftCpu,
    corrupted_partition,
    stale_statistics,
)
from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from remedy.gameday.scenarios.lake import keep_both
from remedy.gameday.timeline import RESPONSE_MINUTES, Fault, Timeline, run_timeline
from sandbox.catalog_variant import catalog_variant
from sandbox.redshift_wiring import stats_off

REDSHIFT = "Common Issues / Redshift Performance Issues (lake model)"
QUALITY = "Common Issues / Data Quality Issues (lake model)"
STREAM = "orders-stream"
BATCH = "sales-batch"
TABLE = "analytics.fact_sales"
# Detection may trail its floor by the alignment of the fault to the alarm's periods: up to one period (the
# redshift-cpu alarm's is 5 minutes; the floor counts whole periods from the crossing).
SLACK_MINUTES = 5
SETTLE_MINUTES = 5  # recovered and the alarm OK for this long ends a timeline (one period of the CPU alarm)


def _at_minute_of_hour(d: Drill, minute: int) -> None:
    d.advance((minute - d.now.minute) % 60)


def _both(d: Drill, name: str, start_minute: int, make: Callable[[], tuple[BatchWatch, Fault]],
          service_variant: dict[str, object] | None = None, service_state: Callable[[BatchWatch], None] | None = None,
          **kwargs: object) -> tuple[Timeline, Timeline]:
    """The fault with the service (in a catalog variant when `service_variant` says so), then on a fresh account
    without it. Both timelines are kept on the drill for the report, and the service's audit trail as
    `d.service_audit`; `service_state(watch)` reads what else the scenario expects of the account after the service's
    timeline, before the reset forgets it."""
    from remedy.gameday.scenarios.redshift import cluster

    cluster(d)
    _at_minute_of_hour(d, start_minute)
    watch, fault = make()
    if service_variant:
        playbook = str(service_variant["playbook"])
        mode = str(service_variant["mode"])
        with catalog_variant(d.sandbox, playbook, mode=mode):
            d.say("note", f"catalog variant: guardrails.playbooks.{playbook}.mode = {mode} (dev's is recommend)")
            on = run_timeline(d, name, STREAM, fault, service=True, watch=watch, **kwargs)  # type: ignore[arg-type]
    else:
        on = run_timeline(d, name, STREAM, fault, service=True, watch=watch, **kwargs)  # type: ignore[arg-type]
    d.service_audit = d.sandbox.audit()  # type: ignore[attr-defined]
    if service_state is not None:
        service_state(watch)
    d.sandbox.reset()
    off_drill = Drill(d.sandbox, on_step=d.on_step)
    cluster(off_drill)
    _at_minute_of_hour(off_drill, start_minute)
    watch, fault = make()
    off = run_timeline(off_drill, name, STREAM, fault, service=False, watch=watch, **kwargs)  # type: ignore[arg-type]
    return keep_both(d, off_drill, on, off)


@scenario("lake-stale-stats", "Lake model: hourly loads leave analytics.fact_sales' statistics stale and a heavy "
                              "query arrives; Redshift CPU climbs past the alarm; ANALYZE brings it down (with and "
                              "without the service)", REDSHIFT)
def lake_stale_stats(d: Drill) -> None:
    def make() -> tuple[BatchWatch, Fault]:
        watch = RedshiftCpu()
        return watch, stale_statistics(watch, TABLE, hours=6, query_minutes=240)

    schema, table = TABLE.split(".", 1)
    after: dict[str, float] = {}

    def service_state(watch: BatchWatch) -> None:
        after["stats_off"] = stats_off(watch.batch.standin, schema, table) or 0.0

    # Timeline minute 0 at :05: the fault at :07, sales-batch's hourly load at :15 (minute 10) adds to it.
    on, off = _both(d, "lake-stale-stats", 5, make, {"playbook": "redshift_performance", "mode": "auto"},
                    service_state, max_minutes=90, settle_minutes=SETTLE_MINUTES)
    f, g = on.figures, off.figures
    assert f is not None and g is not None
    d.expect("Redshift CPU crossed the threshold because of the stale statistics (the model's CPU, published as "
             "AWS/Redshift CPUUtilization)", f.floor["threshold_crossed"] is not None and (f.peak or 0) > on.threshold,
             f"peak {f.peak} %, crossed at {f.floor['threshold_crossed']}")
    d.expect(f"the redshift-cpu alarm went to ALARM within its floor + {SLACK_MINUTES} min",
             f.detected_by == "alarm" and f.detect is not None and f.floor_detect is not None
             and f.detect <= f.floor_detect + SLACK_MINUTES,
             f"detected by {f.detected_by} at {f.detect}, floor {f.floor_detect}")
    analyzed = [r["payload"].get("changed", {}).get("tables") for r in d.service_audit  # type: ignore[attr-defined]
                if r["kind"] == "action"]
    d.expect(f"the service ANALYZEd exactly the stale catalog table, once (the audit trail's action changed "
             f"{TABLE} only)", analyzed == [[TABLE]] and f.steps != [] and all(
                 "redshift.analyze_tables" in s for s in f.steps),
             f"tables analyzed {analyzed}; " + ("; ".join(f.steps) or "no action"))
    limit = d.catalog.thresholds.stats_off_percent
    d.expect(f"after the service's ANALYZE, {TABLE}'s stats_off (svv_table_info) is under the catalog's {limit:g} %",
             after.get("stats_off", limit) < limit, f"stats_off {after.get('stats_off')} %")
    d.expect("CPU fell under the threshold after the ANALYZE and stayed there", f.recover is not None
             and f.first_action is not None and f.recover <= f.first_action + 1, f"recover {f.recover}")
    d.expect(f"without the service, ANALYZE waits for the page + {RESPONSE_MINUTES} min (assumed response)",
             g.first_action is not None and g.detect is not None and g.first_action >= g.detect + RESPONSE_MINUTES,
             f"person at {g.first_action}, page at {g.detect}")
    d.expect("the service recovers sooner than a person following the runbook",
             f.recover is not None and (g.recover is None or f.recover < g.recover), f"{f.recover} vs {g.recover}")


@scenario("lake-corrupted-partition", "Lake model: the orders stream lands malformed records for 3 min; sales-batch "
                                      "loads that partition and its quality check fails; the quality-check alarm, the "
                                      "re-run waiting for approval, approved, the partition passes (with and without "
                                      "the service)", QUALITY)
def lake_corrupted_partition(d: Drill) -> None:
    watches: list[FailedQuality] = []

    def make() -> tuple[BatchWatch, Fault]:
        watch = FailedQuality(BATCH)
        watches.append(watch)
        return watch, corrupted_partition(watch, STREAM, share=0.3, minutes=3)

    flags: dict[str, object] = {}

    def service_state(watch: BatchWatch) -> None:
        """The staging quality flags of each partition the service's timeline re-ran, as the re-run wrote them."""
        s3 = d.sandbox.client("s3")
        for partition in sorted({p for _, job, p, _ in watch.batch.adopted if job == BATCH}):
            body = s3.get_object(Bucket=d.catalog.s3.name, Key=d.catalog.s3.quality_flags_key(BATCH, partition))
            flags[partition] = json.loads(body["Body"].read()).get("passed")

    # Timeline minute 0 at :55: the fault at :57 in this hour's partition, which sales-batch loads at :15 of the
    # next hour (minute 20) and judges when its load ends (minute 25); then the alarm, the approval or the page and
    # the person, the re-run's load (5 min) and the probe seeing its flags pass.
    on, off = _both(d, "lake-corrupted-partition", 55, make, service_state=service_state, max_minutes=100,
                    settle_minutes=SETTLE_MINUTES)
    f, g = on.figures, off.figures
    served = watches[0]
    assert f is not None and g is not None
    failed = [p for p in on.points if (p.value or 0) > 0]
    d.expect("sales-batch loaded the corrupt partition and its quality check failed (staging flags FAILED)",
             bool(failed) and any((p.value or 0) > 0 for p in off.points),
             f"first failing at minute {failed[0].minute}" if failed else "no failed check")
    d.expect(f"the quality-check-failures alarm went to ALARM within its floor + {SLACK_MINUTES} min (the probe "
             f"reads the flags every 5 min)", f.detected_by == "alarm" and f.detect is not None
             and f.floor_detect is not None and f.detect <= f.floor_detect + SLACK_MINUTES,
             f"detect {f.detect}, floor {f.floor_detect}")
    decisions = [r["payload"] for r in served.audit if r["kind"] == "decision"]
    proposed = [(x["verdict"], x["action"]["name"], x["action"]["params"].get("partition")) for x in decisions]
    partitions = sorted({p for *_, p in proposed})
    d.expect("the data quality playbook proposed the re-run of that one partition and waited for approval; the "
             "approval allowed it", [(v, a) for v, a, _ in proposed] == [("AWAITING_APPROVAL", "glue.rerun_partition"),
                                                                       ("ALLOWED", "glue.rerun_partition")]
             and len(partitions) == 1 and served.told_at is not None and served.reruns_before_approval == 0,
             str(proposed))
    reruns = [partition for _, job, partition, _ in served.batch.adopted if job == BATCH]
    d.expect(f"{APPROVER} approved {APPROVAL_MINUTES} min after the service's notification (assumed); the re-run "
             f"of that partition started then, once", served.told_at is not None and served.approved_at ==
             served.told_at + APPROVAL_MINUTES and served.answer.get("decision") == "APPROVED"
             and f.first_action == served.approved_at - on.fault_minute and reruns == partitions,
             f"told at {served.told_at}, approved at {served.approved_at}, re-runs {reruns}")
    d.expect("the re-run wrote the partition's staging quality flags again, passed (over the replayed records)",
             bool(partitions) and flags == {p: True for p in partitions}, f"flags passed: {flags}")
    verdicts = [r["payload"].get("status") for r in served.audit if r["kind"] == "verification"]
    d.expect("recovered when the re-run's partition passed its quality check; the playbook verified it, once, and "
             "the alarm returned to OK and stayed there", f.recover is not None and f.first_action is not None
             and f.recover >= f.first_action and verdicts == ["VERIFIED"]
             and any(m.kind == "alarm" and m.text.endswith("OK") for m in on.marks) and on.points[-1].alarm == "OK",
             f"recover {f.recover}, verifications {verdicts}, alarm {on.points[-1].alarm} at the end")
    d.expect(f"without the service: the alarm pages, and a person re-runs the partition {RESPONSE_MINUTES} min "
             f"later (assumed response)", g.detect is not None and g.first_action is not None
             and g.first_action >= g.detect + RESPONSE_MINUTES and g.recover is not None,
             f"page at {g.detect}, person at {g.first_action}, recover {g.recover}")
    d.expect("the service recovers sooner than a person following the runbook",
             f.recover is not None and g.recover is not None and f.recover < g.recover,
             f"{f.recover} vs {g.recover}")

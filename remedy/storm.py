"""A storm across a fleet (issue 16): N synthetic pipelines deployed into the sandbox, all failing at once.

    run_storm(50)          # deploy, inject, evaluate, deliver; the figures and the checks as a dict
    markdown(result)       # bench-results/storm.md

The catalog is remedy/scale.py's synthetic one (config/dev.yaml's two pipelines cloned N times). The storm:

- every streaming job stops and falls behind (30,000 messages, five minutes of it: the lag alarms' M of N met),
  wherever its lag comes from (the lag probe reading the checkpoint, or MSK's consumer-group metric);
- meanwhile every hourly batch job's run fails throttled (a transient cause its playbook would retry);
- the alarms are evaluated once (metric alarms, then the composites: per pipeline, the tiered outage count) and
  every state change goes through EventBridge with the Glue events, each delivered twice (EventBridge is at
  least once) in a shuffled order, to the real handlers with their roles.

What must hold, read from the account and the audit trail (not from return codes): each streaming job
restarted exactly once (one remediation per incident); each batch restart refused by `lineage_hold`, naming its
own pipeline's stream (downstream held while upstream is faulty) and no batch run started; every incident
decided exactly once (the duplicates answered from the idempotency record); no invocation failed.

The fleet budget (guardrails.fleet_budget_per_hour, 10 in dev) would refuse 40 of 50 restarts: the storm sets
it to the number of pipelines (`budget=`), so the figures are those of a fleet that recovers in one pass; with
`budget=None` the catalog's own value stands and the refusals are counted (rule fleet_budget).

Figures: incidents, remediations per incident, holds, events delivered per second (routing + handlers), AWS API
calls per incident (every call the functions made, as the sandbox records them), and wall time per phase
(synthesis, deploy, injection, alarm evaluation, delivery).
"""

from __future__ import annotations

import copy
import random
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
LAG = 30_000  # messages behind: three times the dev threshold (10,000)
LAG_MINUTES = 5  # the lag alarms' evaluation window, every datapoint breaching
THROTTLED = "An error occurred while calling o102.pyWriteDynamicFrame"
THROTTLED_LOG = ["INFO GlueContext: writing partition",
                 "ERROR Executor: com.amazonaws.services.glue.model.ThrottlingException: Rate exceeded"]


def storm_catalog(pipelines: int, folder: Path, budget: int | None) -> Path:
    """The synthetic catalog of `pipelines`, the fleet budget set to `budget` (None: the template's)."""
    import yaml

    from functions.core.catalog import parse_catalog
    from remedy.scale import synthetic_catalog

    data = synthetic_catalog(pipelines)
    if budget is not None:
        data["guardrails"]["fleet_budget_per_hour"] = budget
    parse_catalog(data, f"storm catalog of {pipelines} pipelines")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"storm-{pipelines}-budget-{budget if budget is not None else 'catalog'}.yaml"
    path.write_text(f"# Storm catalog: {pipelines} synthetic pipelines (remedy/storm.py)\n"
                    + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _streams_and_batches(catalog: Any) -> dict[str, str]:
    """Each batch job and the streaming job whose landing prefix it reads (its pipeline)."""
    by_prefix = {j.writes_prefix: j.name for j in catalog.glue_jobs if j.kind == "streaming"}
    return {j.name: by_prefix[j.reads_prefix] for j in catalog.glue_jobs if j.kind == "batch"}


def inject(d: Any) -> list[dict[str, Any]]:
    """Every streaming job stopped and behind, every batch run failed throttled: the Glue events of the
    failures (delivered with the alarms' events by `deliver_storm`)."""
    from sandbox.glue_events import job_state_change_event
    from sandbox.kafka_standin import set_lag

    catalog = d.catalog
    streams = [j for j in catalog.glue_jobs if j.kind == "streaming"]
    for job in streams:
        d.stop_streaming_job(job.name, error="OutOfMemoryError: Java heap space")
    for job in streams:
        if job.lag_source == "msk":
            d.consumer_lag(job.name, [LAG] * LAG_MINUTES)
        elif job.lag_source == "glue":
            d.consumer_lag(job.name, [LAG * 1000.0] * LAG_MINUTES)
        else:
            set_lag(d.sandbox, job, LAG)  # checkpoint: the brokers and checkpoint moved, probed below
    if any(j.lag_source not in ("msk", "glue") for j in streams):
        d.lag_probe_minutes(LAG_MINUTES)  # the probe's runs of those minutes, every job at once, as scheduled
    events = []
    partition = (d.now - timedelta(hours=1)).strftime(catalog.s3.landing_partition_format)
    for job in (j for j in catalog.glue_jobs if j.kind == "batch"):
        run_id = d.start_run(job.name, {"--partition": partition})
        d.write_error_log(job.name, run_id, THROTTLED_LOG)
        d.set_run_state(job.name, run_id, "FAILED", THROTTLED)
        events.append(job_state_change_event(catalog.account_id, catalog.region, job.name, run_id, "FAILED",
                                             THROTTLED, d.now))
    return events


def deliver_storm(sandbox: Any, events: list[dict[str, Any]], copies: int, seed: int) -> dict[str, Any]:
    """Each event `copies` times, shuffled, through EventBridge to the handlers: outcomes, the AWS calls the
    functions and state machines made (sandbox.aws.CALLS_BY, S3 included, by the caller's key), seconds."""
    from sandbox import aws, iam

    rng = random.Random(seed)  # noqa: S311 (a reproducible order, not a secret)
    storm = [copy.deepcopy(e) for e in events for _ in range(copies)]
    rng.shuffle(storm)
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    invocations = unrouted = switches = 0
    last = ""
    first_call, first_denial, first_unmapped = len(aws.CALLS_BY), len(iam.DENIALS), len(iam.UNMAPPED)
    began = time.perf_counter()
    for event in storm:
        delivery = sandbox.deliver(event)
        if not delivery.invocations:
            unrouted += 1
        for invocation in delivery.invocations:
            invocations += 1
            switches += invocation.function != last  # the sandbox's cold start: another function's environment
            last = invocation.function
            if invocation.error:
                errors.append(f"{invocation.function}: {invocation.error}"[:300])
                statuses["error"] += 1
            else:
                result = invocation.result if isinstance(invocation.result, dict) else {}
                statuses[str(result.get("status") or result.get("answer") or "ok")] += 1
    seconds = time.perf_counter() - began
    functions = {iam.function_key(spec): spec.name for spec in sandbox.deployment.functions.values()}
    machines = iam.keys("states")
    by_caller: Counter[str] = Counter()
    by_operation: Counter[str] = Counter()
    for service, operation, caller, _status in aws.CALLS_BY[first_call:]:
        who = functions.get(caller) or ("state machines" if caller in machines else "")
        if not who:
            continue  # the sandbox's own: alarm evaluation, EMF and SNS delivery on AWS's side
        by_caller[who] += 1
        by_operation[f"{service}:{operation}"] += 1
    denied = [str(d) for d in iam.DENIALS[first_denial:]] + [str(u) for u in iam.UNMAPPED[first_unmapped:]]
    return {"events": len(storm), "distinct_events": len(events), "copies": copies, "seconds": seconds,
            "invocations": invocations, "not_routed": unrouted, "function_switches": switches,
            "statuses": dict(statuses), "errors": errors, "api_calls": sum(by_caller.values()),
            "api_calls_by_caller": dict(by_caller.most_common()),
            "api_calls_by_operation": dict(by_operation.most_common()), "denied": denied[:10]}


def check(sandbox: Any, pipelines: dict[str, str], started_before: dict[str, int]) -> dict[str, Any]:
    """What the account and the audit trail say happened, per incident and per job (see the module's doc)."""
    audit = sandbox.audit()
    decisions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    actions: Counter[str] = Counter()
    for record in audit:
        if record["kind"] == "decision":
            decisions[record["incident_id"]].append(record["payload"])
        elif record["kind"] == "action":
            actions[record["incident_id"]] += 1
    glue = sandbox.client("glue")

    def runs(job: str) -> list[dict[str, Any]]:
        return list(glue.get_job_runs(JobName=job)["JobRuns"])

    streams = sorted(set(pipelines.values()))
    restarts = {job: len(runs(job)) - started_before[job] for job in streams}
    running = {job: sum(1 for r in runs(job) if r["JobRunState"] in ("STARTING", "RUNNING")) for job in streams}
    # Each stream: one incident, one decision; restarted exactly once when it was allowed, never when a named
    # rule refused it (the fleet budget, when it is smaller than the storm).
    streams_right, streams_wrong = 0, []
    for stream in streams:
        ours = [p for ps in decisions.values() for p in ps if p["action"]["target"] == f"glue:{stream}"]
        allowed = [p for p in ours if p["verdict"] == "ALLOWED"]
        refused = [p for p in ours if p["verdict"] == "REFUSED" and p["rule"]]
        if len(ours) == 1 and ((allowed and restarts[stream] == running[stream] == 1)
                               or (refused and restarts[stream] == 0)):
            streams_right += 1
        else:
            streams_wrong.append(f"{stream}: restarts {restarts[stream]}, "
                                 f"{[(p['verdict'], p['rule']) for p in ours]}")
    holds, wrong_holds, batch_runs = 0, [], {}
    for batch, stream in pipelines.items():
        batch_runs[batch] = len(runs(batch)) - started_before[batch]
        ours = [p for ps in decisions.values() for p in ps if p["action"]["target"] == f"glue:{batch}"]
        if ours and all(p["verdict"] == "REFUSED" and p["rule"] == "lineage_hold"
                        and f"glue:{stream}" in p["reason"] for p in ours):
            holds += 1
        else:
            wrong_holds.append(f"{batch}: {[(p['verdict'], p['rule'], p['reason'][:80]) for p in ours]}")
    per_incident = Counter(len(ps) for ps in decisions.values())
    verdicts = Counter((p["verdict"], p["rule"]) for ps in decisions.values() for p in ps)
    acted = {i for i, ps in decisions.items() if any(p["verdict"] == "ALLOWED" for p in ps)}
    outcomes = Counter(r["payload"].get("status", "?") for r in audit if r["kind"] == "outcome")
    return {
        "incidents": len({r["incident_id"] for r in audit if r["kind"] in ("decision", "outcome")}),
        "incidents_decided": len(decisions),
        "decisions_per_incident": _keyed(per_incident),
        "verdicts": {f"{v} {r}": n for (v, r), n in verdicts.most_common()},
        "outcomes": dict(outcomes),
        "remediations": sum(actions.values()),
        "incidents_acted": len(acted),
        "actions_per_acted_incident": _keyed(Counter(actions[i] for i in acted)),
        "restarts_per_stream": _keyed(Counter(restarts.values())),
        "running_per_stream": _keyed(Counter(running.values())),
        "streams_right": streams_right, "streams_wrong": streams_wrong[:5],
        "batch_runs_started": sum(batch_runs.values()),
        "holds_correct": holds, "holds_expected": len(pipelines), "holds_wrong": wrong_holds[:5],
        "duplicates": sum(1 for r in audit if r["kind"] == "duplicate"),
    }


def _keyed(counts: Counter[int]) -> dict[str, int]:
    """{how many: how often}, keys as JSON keeps them (strings), smallest first."""
    return {str(k): v for k, v in sorted(counts.items())}


def procedures_started(sandbox: Any) -> dict[str, int]:
    """Executions per procedure state machine in the account now (the outage composite starts one)."""
    sfn = sandbox.client("stepfunctions")
    return {m["name"]: len(sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"])
            for m in sfn.list_state_machines()["stateMachines"]
            if sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"]}


def run_storm(pipelines: int = 50, *, folder: Path | None = None, budget: int | None = -1, copies: int = 2,
              seed: int = 7) -> dict[str, Any]:
    """Deploy N pipelines into a fresh sandbox, storm them, measure and check. `budget` -1: the number of
    pipelines (one restart each fits the hour); None: the catalog's own fleet budget."""
    from remedy.gameday.drill import Drill
    from sandbox.core import Sandbox
    from sandbox.home import sandbox_home
    from sandbox.templates import templates_for

    folder = folder or sandbox_home() / "storm"
    fleet_budget = pipelines if budget == -1 else budget
    path = storm_catalog(pipelines, folder, fleet_budget)
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    templates = templates_for("dev", path)  # cached on disk by its inputs (infra.template.synthesized)
    seconds["synthesis"] = time.perf_counter() - began
    mark = time.perf_counter()
    sandbox = Sandbox("dev", workdir=folder / f"sandbox-{pipelines}", catalog_path=path).start(templates)
    seconds["deploy"] = time.perf_counter() - mark
    try:
        d = Drill(sandbox)
        pipes = _streams_and_batches(sandbox.catalog)
        jobs = sorted(set(pipes) | set(pipes.values()))
        glue = sandbox.client("glue")
        mark = time.perf_counter()
        glue_events = inject(d)
        started_before = {job: len(glue.get_job_runs(JobName=job)["JobRuns"]) for job in jobs}
        seconds["inject"] = time.perf_counter() - mark
        d.advance(1)
        mark = time.perf_counter()
        changes = sandbox.evaluate_alarms(d.now)
        seconds["alarm_evaluation"] = time.perf_counter() - mark
        in_alarm = Counter(e.alarm_name.split("/")[1] for e, _ in changes if e.state == "ALARM")
        storm = deliver_storm(sandbox, [event for _, event in changes] + glue_events, copies, seed)
        seconds["delivery"] = storm.pop("seconds")
        checked = check(sandbox, pipes, started_before)
        procedures = procedures_started(sandbox)
        seconds["total"] = time.perf_counter() - began
        deployed = {"alarms": len(sandbox.deployment.alarms), "composites": len(sandbox.deployment.composite_alarms),
                    "rules": len(sandbox.deployment.rules), "functions": len(sandbox.deployment.functions),
                    "stacks": len(templates)}
    finally:
        sandbox.stop()
    incidents = checked["incidents"] + sum(procedures.values())
    streams = len(set(pipes.values()))
    passed = (not storm["errors"] and not storm["denied"] and checked["streams_right"] == streams
              and checked["holds_correct"] == len(pipes) and checked["batch_runs_started"] == 0
              and checked["decisions_per_incident"] == {"1": checked["incidents_decided"]}
              and set(checked["actions_per_acted_incident"]) <= {"1"}
              and all(n == 1 for n in procedures.values()))
    return {
        "pipelines": pipelines, "fleet_budget_per_hour": fleet_budget, "deployed": deployed,
        "alarm_changes": len(changes), "alarms_to_alarm": dict(in_alarm), "glue_events": len(glue_events),
        **storm, **checked, "procedures_started": procedures, "incidents_total": incidents,
        "events_per_second": round(storm["events"] / seconds["delivery"], 1),
        "invocations_per_second": round(storm["invocations"] / seconds["delivery"], 1),
        "api_calls_per_incident": round(storm["api_calls"] / max(incidents, 1), 1),
        "seconds": {k: round(v, 1) for k, v in seconds.items()}, "passed": passed,
    }


def markdown(result: dict[str, Any], head: str = "") -> str:
    """The storm's table (bench-results/storm.md, the figures snapshot's fleet-storm section)."""
    r, s = result, result["seconds"]
    acted = r["incidents_acted"]
    budget = r["verdicts"].get("REFUSED fleet_budget", 0)
    procs = ", ".join(f"{k} {v}" for k, v in r["procedures_started"].items()) or "none"
    rows = [
        ("pipelines (streaming + batch jobs)", f"{r['pipelines']} ({r['pipelines'] * 2} jobs)"),
        ("deployed: stacks / alarms / composites / rules",
         " / ".join(str(r["deployed"][k]) for k in ("stacks", "alarms", "composites", "rules"))),
        ("alarm state changes (to ALARM by kind)", f"{r['alarm_changes']} ("
         + ", ".join(f"{k} {v}" for k, v in r["alarms_to_alarm"].items()) + ")"),
        ("events delivered (each twice: at least once)", f"{r['events']} ({r['distinct_events']} distinct; "
                                                          f"{r['not_routed']} matched no rule)"),
        ("invocations (function switches: a cold start each in the sandbox)",
         f"{r['invocations']} ({r['function_switches']})"),
        ("incidents", f"{r['incidents_total']}: {r['incidents_decided']} playbook incidents, procedures "
                      f"started {procs}"),
        ("decisions per incident", ", ".join(f"{k}: {v} incidents" for k, v in r["decisions_per_incident"].items())),
        ("remediations", f"{r['remediations']} in {acted} incidents (per acted incident: "
         + ", ".join(f"{k}: {v}" for k, v in r["actions_per_acted_incident"].items()) + ")"),
        ("streaming jobs restarted exactly once", f"{r['restarts_per_stream'].get('1', 0)} of {r['pipelines']} "
                                                   f"(one decision each, as it said: {r['streams_right']})"),
        ("refused by a named rule", ", ".join(f"{k.split(' ', 1)[1]} {v}" for k, v in r["verdicts"].items()
                                               if k.startswith("REFUSED")) or "none"),
        ("lineage holds correct (batch restart refused, naming its own stream)",
         f"{r['holds_correct']} of {r['holds_expected']}; batch runs started: {r['batch_runs_started']}"),
        ("duplicates answered from the idempotency record", str(r["duplicates"])),
        ("failed invocations / IAM denials", f"{len(r['errors'])} / {len(r['denied'])}"),
        ("events per second (routing + handlers, one process)", f"{r['events_per_second']} "
                                                                 f"({r['invocations_per_second']} invocations/s)"),
        ("AWS API calls per incident", f"{r['api_calls_per_incident']} ({r['api_calls']} calls: "
         + ", ".join(f"{k} {v}" for k, v in r["api_calls_by_caller"].items()) + ")"),
        ("wall seconds", f"synthesis {s['synthesis']}, deploy {s['deploy']}, inject {s['inject']}, alarm "
                         f"evaluation {s['alarm_evaluation']}, delivery {s['delivery']}; total {s['total']}"),
        ("fleet budget per hour", f"{r['fleet_budget_per_hour']} (refused by it: {budget})"),
        ("passed", "yes" if r["passed"] else "**no**"),
    ]
    lines = [head, ""] if head else []
    lines += ["| storm | |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    return "\n".join(lines) + "\n"

"""Runbook "Emergency Procedures / Data Corruption": stop the affected jobs, identify the corrupted range,
restore from backup, re-process the affected period, verify data quality, resume normal operations.

Redshift: each table is restored from the newest snapshot taken before the range into a new table
(RestoreTableFromClusterSnapshot, a direct integration of the state machine), then swapped in, in one
transaction: the corrupted table is kept under <name>_corrupt_<incident> for a person to inspect and drop.
S3: every object changed within the range gets its last version from before the range back (a copy of that
version; bucket versioning keeps every version), objects created within the range are deleted (a delete
marker: still recoverable). Every step reads the current state first, so a step run twice changes nothing
the second time.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from typing import Any

from functions.core.catalog import Catalog, Table
from functions.procedures.inputs import DataCorruptionInput
from functions.procedures.ports import BucketPort, GluePort, WarehousePort
from functions.procedures.summary import Summary

ACTIVE = {"STARTING", "RUNNING", "WAITING"}
TERMINAL_FAILED = {"FAILED", "ERROR", "TIMEOUT", "STOPPED"}
MAX_OBJECTS = 500  # more than this is a job for S3 Batch Operations, planned by a person
IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,126}$")


class CannotProceed(Exception):
    """What the procedure found makes the next steps unsafe or impossible; the message says why."""


def _slug(incident_id: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", incident_id.lower())[:40]


def _q(identifier: str) -> str:
    if not IDENT.fullmatch(identifier):
        raise ValueError(f"not a catalog identifier: {identifier!r}")
    return f'"{identifier}"'


def _ts(at: datetime) -> str:
    return f"TIMESTAMP '{at:%Y-%m-%d %H:%M:%S}'"


def _parse(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _overlaps(a: str, b: str) -> bool:
    return a.startswith(b) or b.startswith(a)


def affected_jobs(catalog: Catalog, inp: DataCorruptionInput) -> list[str]:
    """Jobs that load an affected table, or write or read an affected prefix (they would spread it)."""
    names = []
    for job in catalog.glue_jobs:
        loads = bool(job.loads_table and job.loads_table in inp.tables)
        touches = any(p and _overlaps(p, q) for p in (job.writes_prefix, job.reads_prefix) for q in inp.prefixes)
        if loads or touches:
            names.append(job.name)
    return names


def quality_sql(table: Table, start: datetime, end: datetime) -> tuple[str, list[str]]:
    """One statement: rows in [start, end) and each catalog check's violations among them."""
    column = _q(table.time_column or "")
    labels, exprs = ["rows"], ["COUNT(*)"]
    for col in table.quality.not_null:
        labels.append(f"{col} is null")
        exprs.append(f"SUM(CASE WHEN {_q(col)} IS NULL THEN 1 ELSE 0 END)")
    for col in table.quality.non_negative:
        labels.append(f"{col} < 0")
        exprs.append(f"SUM(CASE WHEN {_q(col)} < 0 THEN 1 ELSE 0 END)")
    for col in table.quality.unique:
        labels.append(f"{col} duplicated")
        exprs.append(f"COUNT({_q(col)}) - COUNT(DISTINCT {_q(col)})")
    sql = (f"SELECT {', '.join(exprs)} FROM {_q(table.schema_name)}.{_q(table.name)} "
           f"WHERE {column} >= {_ts(start)} AND {column} < {_ts(end)}")
    return sql, labels


def check_table(warehouse: WarehousePort, table: Table, start: datetime, end: datetime) -> dict[str, Any]:
    sql, labels = quality_sql(table, start, end)
    row = (warehouse.query(sql) or [[0] * len(labels)])[0]
    values = {label: int(value or 0) for label, value in zip(labels, row, strict=True)}
    baseline_sql, _ = quality_sql(Table(schema=table.schema_name, name=table.name, time_column=table.time_column),
                                  start - (end - start), start)
    baseline = int((warehouse.query(baseline_sql) or [[0]])[0][0] or 0)
    violations = {k: v for k, v in values.items() if k != "rows" and v}
    return {"rows_in_range": values["rows"], "rows_before_range": baseline, "violations": violations}


def _confirmed(check: dict[str, Any]) -> str:
    if check["violations"]:
        return "confirmed: " + ", ".join(f"{v} rows with {k}" for k, v in sorted(check["violations"].items()))
    before, now = check["rows_before_range"], check["rows_in_range"]
    if before and abs(now - before) > before / 2:
        return f"confirmed: {now} rows in the range against {before} in the period before"
    return "not confirmed by the checks (no violation, usual row count): restoring anyway is your call"


def plan_objects(versions: list[dict[str, Any]], bucket: str, start: datetime, end: datetime
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Per key changed within [start, end]: its last version before the range back, or deleted if it had
    none. Keys changed again after the range are left to a person (restoring would lose newer data)."""
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for version in versions:
        by_key[version["key"]].append(version)
    plans, notes = [], []
    for key, items in sorted(by_key.items()):
        items.sort(key=lambda v: _parse(v["modified"]))
        in_range = [v for v in items if start <= _parse(v["modified"]) <= end]
        if not in_range:
            continue
        if any(_parse(v["modified"]) > end for v in items):
            notes.append(f"s3://{bucket}/{key} changed again after the range: left for a person")
            continue
        before = [v for v in items if _parse(v["modified"]) < start]
        target = before[-1] if before else None
        if target is None or target.get("delete_marker"):
            plans.append({"bucket": bucket, "key": key, "action": "delete", "version_id": "", "etag": ""})
        else:
            plans.append({"bucket": bucket, "key": key, "action": "copy", "version_id": target["version_id"],
                          "etag": target.get("etag", "")})
    return plans, notes


def _containment(jobs: list[str], glue: GluePort, catalog: Catalog) -> dict[str, Any]:
    """What to stop: the affected jobs' active runs, and the triggers that would start them again."""
    stop_runs, restart_streaming, stop_triggers, findings = [], [], [], []
    for name in jobs:
        job = catalog.glue_job(name)
        active = [r["id"] for r in glue.runs(name) if r["state"] in ACTIVE]
        if active:
            stop_runs.append({"job": name, "run_ids": active})
            if job.streaming:
                restart_streaming.append(name)
        if job.trigger:
            state = glue.trigger_state(job.trigger)
            if state == "ACTIVATED":
                stop_triggers.append({"name": job.trigger, "job": name})
            elif state is None:
                findings.append(f"trigger {job.trigger} of {name} does not exist: nothing to stop or resume")
    return {"stop_runs": stop_runs, "restart_streaming": restart_streaming, "stop_triggers": stop_triggers,
            "findings": findings}


def _table_plans(inp: DataCorruptionInput, warehouse: WarehousePort, catalog: Catalog) -> dict[str, Any]:
    """Per table: the newest snapshot from before the range, the new and kept names, the checks."""
    tables: list[dict[str, Any]] = []
    checks: dict[str, Any] = {}
    findings: list[str] = []
    if not inp.tables:
        return {"tables": tables, "checks": checks, "findings": findings}
    snapshots = [s for s in warehouse.snapshots(catalog.redshift.cluster_id)
                 if s.get("status") == "available" and _parse(s["created"]) < inp.start]
    if not snapshots:
        raise CannotProceed(f"no available snapshot of {catalog.redshift.cluster_id} taken before "
                            f"{inp.start:%Y-%m-%d %H:%M}Z: the tables cannot be restored")
    snapshot = max(snapshots, key=lambda s: _parse(s["created"]))
    known = {t.qualified: t for t in catalog.redshift.tables}
    slug = _slug(inp.incident_id)
    for qualified in inp.tables:
        table = known[qualified]
        check = check_table(warehouse, table, inp.start, inp.end)
        checks[qualified] = check
        findings.append(f"{qualified}: {check['rows_in_range']} rows in the range; {_confirmed(check)}")
        tables.append({"table": qualified, "schema": table.schema_name, "name": table.name,
                       "new_table": f"{table.name}_restored_{slug}"[:127],
                       "corrupt_table": f"{table.name}_corrupt_{slug}"[:127],
                       "snapshot": snapshot["id"], "snapshot_time": _parse(snapshot["created"]).isoformat(),
                       "cluster": catalog.redshift.cluster_id, "database": catalog.redshift.database})
    return {"tables": tables, "checks": checks, "findings": findings}


def _object_plans(inp: DataCorruptionInput, bucket: BucketPort, catalog: Catalog) -> dict[str, Any]:
    objects: list[dict[str, Any]] = []
    findings: list[str] = []
    if not inp.prefixes:
        return {"objects": objects, "findings": findings}
    status = bucket.versioning(catalog.s3.name)
    if status != "Enabled":
        raise CannotProceed(f"bucket {catalog.s3.name} has no versioning ({status or 'never enabled'}): "
                            f"objects from before the range cannot be restored")
    for prefix in inp.prefixes:
        planned, notes = plan_objects(bucket.versions(catalog.s3.name, prefix), catalog.s3.name, inp.start, inp.end)
        objects += planned
        findings += [*notes, f"s3://{catalog.s3.name}/{prefix}: {len(planned)} objects changed within the range"]
    if len(objects) > MAX_OBJECTS:
        raise CannotProceed(f"{len(objects)} objects changed within the range (more than {MAX_OBJECTS}): "
                            f"restore them with S3 Batch Operations")
    return {"objects": objects, "findings": findings}


def assess(inp: DataCorruptionInput, glue: GluePort, warehouse: WarehousePort, bucket: BucketPort,
           catalog: Catalog) -> dict[str, Any]:
    jobs = affected_jobs(catalog, inp)
    stop = _containment(jobs, glue, catalog)
    tables = _table_plans(inp, warehouse, catalog)
    planned = _object_plans(inp, bucket, catalog)
    objects, object_findings = planned["objects"], planned["findings"]
    reprocess = [name for name in jobs if not catalog.glue_job(name).streaming]
    resume = [f"trigger {t['name']}" for t in stop["stop_triggers"]] + [
        f"streaming job {j}" for j in stop["restart_streaming"]]
    about_to = [
        *[f"restore {t['table']} from snapshot {t['snapshot']} ({t['snapshot_time']}) into "
          f"{t['schema']}.{t['new_table']}, then swap it in; the current table is kept as "
          f"{t['schema']}.{t['corrupt_table']}" for t in tables["tables"]],
        *([f"put back {sum(o['action'] == 'copy' for o in objects)} object versions from before the range and "
           f"delete {sum(o['action'] == 'delete' for o in objects)} objects created within it "
           f"(s3://{catalog.s3.name}/{', '.join(inp.prefixes)})"] if inp.prefixes else []),
        *[f"re-process {inp.start:%Y-%m-%d %H:%M}Z to {inp.end:%Y-%m-%d %H:%M}Z with a run of {name}"
          for name in reprocess],
        "then verify the checks and resume: " + (", ".join(resume) or "nothing was stopped"),
    ]
    return {"jobs": jobs, "stop_runs": stop["stop_runs"], "stop_triggers": stop["stop_triggers"],
            "restart_streaming": stop["restart_streaming"], "tables": tables["tables"], "objects": objects,
            "checks": tables["checks"], "reprocess": reprocess,
            "findings": stop["findings"] + tables["findings"] + object_findings, "about_to": about_to,
            "rollback_point": {"tables": {t["table"]: {"snapshot": t["snapshot"], "kept_as": t["corrupt_table"]}
                                          for t in tables["tables"]},
                               "objects": len(objects), "stopped_runs": stop["stop_runs"],
                               "stopped_triggers": stop["stop_triggers"]}}


def swap_tables(state: dict[str, Any], warehouse: WarehousePort) -> dict[str, Any]:
    results = []
    for table in state["plan"]["tables"]:
        schema, name, new, corrupt = table["schema"], table["name"], table["new_table"], table["corrupt_table"]
        _q(schema)  # spliced as a literal below: an identifier of the catalog's alphabet, or refused here
        names = ", ".join(f"'{n}'" for n in (name, new, corrupt) if IDENT.fullmatch(n))
        rows = warehouse.query(f"SELECT table_name FROM information_schema.tables WHERE table_schema = "
                               f"'{schema}' AND table_name IN ({names})")
        exists = {str(r[0]) for r in rows}
        if new in exists and name in exists and corrupt not in exists:
            warehouse.run_in_transaction([
                f"ALTER TABLE {_q(schema)}.{_q(name)} RENAME TO {_q(corrupt)}",
                f"ALTER TABLE {_q(schema)}.{_q(new)} RENAME TO {_q(name)}",
            ])
            status = "swapped"
        elif new in exists and name not in exists:
            warehouse.run_in_transaction([f"ALTER TABLE {_q(schema)}.{_q(new)} RENAME TO {_q(name)}"])
            status = "swapped in (there was no current table)"
        elif corrupt in exists and name in exists and new not in exists:
            status = "already swapped"
        else:
            raise CannotProceed(f"{table['table']}: the restored table {schema}.{new} is not there to swap in "
                                f"(found: {', '.join(sorted(exists)) or 'nothing'})")
        results.append({"table": table["table"], "status": status, "kept_as": f"{schema}.{corrupt}"})
    return {"tables": results}


def _latest(versions: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {v["key"]: v for v in versions if v.get("latest")}


def restore_objects(state: dict[str, Any], bucket: BucketPort, catalog: Catalog) -> dict[str, Any]:
    plan = state["plan"]
    latest: dict[str, dict[str, Any]] = {}
    for prefix in state.get("prefixes", []) if plan["objects"] else []:
        latest.update(_latest(bucket.versions(catalog.s3.name, prefix)))
    copied = deleted = already = 0
    for item in plan["objects"]:
        current = latest.get(item["key"])
        if item["action"] == "copy":
            if current and not current.get("delete_marker") and current.get("etag") == item["etag"]:
                already += 1
                continue
            bucket.copy_version(item["bucket"], item["key"], item["version_id"])
            copied += 1
        else:
            if current is None or current.get("delete_marker"):
                already += 1
                continue
            bucket.delete(item["bucket"], item["key"])
            deleted += 1
    return {"copied": copied, "deleted": deleted, "already": already}


def reprocess_arguments(state: dict[str, Any]) -> dict[str, str]:
    return {"--reprocess_from": str(state["start"]), "--reprocess_to": str(state["end"]),
            "--remedy_incident": str(state["incident_id"])}


def reprocess(state: dict[str, Any], glue: GluePort, start_runs: bool) -> dict[str, Any]:
    """Start (once: a run already carrying this incident's arguments is reused) or follow the runs."""
    arguments = reprocess_arguments(state)
    runs = []
    for job in state["plan"]["reprocess"]:
        recent = glue.runs(job)
        mine = next((r for r in recent if (r.get("arguments") or {}).get("--remedy_incident")
                     == arguments["--remedy_incident"]), None)
        if mine is None:
            if not start_runs:
                raise CannotProceed(f"the re-processing run of {job} is gone")
            run_id, run_state = glue.start_run(job, arguments), "STARTING"
        else:
            run_id, run_state = mine["id"], mine["state"]
        runs.append({"job": job, "run_id": run_id, "state": run_state})
    failed = [r for r in runs if r["state"] in TERMINAL_FAILED]
    if failed:
        raise CannotProceed("re-processing failed: " + ", ".join(f"{r['job']} run {r['run_id']} {r['state']}"
                                                                 for r in failed))
    return {"runs": runs, "done": all(r["state"] == "SUCCEEDED" for r in runs)}


def verify(state: dict[str, Any], warehouse: WarehousePort, bucket: BucketPort, catalog: Catalog) -> dict[str, Any]:
    plan = state["plan"]
    start, end = _parse(state["start"]), _parse(state["end"])
    known = {t.qualified: t for t in catalog.redshift.tables}
    checks, problems = {}, []
    for table in plan["tables"]:
        check = check_table(warehouse, known[table["table"]], start, end)
        checks[table["table"]] = check
        if check["violations"]:
            problems.append(f"{table['table']}: " + ", ".join(f"{v} rows with {k}"
                                                              for k, v in sorted(check["violations"].items())))
    if plan["objects"]:
        latest: dict[str, dict[str, Any]] = {}
        for prefix in state.get("prefixes", []):
            latest.update(_latest(bucket.versions(catalog.s3.name, prefix)))
        wrong = [o["key"] for o in plan["objects"]
                 if (o["action"] == "copy" and (latest.get(o["key"]) or {}).get("etag") != o["etag"])
                 or (o["action"] == "delete" and o["key"] in latest and not latest[o["key"]].get("delete_marker"))]
        if wrong:
            problems.append(f"{len(wrong)} objects are not back at their version from before the range "
                            f"({', '.join(wrong[:3])})")
    detail = "; ".join(problems) or "; ".join(
        f"{t}: {c['rows_in_range']} rows in the range, no violation" for t, c in checks.items()) or \
        f"{len(plan['objects'])} objects back at their versions"
    return {"verified": not problems, "checks": checks, "detail": detail[:900]}


def summary(state: dict[str, Any], failed_step: str | None) -> Summary:  # noqa: C901, PLR0912 - a line per step
    plan = state.get("plan") or {}
    results = state.get("results") or {}
    out = Summary(findings=list(plan.get("findings", [])))
    if "StopRuns" in results:
        out.done += [f"stopped {len(s['run_ids'])} run(s) of {s['job']}" for s in plan.get("stop_runs", [])]
    if "StopTriggers" in results:
        out.done += [f"stopped trigger {t['name']} of {t['job']}" for t in plan.get("stop_triggers", [])]
    if "RecordRollbackPoint" in results:
        out.done.append("recorded the rollback point in the audit trail")
    if "SwapTables" in results:
        out.done += [f"restored {t['table']} from its snapshot and swapped it in ({t['status']}); the corrupted "
                     f"table is kept as {t['kept_as']}: drop it when you are sure"
                     for t in results["SwapTables"]["tables"]]
    elif "RestoreTables" in results:
        out.done += [f"restored {t['table']} into {t['schema']}.{t['new_table']} (not swapped in)"
                     for t in plan.get("tables", [])]
    if "RestoreObjects" in results:
        r = results["RestoreObjects"]
        out.done.append(f"objects: {r['copied']} put back to their version from before the range, {r['deleted']} "
                        f"deleted (delete markers), {r['already']} already right")
    if "Reprocess" in results:
        out.done += [f"re-processing run {r['run_id']} of {r['job']}" for r in results["Reprocess"]["runs"]]
    if "Verify" in results:
        out.done.append(("verified: " if results["Verify"]["verified"] else "NOT verified: ")
                        + results["Verify"]["detail"])
    if "ResumeTriggers" in results or "ResumeStreaming" in results:
        out.done.append("resumed: " + ", ".join([f"trigger {t['name']}" for t in plan.get("stop_triggers", [])]
                                                + [f"streaming job {j}" for j in plan.get("restart_streaming", [])]))
    if failed_step:
        if "SwapTables" not in results:
            out.left += [f"restore {t['table']} by hand if needed: aws redshift restore-table-from-cluster-snapshot "
                         f"--cluster-identifier {t['cluster']} --snapshot-identifier {t['snapshot']} "
                         f"--source-database-name {t['database']} --source-schema-name {t['schema']} "
                         f"--source-table-name {t['name']} --new-table-name {t['new_table']}, then swap it in"
                         for t in plan.get("tables", [])]
        if "StopTriggers" in results and "ResumeTriggers" not in results:
            out.left += [f"resume when the data is right: aws glue start-trigger --name {t['name']}"
                         for t in plan.get("stop_triggers", [])]
        if "StopRuns" in results and "ResumeStreaming" not in results:
            out.left += [f"restart when the data is right: aws glue start-job-run --job-name {j}"
                         for j in plan.get("restart_streaming", [])]
    return out

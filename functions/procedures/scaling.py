"""Runbook "Scaling": Glue workers and worker type, MSK brokers, Redshift nodes. Each change is planned here
(exactly what will change, within the catalog's caps), shown to a person for approval, recorded as a
rollback point, then made by a direct service integration of the state machine and checked.

Glue UpdateJob replaces the whole job definition (omitted fields are reset): the plan carries every field of
the current definition over and changes only the worker count and type. The runbook's
`--job-update '{"NumberOfWorkers": 8, "WorkerType": "G.2X"}'` would wipe the rest.
"""

from __future__ import annotations

import json
from typing import Any

from functions.core.catalog import Catalog
from functions.procedures.corruption import CannotProceed
from functions.procedures.inputs import ScaleGlueInput, ScaleMskInput, ScaleRedshiftInput
from functions.procedures.ports import ClusterPort, GluePort
from functions.procedures.summary import Summary

# JobUpdate members that conflict with a worker count (Glue refuses both at once) or are deprecated.
CAPACITY_FIELDS = ("AllocatedCapacity", "MaxCapacity")


def job_update_from(definition: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The JobUpdate that leaves the job exactly as GetJob describes it."""
    update = {k: definition[k] for k in fields if k in definition and definition[k] is not None}
    if "NumberOfWorkers" in update or "WorkerType" in update:
        for name in CAPACITY_FIELDS:
            update.pop(name, None)
    return update


def plan_glue(inp: ScaleGlueInput, glue: GluePort, catalog: Catalog) -> dict[str, Any]:
    definition = glue.job_definition(inp.job)
    before = job_update_from(definition, glue.job_update_fields())
    worker_type = inp.worker_type or before.get("WorkerType") or catalog.glue_job(inp.job).worker_type
    after = {**before, "NumberOfWorkers": inp.workers, "WorkerType": worker_type}
    for name in CAPACITY_FIELDS:
        after.pop(name, None)
    current = {"workers": before.get("NumberOfWorkers"), "worker_type": before.get("WorkerType")}
    target = {"workers": inp.workers, "worker_type": worker_type}
    kept = sorted(k for k in after if k not in {"NumberOfWorkers", "WorkerType"})
    command = f"aws glue update-job --job-name {inp.job} --job-update '{json.dumps(after, sort_keys=True)}'"
    change = current != target
    about_to = [
        f"UpdateJob {inp.job}: NumberOfWorkers {current['workers']} -> {inp.workers}, WorkerType "
        f"{current['worker_type']} -> {worker_type}; every other field carried over unchanged ({', '.join(kept)})",
        "a run already going keeps its worker count: the next run (or a restart) uses the new one",
        f"the same by hand: {command[:600]}",
    ]
    return {"job": inp.job, "job_update": after, "current": current, "target": target, "change": change,
            "about_to": about_to, "findings": [f"{inp.job} now: {current['workers']} x {current['worker_type']}"
                                               + ("" if change else " (already at the target)")],
            "rollback_point": {"procedure": "scale-glue", "resource": f"glue:{inp.job}", "before": before,
                               "after": {"NumberOfWorkers": inp.workers, "WorkerType": worker_type}}}


def plan_msk(inp: ScaleMskInput, clusters: ClusterPort, catalog: Catalog) -> dict[str, Any]:
    name = catalog.msk.cluster_name
    info = clusters.msk_cluster(name)
    if info is None:
        raise CannotProceed(f"MSK cluster {name} does not exist")
    if info["state"] != "ACTIVE":
        raise CannotProceed(f"MSK cluster {name} is {info['state']}: scale it once it is ACTIVE")
    brokers, zones = int(info["brokers"]), max(int(info["zones"]), 1)
    if inp.brokers < brokers:
        raise CannotProceed(f"MSK cannot remove brokers ({brokers} -> {inp.brokers}): create a smaller cluster instead")
    if inp.brokers % zones:
        raise CannotProceed(f"{inp.brokers} brokers is not a multiple of the cluster's {zones} zones")
    change = inp.brokers != brokers
    return {"cluster": name, "cluster_arn": info["arn"], "current": brokers, "target": inp.brokers, "change": change,
            "findings": [f"{name}: {brokers} brokers in {zones} zones"
                         + ("" if change else " (already at the target)")],
            "about_to": [
                f"UpdateBrokerCount {name}: {brokers} -> {inp.brokers} brokers (cap "
                f"guardrails.max_msk_brokers {catalog.guardrails.max_msk_brokers})",
                "not reversible: MSK cannot remove brokers; existing partitions stay where they are until they "
                "are reassigned to the new brokers",
                f"the same by hand: aws kafka update-broker-count --cluster-arn {info['arn']} --current-version "
                f"<CurrentVersion> --target-number-of-broker-nodes {inp.brokers}",
                f"the alarms and dashboard watch brokers 1..{brokers} (catalog msk.broker_count) until the catalog "
                f"is edited and redeployed: the report says how"],
            # Per-broker alarms are synthesized from the catalog's broker count: brokers added here are not
            # watched until a person changes it and redeploys (the report's last step, with the exact edit).
            "watch": (f"the new brokers {brokers + 1}..{inp.brokers} are NOT watched yet: set msk.broker_count: "
                      f"{inp.brokers} in config/{catalog.env}.yaml and redeploy (make deploy ENV={catalog.env}) so "
                      f"the per-broker alarms and the dashboard cover them"),
            "rollback_point": {"procedure": "scale-msk", "resource": f"msk:{name}", "before": {"brokers": brokers},
                               "after": {"brokers": inp.brokers}, "reversible": False}}


def plan_redshift(inp: ScaleRedshiftInput, clusters: ClusterPort, catalog: Catalog) -> dict[str, Any]:
    cluster_id = catalog.redshift.cluster_id
    info = clusters.redshift_cluster(cluster_id)
    if info is None:
        raise CannotProceed(f"Redshift cluster {cluster_id} does not exist")
    if info["status"] != "available":
        raise CannotProceed(f"Redshift cluster {cluster_id} is {info['status']}: resize it once it is available")
    node_type = inp.node_type or info["node_type"]
    elastic = node_type == info["node_type"]
    request = {"ClusterIdentifier": cluster_id, "NodeType": node_type, "NumberOfNodes": inp.nodes,
               "ClusterType": "single-node" if inp.nodes == 1 else "multi-node"}
    change = (node_type, inp.nodes) != (info["node_type"], int(info["nodes"]))
    how = "ResizeCluster (elastic resize: minutes, the cluster stays readable)" if elastic else \
        "ModifyCluster (classic resize for a new node type: the cluster is read-only until it is done)"
    return {"cluster": cluster_id, "api": "resize" if elastic else "modify", "request": request,
            "current": {"nodes": int(info["nodes"]), "node_type": info["node_type"]},
            "target": {"nodes": inp.nodes, "node_type": node_type}, "change": change,
            "findings": [f"{cluster_id}: {info['nodes']} x {info['node_type']}" + ("" if change else
                                                                                   " (already at the target)")],
            "about_to": [
                f"{how}: {info['nodes']} x {info['node_type']} -> {inp.nodes} x {node_type} (cap "
                f"guardrails.max_redshift_nodes {catalog.guardrails.max_redshift_nodes})",
                f"undo: the same procedure back to {info['nodes']} x {info['node_type']}"],
            "rollback_point": {"procedure": "scale-redshift", "resource": f"redshift:{cluster_id}",
                               "before": {"NumberOfNodes": int(info["nodes"]), "NodeType": info["node_type"]},
                               "after": {"NumberOfNodes": inp.nodes, "NodeType": node_type}}}


def _common(state: dict[str, Any], failed_step: str | None, what: str, undo: str,
            change_states: tuple[str, ...]) -> Summary:
    plan = state.get("plan") or {}
    results = state.get("results") or {}
    out = Summary(findings=list(plan.get("findings", [])))
    if plan and not plan.get("change", True):
        out.done.append("nothing changed: already at the target")
        return out
    if "RecordRollbackPoint" in results:
        out.done.append("recorded the rollback point (what it was before the change) in the audit trail")
    if any(name in results for name in change_states):
        out.done.append(what)
        out.left.append(undo)
    elif failed_step and "RecordRollbackPoint" in results:
        out.left.append(f"check by hand whether this was done: {what}")
    elif failed_step is None and "ReadCluster" in results:
        out.done.append("nothing changed: the re-read showed the target already reached")
    return out


def summary_glue(state: dict[str, Any], failed_step: str | None) -> Summary:
    plan = state.get("plan") or {}
    current, target = plan.get("current", {}), plan.get("target", {})
    return _common(state, failed_step,
                   f"updated Glue job {plan.get('job')}: {current.get('workers')} x {current.get('worker_type')} -> "
                   f"{target.get('workers')} x {target.get('worker_type')}, every other field unchanged",
                   f"to undo: remedy incident start scale-glue --job {plan.get('job')} --workers "
                   f"{current.get('workers')} --worker-type {current.get('worker_type')}", ("UpdateJob",))


def summary_msk(state: dict[str, Any], failed_step: str | None) -> Summary:
    plan = state.get("plan") or {}
    out = _common(state, failed_step, f"MSK cluster {plan.get('cluster')}: {plan.get('current')} -> "
                                      f"{plan.get('target')} brokers",
                  "reassign partitions to the new brokers (kafka-reassign-partitions) so they take load",
                  ("UpdateBrokerCount",))
    if "UpdateBrokerCount" in (state.get("results") or {}) and plan.get("watch"):
        out.left.append(str(plan["watch"]))
    return out


def summary_redshift(state: dict[str, Any], failed_step: str | None) -> Summary:
    plan = state.get("plan") or {}
    current, target = plan.get("current", {}), plan.get("target", {})
    return _common(state, failed_step, f"Redshift cluster {plan.get('cluster')}: {current.get('nodes')} x "
                                       f"{current.get('node_type')} -> {target.get('nodes')} x "
                                       f"{target.get('node_type')}",
                   f"to undo: remedy incident start scale-redshift --nodes {current.get('nodes')} --node-type "
                   f"{current.get('node_type')}", ("ResizeCluster", "ModifyCluster"))

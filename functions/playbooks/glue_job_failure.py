"""Runbook: "Glue Job Failures".

1. Check CloudWatch logs          -> the failed run's error message and the lines of its error log stream that
                                     match an error pattern (catalog: error_log_group; streams start with the
                                     run id). One small read: at most LOG_LINES lines.
2. Review error messages          -> classified: transient (throttling, S3 SlowDown/503, broker connection
                                     resets and timeouts, concurrent runs exceeded, lost workers, Glue internal
                                     errors), out of memory, or permanent (AccessDenied, script and schema
                                     errors; anything unrecognised is treated as permanent: no blind retries)
3. Check S3 permissions           -> AccessDenied: the job role's policy simulated for the S3 actions the job
                                     needs on the bucket and its prefixes; the missing action is named
4. Verify MSK connectivity        -> broker connection errors on a job with a Glue connection: is a broker
                                     port open from the connection's security groups to the brokers'?
5. Restart job if transient error -> one retry with the failed run's arguments (out of memory: on the next
                                     worker type when the catalog allows it). The guard's cooldown is the
                                     backoff and its attempt budget the limit; a batch retry must also pass the
                                     safe re-run rule (functions.playbooks._rerun), or it is refused and audited.

Triggered by `Glue Job State Change` events (FAILED, TIMEOUT, ERROR: the run id is known) and by the
`<prefix>/glue-failures/glue:<job>` alarm (the newest run is examined).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from functions.actions.glue import arguments_option  # importing it registers the actions planned here
from functions.core.alarms import AlarmSpec, metric
from functions.core.catalog import Catalog, GlueJob
from functions.core.errors import error_line
from functions.core.models import (
    Action,
    ActionResult,
    Finding,
    Incident,
    Plan,
    Verification,
    VerificationStatus,
)
from functions.core.naming import alarm_name
from functions.core.ports import GlueConnection, JobDefinition, JobRun, PlaybookPorts
from functions.playbooks import PlaybookDeclaration
from functions.playbooks._rerun import RerunFacts, bookmark_enabled, refusal, why_safe
from functions.probes.metrics import NAMESPACE, RUN_FAILED

RECENT_RUNS = 5
LOG_LINES = 50
# CloudWatch Logs filter: any of these terms (case-sensitive, as CloudWatch matches them).
LOG_PATTERN = ("?ERROR ?Error ?Exception ?exception ?Denied ?denied ?exceeded ?SlowDown ?Throttling ?timed "
               "?Timeout ?reset ?Lost ?lost ?Killed ?memory")
FAILED_STATES = {"FAILED", "TIMEOUT", "ERROR"}
KAFKA_PORTS = (9092, 9094, 9096, 9098)  # plaintext, TLS, SASL/SCRAM, IAM


@dataclass(frozen=True)
class Rule:
    kind: str
    transient: bool
    label: str
    pattern: re.Pattern[str]


def _rule(kind: str, transient: bool, label: str, pattern: str) -> Rule:
    return Rule(kind, transient, label, re.compile(pattern))


# In precedence order: anything permanent in the evidence wins over anything transient (never retry a run
# that also says AccessDenied), and out of memory wins over the lost workers it causes.
RULES = (
    _rule("access_denied", False, "access denied",
          r"AccessDenied|Access Denied|not authorized to perform|Status Code: 403|403 Forbidden"),
    _rule("script", False, "script error",
          r"SyntaxError|IndentationError|NameError|ModuleNotFoundError|ImportError|"
          r"IllegalArgumentException: .*[Ss]cript|Script .* not found"),
    _rule("schema", False, "schema error",
          r"AnalysisException|[Ss]chema mismatch|cannot resolve|Parquet column cannot be converted|"
          r"[Ii]ncompatible schema|Found duplicate column|UnsupportedOperationException: .*[Pp]arquet"),
    _rule("out_of_memory", True, "out of memory",
          r"OutOfMemoryError|Java heap space|GC overhead limit exceeded|exceeding memory limits|MemoryError|"
          r"Container killed .*memory|exit code 137"),
    _rule("concurrent_runs", True, "concurrent runs exceeded",
          r"ConcurrentRunsExceededException|Concurrent runs exceeded|[Mm]ax concurrent runs"),
    _rule("throttling", True, "throttling",
          r"ThrottlingException|Rate exceeded|TooManyRequestsException|RequestLimitExceeded"),
    _rule("s3_slowdown", True, "S3 SlowDown / 503",
          r"SlowDown|Please reduce your request rate|Status Code: 503|503 Service Unavailable"),
    _rule("broker_connection", True, "connection to the brokers",
          r"[Cc]onnection reset|Connection to node .* could not be established|Broker may not be available|"
          r"Timed out waiting for a node|TimeoutException|NetworkException|Disconnected from node|"
          r"[Cc]onnect(ion)? timed out|[Cc]onnection refused"),
    _rule("lost_workers", True, "lost workers",
          r"[Ll]ost executor|ExecutorLostFailure|[Ee]xecutor lost|[Ww]orker lost|lost node|"
          r"Container marked as failed"),
    _rule("glue_internal", True, "Glue internal error",
          r"InternalServiceException|Internal service error|ServiceUnavailableException"),
)


@dataclass(frozen=True)
class Cause:
    kind: str  # one of RULES' kinds, or "unknown"
    transient: bool
    label: str
    evidence: str  # the line that decided it


def classify(texts: list[str], state: str = "FAILED") -> Cause:
    """The cause of a failure from its error message and log lines; unknown causes are not transient."""
    lines = [t.strip() for t in texts if t and t.strip()]
    for rule in RULES:
        for line in lines:
            if rule.pattern.search(line):
                return Cause(rule.kind, rule.transient, rule.label, line[:240])
    label = "timed out (no transient cause found)" if state == "TIMEOUT" else "unrecognised error"
    return Cause("unknown", False, label, lines[0][:240] if lines else "no error message and no error log lines")


class GlueJobFailure:
    name = "glue_job_failure"

    def diagnose_and_plan(self, incident: Incident, catalog: Catalog, ports: PlaybookPorts) -> Plan:
        job_name = incident.resource.removeprefix("glue:")
        if not incident.resource.startswith("glue:") or job_name not in {j.name for j in catalog.glue_jobs}:
            return self._plan(recommendations=[f"{incident.resource} is not a Glue job of the catalog: check "
                                               f"{incident.alarm_name}; nothing was changed."])
        job = catalog.glue_job(job_name)
        runs = ports.glue.recent_runs(job.name, limit=RECENT_RUNS)
        failed, moved_on = _failed_run(runs, incident.dimensions.get("JobRunId"))
        if failed is None:
            return self._plan(recommendations=[f"{moved_on}; nothing was changed."])
        findings = [Finding(check="failed run", ok=False,
                            detail=f"run {failed.id} of {job.name} {failed.state} (attempt {failed.attempt}, "
                                   f"{failed.workers} x {failed.worker_type}): {failed.error or 'no message'}")]
        if moved_on:
            return self._plan(findings, [f"{moved_on}; nothing was changed."])
        definition = ports.glue.get_job(job.name)
        if definition.max_retries > failed.attempt:
            return self._plan(findings, [f"Glue retries this run itself (MaxRetries {definition.max_retries}, this "
                                         f"was attempt {failed.attempt}); nothing was changed."])
        lines, log_finding = _error_lines(job, failed, ports)
        findings.append(log_finding)
        cause = classify([failed.error, *lines], failed.state)
        findings.append(Finding(check="cause", ok=cause.transient,
                                detail=f"{'transient' if cause.transient else 'not transient'}: {cause.label} "
                                       f"({cause.evidence})"))
        return self._decide(job, definition, failed, runs, cause, catalog, ports, findings)

    def _decide(self, job: GlueJob, definition: JobDefinition, failed: JobRun, runs: list[JobRun], cause: Cause,
                catalog: Catalog, ports: PlaybookPorts, findings: list[Finding]) -> Plan:
        if cause.kind == "access_denied":
            return self._access_denied(job, definition, failed, catalog, ports, findings)
        arguments = retry_arguments(job, definition, failed)
        if not cause.transient:
            return self._plan(findings, [
                f"{job.name} failed ({cause.label}), not a transient cause: not retried, a retry would fail the "
                f"same way. Fix the job ({_script(definition)}) or its input, then re-run: "
                f"{_command(job.name, arguments)}"])
        active = [r for r in runs if r.active]
        if active:
            return self._plan(findings, [
                f"run {active[0].id} of {job.name} is {active[0].state}: a retry now would exceed the job's "
                f"concurrent runs; when it ends, re-run: {_command(job.name, arguments)}"])
        worker_type = None
        if cause.kind == "out_of_memory":
            worker_type = job.worker_type_upgrade(failed.worker_type or definition.worker_type)
            if worker_type is None:
                return self._plan(findings, [
                    f"{job.name} ran out of memory on {failed.worker_type or definition.worker_type} and the "
                    f"catalog allows no bigger worker type for it (allow_worker_type_upgrade / max_worker_type): "
                    f"not retried; use the scaling procedure or fix the job's memory use."])
        if cause.kind == "broker_connection" and (job.streaming or definition.connections):
            network, blocked = _connectivity(definition, catalog, ports)
            findings += network
            if blocked:
                return self._plan(findings, [f"{blocked}: not retried, a retry cannot reach the brokers. Open "
                                             f"the port (security groups), then re-run: "
                                             f"{_command(job.name, arguments)}"])
        return self._restart(job, definition, failed, arguments, cause, worker_type, findings)

    # -- plans ------------------------------------------------------------------------------------------

    def _plan(self, findings: list[Finding] | None = None, recommendations: list[str] | None = None,
              actions: list[Action] | None = None) -> Plan:
        return Plan(playbook=self.name, findings=findings or [], recommendations=recommendations or [],
                    actions=actions or [])

    def _restart(self, job: GlueJob, definition: JobDefinition, failed: JobRun, arguments: dict[str, str],
                 cause: Cause, worker_type: str | None, findings: list[Finding]) -> Plan:
        defaults = definition.default_arguments
        params: dict[str, Any] = {"job_name": job.name, "retry_of": failed.id, "arguments": arguments}
        if failed.workers and failed.workers >= 2:
            params["to_workers"] = failed.workers
        if worker_type:
            params["worker_type"] = worker_type
        recommendations = []
        if not job.streaming:
            facts = RerunFacts(job=job.name, loads=job.loads_table or job.writes_prefix or job.name,
                               write_mode=job.write_mode, partition_argument=job.partition_argument,
                               partition=arguments.get(job.partition_argument),
                               bookmark=bookmark_enabled(defaults, failed.arguments), plain_retry=True)
            params["rerun"] = facts.model_dump()
            unsafe = refusal(facts)
            findings.append(Finding(check="safe re-run", ok=unsafe is None, detail=unsafe or why_safe(facts)))
            if unsafe:
                recommendations.append(
                    f"re-run {job.name} by hand only after removing what run {failed.id} loaded into "
                    f"{facts.loads}: {_command(job.name, arguments)}")
        shape = f" on {worker_type} (was {failed.worker_type})" if worker_type else ""
        action = Action(name="glue.restart_job", target=f"glue:{job.name}", params=params,
                        reason=f"transient failure ({cause.label}): retry of {failed.id} with the same "
                               f"arguments{shape}")
        return self._plan(findings, recommendations, [action])

    def _access_denied(self, job: GlueJob, definition: JobDefinition, failed: JobRun, catalog: Catalog,
                       ports: PlaybookPorts, findings: list[Finding]) -> Plan:
        needed = s3_needs(job, catalog.s3.name)
        role = definition.role
        if not role or not needed:
            findings.append(Finding(check="S3 permissions", ok=False,
                                    detail=f"not simulated: {'no role on the job' if not role else 'no S3 prefixes'}"
                                           f" in the catalog for {job.name}"))
            return self._plan(findings, [f"{job.name} was denied access: check its role's permissions; not "
                                         f"retried (AccessDenied is not transient)."])
        try:
            decisions = ports.iam.simulate(role, sorted({a for a, _ in needed}), sorted({r for _, r in needed}))
        except Exception as error:
            findings.append(Finding(check="S3 permissions", ok=False,
                                    detail=f"could not simulate {role}'s policy: {error_line(error)}"))
            return self._plan(findings, [f"{job.name} was denied access: check {role}'s S3 permissions by "
                                         f"hand; not retried (AccessDenied is not transient)."])
        verdict = {(d.action, d.resource): d.decision for d in decisions}
        missing = [(a, r, verdict.get((a, r), "implicitDeny")) for a, r in needed
                   if verdict.get((a, r)) != "allowed"]
        role_name = role.rsplit("/", 1)[-1]
        if not missing:
            findings.append(Finding(check="S3 permissions", ok=True,
                                    detail=f"role {role_name} may {', '.join(sorted({a for a, _ in needed}))} on "
                                           f"its prefixes: the denial comes from elsewhere (bucket policy, KMS "
                                           f"key, SCP or Lake Formation)"))
            return self._plan(findings, [f"{job.name} was denied access although its role's policies allow S3: "
                                         f"check the bucket policy, KMS key policy, SCPs and Lake Formation; "
                                         f"not retried."])
        for action, resource, decision in missing:
            findings.append(Finding(check="S3 permissions", ok=False,
                                    detail=f"role {role_name} may not {action} on {_s3_display(resource)} "
                                           f"({decision})"))
        grants = "; ".join(f"{a} on {r}" for a, r, _ in missing)
        denies = " (and lift the explicit deny)" if any(d == "explicitDeny" for _, _, d in missing) else ""
        return self._plan(findings, [
            f"grant role {role_name} {grants}{denies}, then re-run: "
            f"{_command(job.name, retry_arguments(job, definition, failed))}; not retried (AccessDenied is not "
            f"transient)."])

    def verify(self, incident: Incident, results: list[ActionResult], catalog: Catalog,
               ports: PlaybookPorts) -> Verification:
        return verify_new_run(incident.resource.removeprefix("glue:"), results, ports, catalog)


# -- diagnosis helpers --------------------------------------------------------------------------------------

def _failed_run(runs: list[JobRun], run_id: str | None) -> tuple[JobRun | None, str]:
    """The run to examine and, when the job has moved on since, why nothing should be retried."""
    if run_id is None:  # the alarm: the newest run
        if not runs:
            return None, "the job has no runs on record"
        newest = runs[0]
        if newest.state not in FAILED_STATES:
            return None, f"the newest run {newest.id} is {newest.state}: nothing failed that is not handled"
        return newest, ""
    index = next((i for i, r in enumerate(runs) if r.id == run_id), None)
    if index is None:
        return None, f"run {run_id} is not among the {RECENT_RUNS} newest runs: the job has moved on since"
    if index > 0:
        newer = runs[0]
        return runs[index], (f"a newer run {newer.id} is {newer.state}: the job was retried already (by Glue, "
                             f"a person or this service)")
    return runs[index], ""


def retry_arguments(job: GlueJob, definition: JobDefinition, failed: JobRun) -> dict[str, str]:
    """The failed run's own arguments: those that differ from the job's defaults, and always its partition."""
    defaults = definition.default_arguments
    return {k: v for k, v in failed.arguments.items() if defaults.get(k) != v or k == job.partition_argument}


def _error_lines(job: GlueJob, run: JobRun, ports: PlaybookPorts) -> tuple[list[str], Finding]:
    group = job.error_log_group
    try:
        # The streams are the run's own (named after its id): no time filter, so no clock skew can hide lines.
        lines = ports.logs.matching_lines(group, run.id, LOG_PATTERN, LOG_LINES)
    except Exception as error:  # e.g. not granted yet: the error message alone still classifies
        return [], Finding(check="error log", ok=False, detail=f"could not read {group}: {error_line(error)}")
    if not lines:
        return [], Finding(check="error log", ok=True, detail=f"no error lines for run {run.id} in {group}")
    shown = " | ".join(line[:160] for line in lines[-3:])
    return lines, Finding(check="error log", ok=False,
                          detail=f"{len(lines)} error line(s) in {group} (stream {run.id[:16]}…), last: {shown}")


def s3_needs(job: GlueJob, bucket: str) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs the job needs on the data lake bucket: read its input, write its output
    (overwrite_partition also deletes what it replaces)."""
    bucket_arn = f"arn:aws:s3:::{bucket}"
    needs: list[tuple[str, str]] = []
    if job.reads_prefix:
        needs += [("s3:ListBucket", bucket_arn), ("s3:GetObject", f"{bucket_arn}/{job.reads_prefix}*")]
    if job.writes_prefix:
        needs.append(("s3:PutObject", f"{bucket_arn}/{job.writes_prefix}*"))
        if not job.streaming and job.write_mode == "overwrite_partition":
            needs.append(("s3:DeleteObject", f"{bucket_arn}/{job.writes_prefix}*"))
        if ("s3:ListBucket", bucket_arn) not in needs:
            needs.append(("s3:ListBucket", bucket_arn))
    return needs


def _connectivity(definition: JobDefinition, catalog: Catalog, ports: PlaybookPorts) -> tuple[list[Finding], str]:
    """Findings on the network path from the job's Glue connection to the brokers, and why it is blocked
    ("" when a broker port is open or the path could not be judged)."""
    if not definition.connections:
        return [Finding(check="MSK connectivity", ok=True,
                        detail="not checked: the job uses no Glue connection")], ""
    try:
        connection = ports.glue.get_connection(definition.connections[0])
        broker_groups = ports.kafka.broker_security_groups(catalog.msk.cluster_name)
        if not broker_groups or not connection.security_groups:
            what = f"cluster {catalog.msk.cluster_name}" if not broker_groups else f"connection {connection.name}"
            return [Finding(check="MSK connectivity", ok=False,
                            detail=f"not judged: no security groups found for {what}")], ""
        groups = ports.network.security_groups(sorted(set(connection.security_groups) | set(broker_groups)))
        ingress, egress = _open_ports(connection, broker_groups, groups, ports)
    except Exception as error:
        return [Finding(check="MSK connectivity", ok=False, detail=f"not judged: {error_line(error)}")], ""
    wanted = sorted(connection.broker_ports) or list(KAFKA_PORTS)
    reachable = [p for p in wanted if p in ingress & egress]
    path = f"from connection {connection.name} ({', '.join(connection.security_groups)}) to the brokers"
    if reachable:
        return [Finding(check="MSK connectivity", ok=True,
                        detail=f"broker port {reachable[0]} is open {path} ({', '.join(broker_groups)})")], ""
    why = ("the connection's security groups do not let it out" if set(wanted) & ingress
           else "no ingress rule admits the connection")
    blocked = f"broker port {'/'.join(str(p) for p in wanted)} is not open {path}' {', '.join(broker_groups)} ({why})"
    return [Finding(check="MSK connectivity", ok=False, detail=blocked)], blocked


def _open_ports(connection: GlueConnection, broker_groups: tuple[str, ...], groups: dict[str, Any],
                ports: PlaybookPorts) -> tuple[set[int], set[int]]:
    """Broker ports the brokers' groups admit from the connection (its groups, or a CIDR holding its subnet),
    and those the connection's groups let out (to the brokers' groups or to a CIDR)."""
    job_groups = set(connection.security_groups)
    subnet_cidr: str | None = None
    ingress: set[int] = set()
    for group_id in broker_groups:
        for rule in groups[group_id].ingress if group_id in groups else ():
            for port in KAFKA_PORTS:
                if not rule.covers(port):
                    continue
                if job_groups & set(rule.groups):
                    ingress.add(port)
                elif rule.cidrs and connection.subnet_id:
                    if subnet_cidr is None:
                        subnet_cidr = ports.network.subnet_cidr(connection.subnet_id) or ""
                    if subnet_cidr and any(_within(subnet_cidr, c) for c in rule.cidrs):
                        ingress.add(port)
    egress = {port for group_id in job_groups if group_id in groups for rule in groups[group_id].egress
              for port in KAFKA_PORTS if rule.covers(port) and (set(rule.groups) & set(broker_groups) or rule.cidrs)}
    return ingress, egress


def _within(subnet: str, cidr: str) -> bool:
    try:
        inner, outer = ipaddress.ip_network(subnet, strict=False), ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False


def _s3_display(resource: str) -> str:
    return resource.removeprefix("arn:aws:s3:::")


def _script(definition: JobDefinition) -> str:
    location = (definition.raw.get("Command") or {}).get("ScriptLocation")
    return f"script {location}" if location else "its script"


def _command(job: str, arguments: dict[str, str]) -> str:
    shown = {k: v for k, v in arguments.items() if re.fullmatch(r"--[A-Za-z][A-Za-z0-9_.-]{0,63}", k)
             and re.fullmatch(r"[A-Za-z0-9_./:=@+,-]{0,512}", v)}
    return f"aws glue start-job-run --job-name {job}{arguments_option(shown)}"


def verify_new_run(job_name: str, results: list[ActionResult], ports: PlaybookPorts, catalog: Catalog) -> Verification:
    """Against the service level, not StartJobRun's answer: a batch run must have SUCCEEDED (RUNNING proves
    nothing yet: INCONCLUSIVE, looked at again within the verification window); a streaming run never ends,
    so it must be RUNNING with the job's glue-failures alarm back to OK. Failed again: FAILED."""
    run_id = str(results[-1].changed.get("run_id", ""))
    run = ports.glue.get_run(job_name, run_id)
    if run.state in FAILED_STATES | {"STOPPED", "STOPPING"}:
        return Verification(status=VerificationStatus.FAILED,
                            detail=f"run {run.id} of {job_name} is {run.state} again: {run.error or 'no message'}")
    if run.state == "SUCCEEDED":
        return Verification(status=VerificationStatus.VERIFIED, detail=f"run {run.id} of {job_name} SUCCEEDED")
    streaming = any(j.name == job_name and j.streaming for j in catalog.glue_jobs)
    if run.state == "RUNNING" and streaming:
        alarm = alarm_name(catalog.prefix, "glue-failures", f"glue:{job_name}")
        state = ports.alarms.state_of(alarm)
        if state == "OK":
            return Verification(status=VerificationStatus.VERIFIED,
                                detail=f"streaming run {run.id} of {job_name} is RUNNING and {alarm} is OK")
        return Verification(status=VerificationStatus.INCONCLUSIVE,
                            detail=f"streaming run {run.id} of {job_name} is RUNNING; {alarm} is {state}: "
                                   f"verified once it is OK")
    return Verification(status=VerificationStatus.INCONCLUSIVE,
                        detail=f"run {run.id} of {job_name} is {run.state}: verified when it has SUCCEEDED")


# --- The declaration: what CDK, the catalog and the docs derive from (functions/playbooks/__init__.py) ------

def glue_failure_alarms(catalog: Catalog) -> list[AlarmSpec]:
    """Runbook 'Alarms: Glue job failures': any failed run (FAILED, TIMEOUT, ERROR, unexpected STOPPED)."""
    specs = []
    for job in catalog.glue_jobs:
        component = f"glue:{job.name}"
        specs.append(AlarmSpec(
            name=alarm_name(catalog.prefix, "glue-failures", component),
            signal="glue-failures",
            component=component,
            description=(f"Failed runs of Glue {job.kind} job {job.name} (FAILED, TIMEOUT, ERROR"
                         f"{', STOPPED with no new run' if job.streaming else ''}), counted by the Glue "
                         f"outcomes probe. Runbook: Monitoring / Alarms: Glue job failures; remediated by "
                         f"playbook glue_job_failure (Common Issues / Glue Job Failures)"),
            # One datapoint per run end: the count of failures in each 5 minutes. Five minutes holds a
            # failure long enough for the playbook and on call to see the alarm (~5 min to detect).
            metric=metric(NAMESPACE, RUN_FAILED, {"JobName": job.name}, "Sum", 300),
            # Any failed run is the runbook's "Glue job failures": no tolerance.
            threshold=0,
            comparison="GreaterThanThreshold",
            # A single failed run is already the event: no smoothing over several periods.
            evaluation_periods=1,
            datapoints_to_alarm=1,
            # The probe publishes only when a run ends: no datapoint = no run ended = nothing failed.
            treat_missing_data="notBreaching",
            title=f"Failed runs: {job.name}",
        ))
    return specs


DECLARATION = PlaybookDeclaration(
    name="glue_job_failure",
    runbook_section="Common Issues and Resolutions / Glue Job Failures",
    signals=("glue-failures",),
    alarms=glue_failure_alarms,
    glue_job_states=("FAILED", "TIMEOUT", "ERROR"),
    # GetJobRuns: the failed run (error message, arguments, workers) and whether a newer run exists;
    # GetJob: role, connections, bookmark and Glue's own retries; GetJobRun: verification of the retry.
    # FilterLogEvents: the run's error log; SimulatePrincipalPolicy: AccessDenied only; GetConnection,
    # DescribeSecurityGroups/Subnets, ListClustersV2: broker connectivity only (scopes: infra/permissions.py).
    reads=("glue:GetJobRuns", "glue:GetJob", "glue:GetJobRun", "logs:FilterLogEvents",
           "iam:SimulatePrincipalPolicy", "glue:GetConnection", "ec2:DescribeSecurityGroups",
           "ec2:DescribeSubnets", "kafka:ListClustersV2"),
    actions=("glue.restart_job",),
    scenario="glue-transient-failure",
)

"""The doctor's checks: one function per check, over ports, each returning its findings with the exact fix.

CHECKS is the one list: each check's id, title and where it runs (functions.doctor: api | templates | vpc).
A check that raises is a FAIL that names the error (access denied is a finding too: the scheduled run's role
or the person's credentials lack a read the check needs). Nothing here writes to the account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.core.catalog import Catalog
from functions.core.errors import error_line
from functions.core.naming import SIGNALS, parse_alarm_name
from functions.doctor import Finding, Where
from functions.doctor.ports import (
    AccountPort,
    GluePort,
    LambdaPort,
    MetricsPort,
    MskPort,
    NetworkPort,
    ReachPort,
    RedshiftPort,
    StoragePort,
)
from functions.playbooks._rerun import BOOKMARK_ENABLED, BOOKMARK_OPTION

COMMANDS = {"streaming": "gluestreaming", "batch": "glueetl"}  # Glue's Command.Name per catalog kind
WRITE_MODE_ARGUMENT = "--write-mode"  # the batch job's own statement of how it writes (the re-run rule's premise)
MIN_UNRESERVED = 100  # Lambda keeps at least 100 unreserved concurrent executions per account and region


@dataclass(frozen=True)
class RequiredEndpoint:
    """One entry of infra.network.required_endpoints (kept as data: the Lambda asset carries no CDK)."""

    service: str
    name: str
    kind: str  # Interface | Gateway
    functions: tuple[str, ...] = ()


@dataclass
class Context:
    catalog: Catalog
    msk: MskPort | None = None
    metrics: MetricsPort | None = None
    glue: GluePort | None = None
    storage: StoragePort | None = None
    redshift: RedshiftPort | None = None
    account: AccountPort | None = None
    network: NetworkPort | None = None
    lambdas: LambdaPort | None = None
    reach: ReachPort | None = None
    grants_sql: str | None = None  # sql/redshift-grants.sql rendered for the catalog
    # From the synthesized stacks (the CLI): the endpoints the in-VPC functions need, the reserved concurrency
    # each function asks, the Powertools layer version ARN they use.
    required_endpoints: list[RequiredEndpoint] | None = None
    reserved_asked: dict[str, int] | None = None
    powertools_layer: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    def msk_cluster(self) -> Any:
        if "msk" not in self.cache:
            assert self.msk
            self.cache["msk"] = self.msk.cluster(self.catalog.msk.cluster_name)
        return self.cache["msk"]

    def deployed(self) -> bool:
        """The remediation stack is deployed when its on-call topic exists: the resources the stacks create
        are then expected, and their absence is a FAIL, not 'not deployed yet'."""
        if "deployed" not in self.cache:
            assert self.account
            self.cache["deployed"] = self.account.topic_exists(topic_arn(self.catalog))
        return bool(self.cache["deployed"])


def topic_arn(catalog: Catalog) -> str:
    partition = "aws-cn" if catalog.region.startswith("cn-") else "aws-us-gov" if catalog.region.startswith(
        "us-gov-") else "aws"
    return f"arn:{partition}:sns:{catalog.region}:{catalog.account_id}:{catalog.notifications.on_call_topic}"


# --- MSK --------------------------------------------------------------------------------------------------

def msk_cluster(ctx: Context) -> list[Finding]:
    msk = ctx.catalog.msk
    subject = f"MSK cluster {msk.cluster_name}"
    cluster = ctx.msk_cluster()
    if cluster is None:
        return [Finding("msk-cluster", "FAIL", subject, "no cluster of that name in the account and region",
                        f"set msk.cluster_name in config/{ctx.catalog.env}.yaml to the cluster's name "
                        f"(aws kafka list-clusters-v2 --query 'ClusterInfoList[].ClusterName')")]
    findings = []
    if cluster.state != "ACTIVE":
        findings.append(Finding("msk-cluster", "WARN", subject, f"state {cluster.state} (the lag playbook holds "
                                "its actions while the cluster is not ACTIVE)",
                                f"wait for ACTIVE: aws kafka describe-cluster-v2 --cluster-arn {cluster.arn}"))
    if cluster.broker_count != msk.broker_count:
        findings.append(Finding(
            "msk-cluster", "FAIL", subject,
            f"{cluster.broker_count} brokers, the catalog says msk.broker_count {msk.broker_count} (the broker "
            "health alarms watch the catalog's brokers)",
            f"set msk.broker_count: {cluster.broker_count} in config/{ctx.catalog.env}.yaml and redeploy "
            f"(cdk deploy -c env={ctx.catalog.env} --all)"))
    if not findings:
        findings.append(Finding("msk-cluster", "PASS", subject, f"ACTIVE, {cluster.broker_count} brokers"))
    return findings


def msk_topics(ctx: Context) -> list[Finding]:
    cluster = ctx.msk_cluster()
    if cluster is None:
        return [Finding("msk-topics", "FAIL", "MSK topics", "no cluster to list topics of (see msk-cluster)",
                        "fix msk-cluster first")]
    assert ctx.msk
    found = ctx.msk.topics(cluster.arn)
    findings = []
    for i, topic in enumerate(ctx.catalog.msk.topics):
        subject = f"topic {topic.name}"
        if topic.name not in found:
            findings.append(Finding("msk-topics", "FAIL", subject, "not on the cluster",
                                    f"check msk.topics[{i}].name in config/{ctx.catalog.env}.yaml (topics on the "
                                    f"cluster: {', '.join(sorted(found)) or 'none'})"))
        elif found[topic.name] != topic.partitions:
            findings.append(Finding(
                "msk-topics", "FAIL", subject,
                f"{found[topic.name]} partitions, the catalog says {topic.partitions} (the lag playbook sizes "
                "workers by partitions)",
                f"set msk.topics[{i}].partitions: {found[topic.name]} in config/{ctx.catalog.env}.yaml"))
        else:
            findings.append(Finding("msk-topics", "PASS", subject, f"{topic.partitions} partitions"))
    return findings


def _lag_source(ctx: Context, group: str) -> str:
    """Where the streaming job reading `group` takes its lag from (catalog glue_jobs[].lag_source when the
    catalog has that field; MSK's consumer-group metrics otherwise)."""
    for job in ctx.catalog.glue_jobs:
        if job.consumer_group == group:
            return str(getattr(job, "lag_source", None) or "msk")
    return "msk"


def consumer_lag_metrics(ctx: Context) -> list[Finding]:
    assert ctx.metrics
    cluster = ctx.catalog.msk.cluster_name
    published = ctx.metrics.lag_metric_groups(cluster)
    findings = []
    for group in ctx.catalog.msk.consumer_groups:
        subject = f"consumer group {group.name} on {group.topic}"
        source = _lag_source(ctx, group.name)
        if (group.name, group.topic) in published:
            findings.append(Finding("consumer-lag-metrics", "PASS", subject, "AWS/Kafka SumOffsetLag has data"))
        elif source != "msk":
            findings.append(Finding("consumer-lag-metrics", "PASS", subject,
                                    f"no AWS/Kafka SumOffsetLag, and none needed: its job's lag comes from {source}"))
        else:
            findings.append(Finding(
                "consumer-lag-metrics", "FAIL", subject,
                "no AWS/Kafka SumOffsetLag in the last two weeks (MSK publishes it only for groups that commit "
                "offsets): the consumer-lag alarm of its job never fires",
                f"make the job commit offsets to {group.name}, or point its lag alarm elsewhere "
                f"(glue_jobs[].lag_source in config/{ctx.catalog.env}.yaml); check: aws cloudwatch list-metrics "
                f"--namespace AWS/Kafka --metric-name SumOffsetLag --dimensions Name='Cluster Name',Value={cluster} "
                f"Name='Consumer Group',Value={group.name}"))
    return findings


# --- Glue -------------------------------------------------------------------------------------------------

def _role_name(role: str) -> str:
    return role.rsplit("/", 1)[-1] if role.startswith("arn:") else role


def glue_jobs(ctx: Context) -> list[Finding]:
    assert ctx.glue
    env = ctx.catalog.env
    findings = []
    for i, job in enumerate(ctx.catalog.glue_jobs):
        subject = f"Glue job {job.name}"
        facts = ctx.glue.job(job.name)
        if facts is None:
            findings.append(Finding("glue-jobs", "FAIL", subject, "no such job in the account",
                                    f"set glue_jobs[{i}].name in config/{env}.yaml to the job's name "
                                    "(aws glue list-jobs)"))
            continue
        problems: list[tuple[str, str, str]] = []  # (status, detail, fix)
        if facts.command != COMMANDS[job.kind]:
            problems.append(("FAIL", f"command {facts.command}, the catalog says kind {job.kind} "
                             f"({COMMANDS[job.kind]})", f"set glue_jobs[{i}].kind in config/{env}.yaml to what the "
                             "job is (gluestreaming: streaming, glueetl: batch)"))
        if facts.worker_type != job.worker_type:
            problems.append(("FAIL", f"worker type {facts.worker_type}, the catalog says {job.worker_type}",
                             f"set glue_jobs[{i}].worker_type: {facts.worker_type} in config/{env}.yaml"))
        if _role_name(facts.role) != job.role_name:
            problems.append(("FAIL", f"runs as role {_role_name(facts.role)}, the catalog says {job.role_name} "
                             "(the procedures pass the catalog's role to UpdateJob)",
                             f"set glue_jobs[{i}].role_name: {_role_name(facts.role)} in config/{env}.yaml"))
        if job.streaming and facts.max_concurrent_runs != 1:
            problems.append(("FAIL", f"MaxConcurrentRuns {facts.max_concurrent_runs}: a restart could leave two runs "
                             "reading the topic into landing/", f"aws glue update-job (copy every field of get-job) "
                             f"with ExecutionProperty.MaxConcurrentRuns=1 for {job.name}"))
        if not job.streaming:
            problems += _rerun_premises(job, facts, i, env)
        for status, detail, fix in problems:
            findings.append(Finding("glue-jobs", status, subject, detail, fix))  # type: ignore[arg-type]
        if not problems:
            findings.append(Finding("glue-jobs", "PASS", subject,
                                    f"{facts.command}, {facts.worker_type}, role {job.role_name}, "
                                    f"MaxConcurrentRuns {facts.max_concurrent_runs}"))
    return findings


def _rerun_premises(job: Any, facts: Any, i: int, env: str) -> list[tuple[str, str, str]]:
    """The safe re-run rule (functions.playbooks._rerun) trusts the catalog's write_mode and reads the job's
    bookmark option: the job's own arguments must agree with them."""
    found: list[tuple[str, str, str]] = []
    declared = facts.default_arguments.get(WRITE_MODE_ARGUMENT)
    if declared is None:
        found.append(("WARN", f"its arguments do not say how it writes ({WRITE_MODE_ARGUMENT}); the re-run rule "
                      f"assumes the catalog's write_mode {job.write_mode}",
                      f"add DefaultArguments {WRITE_MODE_ARGUMENT}={job.write_mode} to the job (its script reads "
                      "it), so the assumption is checked"))
    elif declared != job.write_mode:
        found.append(("FAIL", f"{WRITE_MODE_ARGUMENT} {declared}, the catalog says write_mode {job.write_mode}: the "
                      "re-run rule would judge re-runs on a false premise",
                      f"set glue_jobs[{i}].write_mode: {declared} in config/{env}.yaml"))
    bookmark = facts.default_arguments.get(BOOKMARK_OPTION) == BOOKMARK_ENABLED
    if (declared or job.write_mode) == "append" and not bookmark:
        found.append(("WARN", "appends without a job bookmark: every re-run is refused as unsafe",
                      f"aws glue update-job with DefaultArguments {BOOKMARK_OPTION}={BOOKMARK_ENABLED} (copy every "
                      "field of get-job), or write with overwrite_partition"))
    return found


# --- S3 ---------------------------------------------------------------------------------------------------

def s3_bucket(ctx: Context) -> list[Finding]:
    assert ctx.storage
    s3 = ctx.catalog.s3
    if not ctx.storage.bucket_exists(s3.name):
        return [Finding("s3-bucket", "FAIL", f"S3 bucket {s3.name}", "no such bucket (or not readable)",
                        f"set s3.name in config/{ctx.catalog.env}.yaml to the lake's bucket (aws s3 ls)")]
    findings = [Finding("s3-bucket", "PASS", f"S3 bucket {s3.name}", "exists")]
    prefixes = sorted(set(s3.zones.values()) | set(s3.landing_prefixes))
    for prefix in prefixes:
        subject = f"s3://{s3.name}/{prefix}"
        if ctx.storage.has_objects(s3.name, prefix):
            findings.append(Finding("s3-bucket", "PASS", subject, "has objects"))
        else:
            findings.append(Finding("s3-bucket", "WARN", subject, "empty: a landing prefix without data trips its "
                                    "freshness alarm", f"check the prefix in config/{ctx.catalog.env}.yaml "
                                    f"(aws s3 ls s3://{s3.name}/ --recursive | head)"))
    return findings


# --- Redshift ---------------------------------------------------------------------------------------------

def redshift_cluster(ctx: Context) -> list[Finding]:
    assert ctx.redshift
    rs = ctx.catalog.redshift
    env = ctx.catalog.env
    subject = f"Redshift cluster {rs.cluster_id}"
    cluster = ctx.redshift.cluster(rs.cluster_id)
    if cluster is None:
        return [Finding("redshift-cluster", "FAIL", subject, "no such cluster",
                        f"set redshift.cluster_id in config/{env}.yaml (aws redshift describe-clusters)")]
    findings = []
    if cluster.status != "available":
        findings.append(Finding("redshift-cluster", "WARN", subject, f"status {cluster.status}",
                                f"aws redshift describe-clusters --cluster-identifier {rs.cluster_id}"))
    if cluster.database != rs.database:
        findings.append(Finding("redshift-cluster", "FAIL", subject, f"database {cluster.database}, the catalog "
                                f"says {rs.database}", f"set redshift.database: {cluster.database} in "
                                f"config/{env}.yaml"))
    if (cluster.node_type, cluster.number_of_nodes) != (rs.node_type, rs.number_of_nodes):
        findings.append(Finding("redshift-cluster", "FAIL", subject,
                                f"{cluster.number_of_nodes} x {cluster.node_type}, the catalog says "
                                f"{rs.number_of_nodes} x {rs.node_type} (the resize caps start from it)",
                                f"set redshift.node_type: {cluster.node_type} and redshift.number_of_nodes: "
                                f"{cluster.number_of_nodes} in config/{env}.yaml"))
    if not findings:
        findings.append(Finding("redshift-cluster", "PASS", subject,
                                f"available, database {rs.database}, {rs.number_of_nodes} x {rs.node_type}"))
    return findings


@dataclass(frozen=True)
class Expectation:
    statement: str  # the grants file's statement, as the DBA runs it (the fix)
    what: str
    sql: str  # a boolean SQL expression, true when the grant is in place


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _bare(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name.lower()


def expectations(grants_sql: str, db_user: str) -> tuple[list[Expectation], list[str]]:
    """What each statement of the (rendered) grants file leaves in place, as a check; and the statements this
    cannot check (reported as WARN, so a new line in the file is never silently ignored)."""
    text = "\n".join(line.split("--", 1)[0] for line in grants_sql.splitlines())
    statements = [" ".join(part.split()) for part in text.split(";") if part.strip()]
    user = _lit(db_user)
    found: list[Expectation] = []
    unknown: list[str] = []
    for statement in statements:
        fix = statement + ";"
        if re.fullmatch(r"CREATE USER \S+ PASSWORD DISABLE", statement, re.I):
            continue  # every other check fails with "user does not exist" when it is missing
        if m := re.fullmatch(r"GRANT USAGE ON SCHEMA (.+) TO \S+", statement, re.I):
            for schema in (s.strip() for s in m.group(1).split(",")):
                found.append(Expectation(fix, f"USAGE on schema {_bare(schema)}",
                                         f"has_schema_privilege({user}, {_lit(_bare(schema))}, 'USAGE')"))
        elif re.fullmatch(r"ALTER USER \S+ SYSLOG ACCESS UNRESTRICTED", statement, re.I):
            found.append(Expectation(fix, "SYSLOG ACCESS UNRESTRICTED",
                                     f"(SELECT max(syslog_access) FROM svv_user_info WHERE user_name = {user}) "
                                     "= 'UNRESTRICTED'"))
        elif m := re.fullmatch(r"GRANT ROLE (\S+) TO \S+", statement, re.I):
            found.append(Expectation(fix, f"role {m.group(1)}",
                                     f"user_is_member_of({user}, {_lit(_bare(m.group(1)))})"))
        elif m := re.fullmatch(r"GRANT SELECT ON (\w+) TO \S+", statement, re.I):
            found.append(Expectation(fix, f"SELECT on {m.group(1).lower()}",
                                     f"has_table_privilege({user}, {_lit(m.group(1).lower())}, 'SELECT')"))
        else:
            unknown.append(fix)
    return found, unknown


def redshift_grants(ctx: Context) -> list[Finding]:
    assert ctx.redshift and ctx.grants_sql is not None
    rs = ctx.catalog.redshift
    subject = f"database user {rs.db_user} in {rs.cluster_id}/{rs.database}"
    wanted, unknown = expectations(ctx.grants_sql, rs.db_user)
    grants = "remedy redshift grants --env " + ctx.catalog.env
    try:
        rows = ctx.redshift.query("SELECT " + ", ".join(e.sql for e in wanted))
    except RuntimeError as error:
        message = str(error)
        if "does not exist" in message and rs.db_user in message:
            return [Finding("redshift-grants", "FAIL", subject, "the user does not exist",
                            f"as a superuser, run the grants file: {grants} > grants.sql; psql … -f grants.sql")]
        raise
    values = rows[0] if rows else []
    findings = []
    for expectation, value in zip(wanted, values, strict=False):
        if value is True:
            findings.append(Finding("redshift-grants", "PASS", subject, expectation.what))
        else:
            findings.append(Finding("redshift-grants", "FAIL", subject, f"missing: {expectation.what}",
                                    f"as a superuser: {expectation.statement} (all of them: {grants})"))
    for statement in unknown:
        findings.append(Finding("redshift-grants", "WARN", subject, f"cannot check: {statement}",
                                "teach functions/doctor/checks.py:expectations this statement"))
    return findings


# --- secrets, on call, kill switch, routes ----------------------------------------------------------------

def secrets(ctx: Context) -> list[Finding]:
    assert ctx.account
    name = ctx.catalog.redshift.admin_secret
    if not name:
        return [Finding("secrets", "PASS", "Redshift admin secret", "none in the catalog (security procedure "
                        "rotates nothing)")]
    if ctx.account.secret_exists(name):
        return [Finding("secrets", "PASS", f"secret {name}", "exists")]
    return [Finding("secrets", "FAIL", f"secret {name}", "no such secret: the security-incident procedure "
                    "cannot rotate it", f"set redshift.admin_secret in config/{ctx.catalog.env}.yaml "
                    "(aws secretsmanager list-secrets --query 'SecretList[].Name')")]


def _not_deployed(check: str, subject: str, env: str) -> Finding:
    return Finding(check, "WARN", subject, "not deployed yet (the remediation stack creates it)",
                   f"cdk deploy -c env={env} --all, then remedy doctor --env {env}")


def on_call(ctx: Context) -> list[Finding]:
    assert ctx.account
    arn = topic_arn(ctx.catalog)
    subject = f"SNS topic {ctx.catalog.notifications.on_call_topic}"
    if not ctx.deployed():
        return [_not_deployed("on-call", subject, ctx.catalog.env)]
    subs = {s.endpoint: s for s in ctx.account.subscriptions(arn) if s.protocol == "email"}
    findings = [Finding("on-call", "PASS", subject, "exists")]
    for email in ctx.catalog.notifications.emails:
        sub = subs.get(email)
        if sub is None:
            findings.append(Finding("on-call", "FAIL", f"{subject} -> {email}", "not subscribed: nobody is paged",
                                    f"aws sns subscribe --topic-arn {arn} --protocol email "
                                    f"--notification-endpoint {email}"))
        elif not sub.confirmed:
            findings.append(Finding("on-call", "WARN", f"{subject} -> {email}", "subscription pending "
                                    "confirmation", f"{email} confirms the link in AWS's e-mail"))
        else:
            findings.append(Finding("on-call", "PASS", f"{subject} -> {email}", "subscribed and confirmed"))
    if not ctx.catalog.notifications.emails and not ctx.account.subscriptions(arn):
        findings.append(Finding("on-call", "WARN", subject, "no subscription at all: pages reach nobody",
                                f"add notifications.emails in config/{ctx.catalog.env}.yaml, or subscribe your "
                                "paging tool to the topic"))
    return findings


def kill_switch(ctx: Context) -> list[Finding]:
    assert ctx.account
    name = ctx.catalog.guardrails.kill_switch_parameter
    subject = f"SSM parameter {name}"
    if ctx.account.parameter_exists(name):
        return [Finding("kill-switch", "PASS", subject, "exists")]
    if not ctx.deployed():
        return [_not_deployed("kill-switch", subject, ctx.catalog.env)]
    return [Finding("kill-switch", "FAIL", subject, "missing: the guard reads an unreadable kill switch as ON, "
                    "every playbook refuses to act", f"aws ssm put-parameter --name {name} --type String "
                    f"--value off (or cdk deploy -c env={ctx.catalog.env} --all, which creates it)")]


def alarm_routes(ctx: Context) -> list[Finding]:
    """Each deployed alarm whose signal a playbook answers is matched by an enabled EventBridge rule."""
    assert ctx.account
    cat = ctx.catalog
    subject = "EventBridge rules for the alarms"
    if not ctx.deployed():
        return [_not_deployed("alarm-routes", subject, cat.env)]
    rules = ctx.account.rules(f"{cat.prefix}-")
    findings = []
    for name in ctx.account.alarm_names(f"{cat.prefix}/"):
        parsed = parse_alarm_name(name, cat.prefix)
        if parsed is None or not SIGNALS.get(parsed.signal):
            continue
        event = {"version": "0", "id": "doctor", "detail-type": "CloudWatch Alarm State Change",
                 "source": "aws.cloudwatch", "account": cat.account_id, "time": "2026-01-01T00:00:00Z",
                 "region": cat.region, "resources": [f"arn:aws:cloudwatch:{cat.region}:{cat.account_id}:alarm:{name}"],
                 "detail": {"alarmName": name, "state": {"value": "ALARM"}, "previousState": {"value": "OK"}}}
        matched = [rule for rule, pattern in rules.items() if ctx.account.pattern_matches(pattern, event)]
        if matched:
            findings.append(Finding("alarm-routes", "PASS", f"alarm {name}", f"delivered by {', '.join(matched)}"))
        else:
            findings.append(Finding("alarm-routes", "FAIL", f"alarm {name}", f"no enabled rule matches it: playbook "
                                    f"{SIGNALS[parsed.signal]} never hears of it",
                                    f"cdk deploy -c env={cat.env} {cat.prefix}-remediation (restores the rules; "
                                    f"aws events list-rules --name-prefix {cat.prefix}- shows what is there)"))
    if not findings:
        findings.append(Finding("alarm-routes", "FAIL", subject, "no alarm of a playbook signal is deployed",
                                f"cdk deploy -c env={cat.env} --all"))
    return findings


# --- network and deployment prerequisites (against the synthesized stacks) ----------------------------------

def network(ctx: Context) -> list[Finding]:
    assert ctx.network and ctx.required_endpoints is not None
    cat = ctx.catalog
    if cat.network is None:
        return [Finding("network", "PASS", "VPC", "no network section: no function runs in a VPC")]
    net = cat.network
    if net.egress == "nat":
        return _nat_routes(ctx)
    endpoints = {e.service_name: e for e in ctx.network.endpoints(net.vpc_id)}
    tables = {subnet: ctx.network.routes(subnet)[0] for subnet in net.private_subnet_ids}
    findings = []
    for need in ctx.required_endpoints:
        subject = f"{need.name} ({need.kind}) for {', '.join(sorted(set(need.functions)))}"
        have = endpoints.get(need.name)
        route_tables = " ".join(sorted({t for t in tables.values() if t}))
        create = (f"aws ec2 create-vpc-endpoint --vpc-id {net.vpc_id} --service-name {need.name} "
                  + (f"--vpc-endpoint-type Gateway --route-table-ids {route_tables}"
                     if need.kind == "Gateway" else
                     f"--vpc-endpoint-type Interface --subnet-ids {' '.join(net.private_subnet_ids)} "
                     f"--security-group-ids <a group allowing 443 from {' '.join(net.function_security_group_ids)}> "
                     "--private-dns-enabled"))
        if have is None or have.state.lower() != "available":
            detail = "no endpoint in the VPC" if have is None else f"endpoint {have.state}"
            findings.append(Finding("network", "FAIL", subject, f"{detail}: the functions' calls time out",
                                    create + "  (or network.egress: nat with a NAT gateway route)"))
        elif need.kind == "Gateway":
            missing = [s for s, table in tables.items() if table not in have.route_table_ids]
            findings.append(Finding("network", "FAIL", subject, f"not routed from {', '.join(missing)}",
                                    f"aws ec2 modify-vpc-endpoint --add-route-table-ids "
                                    f"{' '.join(sorted({str(tables[s]) for s in missing}))} ...") if missing else
                            Finding("network", "PASS", subject, "available, routed from every private subnet"))
        elif not have.private_dns:
            findings.append(Finding("network", "FAIL", subject, "private DNS disabled: the SDK's default endpoint "
                                    "name does not resolve to it", "aws ec2 modify-vpc-endpoint "
                                    "--vpc-endpoint-id <id> --private-dns-enabled"))
        else:
            findings.append(Finding("network", "PASS", subject, "available, private DNS"))
    if not ctx.required_endpoints:
        findings.append(Finding("network", "PASS", "VPC endpoints", "no in-VPC function calls an AWS API"))
    return findings


def _nat_routes(ctx: Context) -> list[Finding]:
    assert ctx.network and ctx.catalog.network
    findings = []
    for subnet in ctx.catalog.network.private_subnet_ids:
        table, routes = ctx.network.routes(subnet)
        default = next((r for r in routes if r.destination == "0.0.0.0/0"), None)
        subject = f"subnet {subnet} (route table {table})"
        if default is None or not default.target.startswith("nat-") or default.state != "active":
            findings.append(Finding("network", "FAIL", subject, "no active 0.0.0.0/0 route to a NAT gateway: the "
                                    "functions cannot reach AWS's APIs", f"aws ec2 create-route --route-table-id "
                                    f"{table} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id <nat-…>"))
            continue
        state = ctx.network.nat_gateway_state(default.target)
        findings.append(Finding("network", "PASS" if state == "available" else "FAIL", subject,
                                f"0.0.0.0/0 via {default.target} ({state})",
                                "" if state == "available" else f"aws ec2 describe-nat-gateways "
                                f"--nat-gateway-ids {default.target}"))
    return findings


def powertools_layer(ctx: Context) -> list[Finding]:
    assert ctx.lambdas and ctx.powertools_layer
    arn = ctx.powertools_layer
    found = ctx.lambdas.layer_version(arn)
    if found is None:
        return [Finding("powertools-layer", "FAIL", f"layer {arn}", "no such layer version in this region: every "
                        "function fails to deploy", "set powertools_layer_version in cdk.json to a published "
                        "version: aws ssm get-parameter --name "
                        "/aws/service/powertools/python/x86_64/python3.14/latest")]
    return [Finding("powertools-layer", "PASS", f"layer {arn}", "exists")]


def lambda_concurrency(ctx: Context) -> list[Finding]:
    assert ctx.lambdas and ctx.reserved_asked is not None
    limit, unreserved = ctx.lambdas.unreserved_concurrency()
    asked = sum(ctx.reserved_asked.values())
    held = sum(ctx.lambdas.reserved_concurrency(name) for name in ctx.reserved_asked)
    left = unreserved + held - asked
    subject = f"Lambda concurrency in {ctx.catalog.region}"
    detail = (f"account limit {limit}, unreserved {unreserved}; the stacks reserve {asked} for "
              f"{len(ctx.reserved_asked)} functions ({held} held already): {left} would stay unreserved")
    if left >= MIN_UNRESERVED:
        return [Finding("lambda-concurrency", "PASS", subject, detail)]
    return [Finding("lambda-concurrency", "FAIL", subject, f"{detail}, Lambda keeps at least {MIN_UNRESERVED}: the "
                    "deploy fails", f"ask for a higher 'Concurrent executions' quota (Service Quotas, L-B99A9384) "
                    f"of at least {asked + MIN_UNRESERVED}")]


# --- inside the VPC (daily run) ----------------------------------------------------------------------------

def private_endpoints(ctx: Context) -> list[Finding]:
    """The brokers and the cluster answer on their ports from the functions' subnets (security groups, routes)."""
    assert ctx.reach and ctx.redshift
    findings = []
    targets: list[tuple[str, str, int]] = []
    cluster = ctx.redshift.cluster(ctx.catalog.redshift.cluster_id)
    if cluster is not None and cluster.endpoint:
        targets.append((f"Redshift {ctx.catalog.redshift.cluster_id}", *cluster.endpoint))
    msk = ctx.msk_cluster() if ctx.msk else None
    if msk is not None and ctx.msk:
        targets += [(f"MSK broker {host}", host, port) for host, port in ctx.msk.bootstrap_brokers(msk.arn)]
    groups = ", ".join(ctx.catalog.network.function_security_group_ids) if ctx.catalog.network else "?"
    for subject, host, port in targets:
        error = ctx.reach.tcp(host, port, timeout=3.0)
        findings.append(Finding("private-endpoints", "PASS", f"{subject} {host}:{port}", "connects") if error is None
                        else Finding("private-endpoints", "FAIL", f"{subject} {host}:{port}", error,
                                     f"allow TCP {port} from {groups} in its security group (aws ec2 "
                                     "authorize-security-group-ingress --source-group …)"))
    return findings or [Finding("private-endpoints", "FAIL", "private endpoints", "nothing to connect to",
                                "fix redshift-cluster and msk-cluster first")]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    where: Where
    run: Callable[[Context], list[Finding]]


CHECKS: list[CheckSpec] = [
    CheckSpec("msk-cluster", "MSK cluster: exists, ACTIVE, broker count = msk.broker_count", "api", msk_cluster),
    CheckSpec("msk-topics", "MSK topics and their partitions (ListTopics)", "api", msk_topics),
    CheckSpec("consumer-lag-metrics", "each consumer group publishes AWS/Kafka SumOffsetLag (ListMetrics)", "api",
              consumer_lag_metrics),
    CheckSpec("glue-jobs", "Glue jobs: kind, worker type, role, concurrency, re-run premises", "api", glue_jobs),
    CheckSpec("s3-bucket", "S3 bucket, zones and landing prefixes", "api", s3_bucket),
    CheckSpec("redshift-cluster", "Redshift cluster, database, size", "api", redshift_cluster),
    CheckSpec("redshift-grants", "the DB user's grants from sql/redshift-grants.sql (Data API)", "api",
              redshift_grants),
    CheckSpec("secrets", "the Redshift admin secret", "api", secrets),
    CheckSpec("on-call", "SNS on-call topic and its e-mail subscriptions", "api", on_call),
    CheckSpec("kill-switch", "the kill-switch parameter", "api", kill_switch),
    CheckSpec("alarm-routes", "EventBridge rules deliver the playbooks' alarms", "api", alarm_routes),
    CheckSpec("network", "in-VPC functions reach each AWS API they call (endpoints or NAT)", "templates", network),
    CheckSpec("powertools-layer", "the Powertools layer version exists in the region", "templates",
              powertools_layer),
    CheckSpec("lambda-concurrency", "unreserved concurrency leaves room for what the stacks reserve", "templates",
              lambda_concurrency),
    CheckSpec("private-endpoints", "brokers and cluster answer from the private subnets", "vpc", private_endpoints),
]

CHECK_IDS = [c.id for c in CHECKS]


def run_checks(ctx: Context, where: set[str], progress: Callable[[CheckSpec], None] | None = None) -> list[Finding]:
    """Every check of CHECKS that runs `where`, in order; a check that raises FAILs with the error."""
    findings: list[Finding] = []
    for spec in CHECKS:
        if spec.where not in where:
            continue
        if progress:
            progress(spec)
        try:
            findings += spec.run(ctx)
        except Exception as error:  # an unreadable fact is a finding, never a crash
            findings.append(Finding(spec.id, "FAIL", spec.title, f"could not check: {error_line(error, None)}"[:300],
                                    "grant the caller the read this check needs (see README 'remedy doctor'), "
                                    "then run it again"))
    return findings


def as_json(findings: list[Finding]) -> str:
    return json.dumps([f.as_dict() for f in findings], indent=1)

"""Runbook "Emergency Procedures" and "Scaling": each procedure end to end in the sandbox, its synthesized
state machine executed for real (Lambda steps running the real handlers), the approval answered as on call
would, and what changed checked in the emulated account. One run is rejected, one waits in vain, and one
has a step fail: each ends in the one failure path with a notification that says what is left to do. One run
is started by an alarm: two pipelines down at once raise the outage signal, which starts service-outage.

The fault and history helpers (corrupt_customers, suspicious_user, …) are used by the integration tests too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.core.naming import OUTAGE_COMPONENT, OUTAGE_SIGNAL, alarm_name
from remedy.commands import incident
from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from sandbox import seed_procedures, stepfunctions
from sandbox.aws import inject_error
from sandbox.core import Delivery
from sandbox.gaps import cloudtrail, redshift
from sandbox.people import answering, shown

EMERGENCY = "Emergency Procedures"
SCALING = "Scaling"
# The catalog's poll interval: a Wait state waits on the sandbox's clock (sandbox.clock), so a 15-minute resize
# polled every minute takes fifteen polls and no real time; what AWS finishes later finishes later here too.
FAST: dict[str, Any] = {}
ON_CALL = "oncall@example.com"


# -- helpers shared with tests/integration/test_procedures.py ---------------------------------------------

def start(sandbox: Any, procedure: str, incident_id: str, **options: Any) -> dict[str, Any]:
    return incident.start(sandbox.client, sandbox.catalog, procedure, {"incident_id": incident_id, **FAST, **options})


def settle(sandbox: Any, procedure: str, incident_id: str, timeout: float = 30.0,
           until_end: bool = False) -> dict[str, Any]:
    """Until the run asks for approval (unless `until_end`) or ends."""
    return incident.wait(sandbox.client, sandbox.catalog, procedure, incident_id, timeout=timeout,
                         until_end=until_end)


def corrupt_customers(sandbox: Any, now: datetime) -> dict[str, Any]:
    """A bad load of analytics.dim_customer: 30 rows written 30 minutes ago, duplicating existing customers
    and missing their e-mail addresses."""
    rs = redshift.standin()
    at = (now - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    rs.execute("INSERT INTO analytics.dim_customer (customer_id, customer_name, email, segment, created_at) "
               f"SELECT customer_id, customer_name, NULL, segment, TIMESTAMP '{at}' FROM analytics.dim_customer "
               "ORDER BY customer_id LIMIT 30")
    redshift.mark_touched("analytics.dim_customer")
    return {"rows": 30, "at": at}


def customer_quality(sandbox: Any) -> dict[str, int]:
    rs = redshift.standin()
    total, nulls, dupes = rs.execute("SELECT COUNT(*), SUM(CASE WHEN email IS NULL THEN 1 ELSE 0 END), "
                                     "COUNT(customer_id) - COUNT(DISTINCT customer_id) FROM analytics.dim_customer")[0]
    return {"rows": int(total), "null_emails": int(nulls or 0), "duplicates": int(dupes or 0)}


def corrupt_landing(sandbox: Any, now: datetime, prefix: str) -> dict[str, str]:
    """Versioned landing objects: a good version from three hours ago, then a bad one (and a new bad object)
    written ten minutes ago. Returns the good version's ETag by key."""
    s3, bucket = sandbox.client("s3"), sandbox.catalog.s3.name
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})  # as in prod
    good = {}
    for key, body in ((f"{prefix}part-0001.json", b'{"order_id": 1, "amount": 12.5}\n'),):
        written = s3.put_object(Bucket=bucket, Key=key, Body=body)
        seed_procedures.backdate_object_version(sandbox.account, bucket, key, written["VersionId"],
                                                now - timedelta(hours=3))
        good[key] = written["ETag"].strip('"')
    for key in (f"{prefix}part-0001.json", f"{prefix}part-0002.json"):
        written = s3.put_object(Bucket=bucket, Key=key, Body=b'{"order_id": null, "amount": -1}\n')
        seed_procedures.backdate_object_version(sandbox.account, bucket, key, written["VersionId"],
                                                now - timedelta(minutes=10))
    return good


def suspicious_user(sandbox: Any, now: datetime) -> dict[str, str]:
    """An IAM user with an admin inline policy whose access key made suspicious calls in the last hour, and
    ingress from anywhere on the Redshift security group."""
    iam = sandbox.client("iam")
    iam.create_user(UserName="etl-contractor")
    key = iam.create_access_key(UserName="etl-contractor")["AccessKey"]["AccessKeyId"]
    iam.put_user_policy(UserName="etl-contractor", PolicyName="quick-fix", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    arn = f"arn:aws:iam::{sandbox.catalog.account_id}:user/etl-contractor"
    for minutes, name, source, read_only, error in (
            (50, "GetSecretValue", "secretsmanager.amazonaws.com", True, ""),
            (45, "CreateAccessKey", "iam.amazonaws.com", False, ""),
            (40, "AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", False, ""),
            (35, "DeleteTrail", "cloudtrail.amazonaws.com", False, "AccessDenied"),
            (30, "ListBuckets", "s3.amazonaws.com", True, "")):
        cloudtrail.seed_cloudtrail_event(name=name, source=source, at=now - timedelta(minutes=minutes),
                                              username="etl-contractor", access_key=key, identity_arn=arn,
                                              ip="198.51.100.23", read_only=read_only, error=error)
    group = sandbox.catalog.redshift.security_group_ids[0]
    sandbox.client("ec2").authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5439, "ToPort": 5439, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    return {"user": "etl-contractor", "key": key, "group": group}


def key_status(sandbox: Any, user: str) -> str:
    return str(sandbox.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"][0]["Status"])


def open_ingress(sandbox: Any, group: str) -> list[str]:
    permissions = sandbox.client("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    return [r["CidrIp"] for p in permissions for r in p.get("IpRanges", []) if r["CidrIp"] == "0.0.0.0/0"]


STREAMS = ("orders-stream", "customers-stream")  # one streaming job per pipeline of the dev catalog
LAG = [800, 6_000, 14_000, 21_000, 30_000]  # nothing consumes: lag climbs past 10,000


def outage_alarm(catalog: Any) -> str:
    return alarm_name(catalog.prefix, OUTAGE_SIGNAL, OUTAGE_COMPONENT)


def pipelines_down(d: Drill, jobs: tuple[str, ...] = STREAMS) -> dict[str, Delivery]:
    """The streaming job of each pipeline stops and its lag climbs; the alarms are evaluated and every change
    delivered. The deliveries by alarm name."""
    for job in jobs:
        d.stop_streaming_job(job, error="Lost executors: connection to broker b-1 reset")
        d.consumer_lag(job, LAG)
    return {dl.event["detail"]["alarmName"]: dl for dl in d.fire()}


def results(delivery: Delivery | None) -> list[dict[str, Any]]:
    """What the delivery's functions returned (the starter: STARTED, DUPLICATE, HELD or REJECTED)."""
    return [i.result for i in (delivery.invocations if delivery else []) if isinstance(i.result, dict)]


JOB_FIELDS_CHANGED = {"NumberOfWorkers", "WorkerType", "LastModifiedOn"}


def kept_fields(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Fields of the job definition that an update changed although it should not have."""
    return sorted(k for k, v in before.items() if k not in JOB_FIELDS_CHANGED and after.get(k) != v)


# -- narration --------------------------------------------------------------------------------------------

def _narrate(d: Drill, procedure: str, incident_id: str, shown: dict[str, int]) -> dict[str, Any]:
    report = incident.status(d.sandbox.client, d.catalog, incident_id)
    run = next(r for r in report["runs"] if r["procedure"] == procedure)
    steps = run["steps"]
    for step in steps[shown.get(procedure, 0):]:
        d.say("state", f"{step['state']:<24} {step['result']}")
    shown[procedure] = len(steps)
    return run


FLAGS = {"tables": "--table", "prefixes": "--prefix", "start": "--from", "end": "--to"}


def _command(procedure: str, incident_id: str, options: dict[str, Any]) -> str:
    words = [f"remedy incident start {procedure} --incident {incident_id}"]
    for key, value in options.items():
        if key == "poll_seconds":
            continue
        flag = FLAGS.get(key, f"--{key.replace('_', '-')}")
        words += [f"{flag} {v}" for v in (value if isinstance(value, list) else [value])]
    return " ".join(words)


def _run(d: Drill, procedure: str, incident_id: str, answer: str | None, why: str = "",
         **options: Any) -> dict[str, Any]:
    """Start, show the steps up to the approval and the question on call got, answer it (or not), show the
    rest; the final state of the run."""
    shown: dict[str, int] = {}
    # Said before acting: while a step's function runs, the sandbox captures this process's output as its log.
    d.say("inject", _command(procedure, incident_id, options))
    started = start(d.sandbox, procedure, incident_id, **options)
    state = settle(d.sandbox, procedure, incident_id)
    _narrate(d, procedure, incident_id, shown)
    if state["waiting"]:
        question = [n for n in d.notifications() if "APPROVAL NEEDED" in n["subject"]]
        if question:
            for line in question[-1]["message"].splitlines():
                d.say("note", f"on call reads: {line}")
        if answer == "approve":
            d.say("answer", f"{ON_CALL}: remedy incident approve {incident_id} --reason '{why}'")
            incident.approve(d.sandbox.client, d.catalog, incident_id, **answering(d.sandbox, ON_CALL), reason=why)
        elif answer == "reject":
            d.say("answer", f"{ON_CALL}: remedy incident reject {incident_id} --reason '{why}'")
            incident.reject(d.sandbox.client, d.catalog, incident_id, **answering(d.sandbox, ON_CALL), reason=why)
        else:
            # The approval window is the task's heartbeat, counted on the sandbox's clock: let it pass.
            minutes = int(options.get("approval_timeout_seconds") or
                          d.catalog.procedures.approval_timeout_minutes * 60) // 60
            d.say("answer", f"nobody answers within {minutes} minutes")
            d.advance(minutes + 1)
        state = settle(d.sandbox, procedure, incident_id, timeout=60, until_end=True)
        _narrate(d, procedure, incident_id, shown)
    d.say("note", f"run {started['execution'].rsplit(':', 1)[1]}: {state['status']}"
                  + (f" ({state['error']}: {state['cause']})" if state["error"] else ""))
    return state


def _told(d: Drill, status: str) -> dict[str, str]:
    """The last notification about how the run ended, shown line by line."""
    ends = [n for n in d.notifications() if f"] {status}:" in n["subject"]]
    if ends:
        for line in ends[-1]["message"].splitlines():
            d.say("note", f"on call reads: {line}")
    return ends[-1] if ends else {"subject": "", "message": ""}


def _approved_by(d: Drill, incident_id: str) -> list[str]:
    return [r["payload"]["by"] for r in d.sandbox.audit(incident_id) if r["kind"] == "approval"]


# -- scenarios --------------------------------------------------------------------------------------------

@scenario("procedure-scale-glue", "Scale a Glue job: the exact change approved, the whole definition carried "
                                  "over", f"{SCALING} / Scale Glue Jobs")
def scale_glue(d: Drill) -> None:
    glue = d.sandbox.client("glue")
    before = glue.get_job(JobName="sales-batch")["Job"]
    state = _run(d, "scale-glue", "GD-GLUE-1", "approve", "month-end volume", job="sales-batch", workers=8,
                 worker_type="G.2X")
    after = glue.get_job(JobName="sales-batch")["Job"]
    d.say("change", f"sales-batch: {before['NumberOfWorkers']} x {before['WorkerType']} -> "
                    f"{after['NumberOfWorkers']} x {after['WorkerType']}")
    d.expect("the run succeeded", state["status"] == "SUCCEEDED", state.get("cause", ""))
    d.expect("the job now has 8 x G.2X", (after["NumberOfWorkers"], after["WorkerType"]) == (8, "G.2X"))
    d.expect("every other field of the definition is unchanged", kept_fields(before, after) == [],
             ", ".join(kept_fields(before, after)))
    d.expect("the approval is recorded with who gave it", _approved_by(d, "GD-GLUE-1") == [shown(d.sandbox, ON_CALL)])
    points = [r for r in d.sandbox.audit("GD-GLUE-1") if r["kind"] == "rollback_point"]
    d.expect("the definition before the change is recorded (rollback point)",
             len(points) == 1 and points[0]["payload"]["before"]["NumberOfWorkers"] == before["NumberOfWorkers"])
    _told(d, "SUCCEEDED")


@scenario("procedure-scale-rejected", "Scale Glue rejected by on call: nothing changes, the failure path says so",
          f"{SCALING} / Scale Glue Jobs")
def scale_rejected(d: Drill) -> None:
    glue = d.sandbox.client("glue")
    before = glue.get_job(JobName="orders-stream")["Job"]
    state = _run(d, "scale-glue", "GD-GLUE-2", "reject", "lag is already draining", job="orders-stream",
                 workers=10)
    after = glue.get_job(JobName="orders-stream")["Job"]
    d.expect("the run ended in the failure path as rejected", (state["status"], state["error"]) ==
             ("FAILED", "Remedy.Rejected"), state.get("cause", ""))
    d.expect("the job definition did not change", before == after)
    told = _told(d, "REJECTED")
    d.expect("on call is told who rejected it and why", ON_CALL in told["message"] and "draining" in told["message"],
             told["subject"])


@scenario("procedure-scale-msk", "Scale MSK brokers 3 -> 6 (a multiple of the zones, within the cap)",
          f"{SCALING} / Scale MSK")
def scale_msk(d: Drill) -> None:
    state = _run(d, "scale-msk", "GD-MSK-1", "approve", "throughput", brokers=6)
    kafka = d.sandbox.client("kafka")
    arn = kafka.list_clusters_v2()["ClusterInfoList"][0]["ClusterArn"]
    brokers = kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["Provisioned"]["NumberOfBrokerNodes"]
    d.say("change", f"{d.catalog.msk.cluster_name}: {d.catalog.msk.broker_count} -> {brokers} brokers")
    d.expect("the run succeeded and the cluster has 6 brokers", state["status"] == "SUCCEEDED" and brokers == 6)


@scenario("procedure-scale-redshift", "Scale Redshift 2 -> 4 nodes (elastic resize, within the cap)",
          f"{SCALING} / Scale Redshift")
def scale_redshift(d: Drill) -> None:
    state = _run(d, "scale-redshift", "GD-RS-1", "approve", "quarter close", nodes=4)
    cluster = d.sandbox.client("redshift").describe_clusters()["Clusters"][0]
    d.say("change", f"{cluster['ClusterIdentifier']}: {d.catalog.redshift.number_of_nodes} -> "
                    f"{cluster['NumberOfNodes']} x {cluster['NodeType']}")
    d.expect("the run succeeded and the cluster has 4 nodes", state["status"] == "SUCCEEDED" and
             cluster["NumberOfNodes"] == 4)


@scenario("procedure-approval-timeout", "Nobody answers the approval: the run times out into the failure path",
          f"{SCALING} / Scale Redshift")
def approval_timeout(d: Drill) -> None:
    state = _run(d, "scale-redshift", "GD-RS-2", None, nodes=3)
    cluster = d.sandbox.client("redshift").describe_clusters()["Clusters"][0]
    d.expect("the run ended as an unanswered approval", state["error"] == "Remedy.ApprovalTimedOut",
             state.get("cause", ""))
    d.expect("the cluster was not resized", cluster["NumberOfNodes"] == d.catalog.redshift.number_of_nodes)
    try:
        incident.approve(d.sandbox.client, d.catalog, "GD-RS-2", **answering(d.sandbox, ON_CALL))
        late = "accepted"
    except incident.IncidentError as error:
        late = str(error)
    d.say("answer", f"{ON_CALL} approves too late: {late}")
    d.expect("a late answer is refused", late != "accepted")
    _told(d, "APPROVAL_TIMED_OUT")


@scenario("procedure-security-incident", "Security incident: key deactivated at once, CloudTrail and IAM reviewed, "
                                         "sessions revoked and open ingress removed after approval",
          f"{EMERGENCY} / Security Incident")
def security_incident(d: Drill) -> None:
    now = datetime.now(UTC)
    suspect = suspicious_user(d.sandbox, now)
    d.say("inject", f"user {suspect['user']} (key {suspect['key']}) made suspicious calls; {suspect['group']} "
                    f"allows 5439 from 0.0.0.0/0")
    secret = d.catalog.redshift.admin_secret or ""
    sm = d.sandbox.client("secretsmanager")
    version_before = sm.get_secret_value(SecretId=secret)["VersionId"]
    shown: dict[str, int] = {}
    d.say("inject", f"remedy incident start security-incident --principal {suspect['key']} --from -2h --to now")
    start(d.sandbox, "security-incident", "GD-SEC-1", principal=suspect["key"],
          start=(now - timedelta(hours=2)).isoformat(), end=now.isoformat())
    settle(d.sandbox, "security-incident", "GD-SEC-1")
    _narrate(d, "security-incident", "GD-SEC-1", shown)
    d.expect("the access key was deactivated before anyone was asked", key_status(d.sandbox, suspect["user"]) ==
             "Inactive")
    version_after = sm.get_secret_value(SecretId=secret)["VersionId"]
    d.expect("the Redshift admin secret was rotated at once", version_after != version_before,
             f"{version_before[:8]} -> {version_after[:8]}")
    d.expect("the open ingress waits for approval", open_ingress(d.sandbox, suspect["group"]) == ["0.0.0.0/0"])
    d.say("answer", f"{ON_CALL}: remedy incident approve GD-SEC-1 --reason contain")
    incident.approve(d.sandbox.client, d.catalog, "GD-SEC-1", **answering(d.sandbox, ON_CALL), reason="contain")
    state = settle(d.sandbox, "security-incident", "GD-SEC-1", until_end=True)
    _narrate(d, "security-incident", "GD-SEC-1", shown)
    policies = d.sandbox.client("iam").list_user_policies(UserName=suspect["user"])["PolicyNames"]
    still_open = open_ingress(d.sandbox, suspect["group"]) or "gone"
    d.say("change", f"key {suspect['key']}: {key_status(d.sandbox, suspect['user'])}; inline policies: "
                    f"{policies}; 0.0.0.0/0 on {suspect['group']}: {still_open}")
    d.expect("the run succeeded", state["status"] == "SUCCEEDED", state.get("cause", ""))
    d.expect("live sessions are denied (deny-all on token issue time)", "remedy-revoke-older-sessions" in policies)
    d.expect("the 0.0.0.0/0 ingress rule is revoked, the allowed one kept", open_ingress(d.sandbox, suspect["group"])
             == [])
    told = _told(d, "SUCCEEDED")
    d.expect("the report summarises CloudTrail and flags the admin policy",
             "DeleteTrail" in told["message"] and "quick-fix" in told["message"], told["subject"])


@scenario("procedure-data-corruption", "Data corruption: jobs stopped, table restored from its snapshot and "
                                       "swapped, objects back, period re-processed, verified, resumed",
          f"{EMERGENCY} / Data Corruption")
def data_corruption(d: Drill) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    bad = corrupt_customers(d.sandbox, now)
    prefix = "landing/customers/replay/"
    good = corrupt_landing(d.sandbox, now, prefix)
    d.say("inject", f"{bad['rows']} bad rows in analytics.dim_customer at {bad['at']} (no e-mail, duplicate ids); "
                    f"bad versions of s3://{d.catalog.s3.name}/{prefix}")
    d.say("note", f"before: {customer_quality(d.sandbox)}")
    shown: dict[str, int] = {}
    d.say("inject", f"remedy incident start data-corruption --table analytics.dim_customer --prefix {prefix} "
                    f"--from -1h --to now")
    start(d.sandbox, "data-corruption", "GD-DC-1", tables=["analytics.dim_customer"], prefixes=[prefix],
          start=(now - timedelta(hours=1)).isoformat(), end=(now + timedelta(minutes=1)).isoformat())
    settle(d.sandbox, "data-corruption", "GD-DC-1")
    _narrate(d, "data-corruption", "GD-DC-1", shown)
    glue = d.sandbox.client("glue")
    trigger = d.catalog.glue_job("customer-scd-batch").trigger or ""
    d.expect("the affected jobs and their trigger are stopped before anything else",
             glue.get_trigger(Name=trigger)["Trigger"]["State"] == "DEACTIVATED" and d.active_runs("customers-stream")
             == [])
    d.say("answer", f"{ON_CALL}: remedy incident approve GD-DC-1")
    incident.approve(d.sandbox.client, d.catalog, "GD-DC-1", reason="restore before the morning load",
                     **answering(d.sandbox, ON_CALL))
    _finish_reprocessing(d, "customer-scd-batch", "GD-DC-1")
    state = settle(d.sandbox, "data-corruption", "GD-DC-1", until_end=True)
    _narrate(d, "data-corruption", "GD-DC-1", shown)
    quality = customer_quality(d.sandbox)
    tables = [r[0] for r in redshift.standin().execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'analytics' ORDER BY 1")]
    s3 = d.sandbox.client("s3")
    body = s3.get_object(Bucket=d.catalog.s3.name, Key=f"{prefix}part-0001.json")["ETag"].strip('"')
    d.say("change", f"analytics tables: {tables}; dim_customer now {quality}")
    d.expect("the run succeeded", state["status"] == "SUCCEEDED", state.get("cause", ""))
    d.expect("dim_customer was restored under a new name and swapped in; the corrupted one is kept aside",
             quality["null_emails"] == 0 and quality["duplicates"] == 0 and "dim_customer_corrupt_gd_dc_1" in tables)
    d.expect("the object is back at its version from before the range", body == good[f"{prefix}part-0001.json"])
    d.expect("trigger and streaming job resumed", glue.get_trigger(Name=trigger)["Trigger"]["State"] == "ACTIVATED"
             and len(d.active_runs("customers-stream")) == 1)
    _told(d, "SUCCEEDED")


def _finish_reprocessing(d: Drill, job: str, incident_id: str) -> None:
    """Glue runs the re-processing run to its end (in the sandbox, runs end when a scenario says so)."""
    import time

    for _ in range(1200):  # up to a minute of real time: the run gets there after its restore polls
        runs = [r for r in d.runs(job) if r.get("Arguments", {}).get("--remedy_incident") == incident_id]
        if runs:
            for run in d.sandbox.account.glue_backend().get_job(job).job_runs:
                if run.job_run_id == runs[0]["Id"]:
                    run.status = "SUCCEEDED"
            arguments = runs[0].get("Arguments", {})
            d.say("inject", f"re-processing run {runs[0]['Id'][:10]} of {job} ({arguments.get('--reprocess_from')}"
                            f" .. {arguments.get('--reprocess_to')}) ends SUCCEEDED")
            return
        time.sleep(0.05)
    raise AssertionError(f"no re-processing run of {job} was started")


@scenario("procedure-failing-step", "Data corruption whose table restore fails: the failure path says what failed "
                                    "and what to do by hand", f"{EMERGENCY} / Data Corruption")
def failing_step(d: Drill) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    corrupt_customers(d.sandbox, now)
    with inject_error("redshift", "RestoreTableFromClusterSnapshot", "AccessDenied",
                      "not authorized to perform: redshift:RestoreTableFromClusterSnapshot"):
        d.say("inject", "redshift:RestoreTableFromClusterSnapshot answers AccessDenied")
        state = _run(d, "data-corruption", "GD-DC-2", "approve", "go", tables=["analytics.dim_customer"],
                     start=(now - timedelta(hours=1)).isoformat(), end=(now + timedelta(minutes=1)).isoformat())
    d.expect("the run ended in the failure path at RestoreTables", state["status"] == "FAILED" and
             "RestoreTables" in state["cause"], state.get("cause", ""))
    told = _told(d, "FAILED")
    trigger = d.catalog.glue_job("customer-scd-batch").trigger
    d.expect("on call is told what failed and what is left by hand (restore the table, resume the trigger)",
             "AccessDenied" in told["message"] and f"start-trigger --name {trigger}" in told["message"]
             and "restore-table-from-cluster-snapshot" in told["message"], told["subject"])
    d.expect("the corrupted table was not touched", customer_quality(d.sandbox)["null_emails"] == 30)


@scenario("procedure-service-outage", "Service outage: evidence gathered, our own recent Glue change rolled back "
                                      "after approval, Support unavailable (Basic plan), on call paged",
          f"{EMERGENCY} / Service Outage")
def service_outage(d: Drill) -> None:
    glue = d.sandbox.client("glue")
    original = glue.get_job(JobName="sales-batch")["Job"]
    start(d.sandbox, "scale-glue", "GD-OUT-0", job="sales-batch", workers=12)
    settle(d.sandbox, "scale-glue", "GD-OUT-0")
    incident.approve(d.sandbox.client, d.catalog, "GD-OUT-0", **answering(d.sandbox, ON_CALL), reason="backlog")
    settle(d.sandbox, "scale-glue", "GD-OUT-0", until_end=True)
    d.say("inject", "earlier today: sales-batch scaled 2 -> 12 workers by scale-glue GD-OUT-0 (recorded)")
    d.notifications()  # what that run said is not this scenario's
    state = _run(d, "service-outage", "GD-OUT-1", "approve", "roll back the scale-up", reason="dashboards red")
    after = glue.get_job(JobName="sales-batch")["Job"]
    d.say("change", f"sales-batch: 12 -> {after['NumberOfWorkers']} workers")
    d.expect("the run succeeded", state["status"] == "SUCCEEDED", state.get("cause", ""))
    d.expect("the job is back at its recorded definition", after["NumberOfWorkers"] == original["NumberOfWorkers"]
             and kept_fields(original, after) == [])
    notes = d.notifications()
    page = next((n for n in notes if "PAGE" in n["subject"]), {"subject": "", "message": ""})
    for line in page["message"].splitlines():
        d.say("note", f"page: {line}")
    d.expect("the page carries the evidence, says Health and Support are unavailable (Basic plan), and what "
             "was rolled back", "AWS Health: unavailable" in page["message"] and "not opened: unavailable" in
             page["message"] and "sales-batch" in page["message"], page["subject"])


@scenario("procedure-outage-from-alarm", "Two pipelines down at once: the outage signal pages and starts "
                                         "service-outage by itself; a duplicate delivery starts nothing",
          f"{EMERGENCY} / Service Outage")
def outage_from_alarm(d: Drill) -> None:
    alarm = outage_alarm(d.catalog)
    # The run executes in a thread whose Lambda steps capture this process's output as their logs: it waits at
    # its first step until what happens up to the duplicate delivery is said (which also makes "while the run
    # goes on" certain).
    with stepfunctions.FUNCTION_LOCK:
        started = _outage_started(d, alarm)
    if started is None:
        return
    incident_, name, event = started
    state = settle(d.sandbox, "service-outage", incident_, timeout=60, until_end=True)
    _narrate(d, "service-outage", incident_, {})
    d.expect("the run gathered the evidence, escalated and paged; no approval (nothing of ours to roll back)",
             state["status"] == "SUCCEEDED", state.get("cause", ""))
    d.say("inject", f"EventBridge delivers the same state change of {alarm} once more, after the run ended")
    [late] = results(d.deliver(event)) or [{}]
    runs = d.sandbox.client("stepfunctions").list_executions(
        stateMachineArn=incident.state_machine_arn(d.catalog, "service-outage"))["executions"]
    d.expect("one execution of service-outage in all, whatever the deliveries",
             late.get("status") == "DUPLICATE" and [r["name"] for r in runs] == [name])
    trail = d.sandbox.audit(incident_)
    kinds = [r["kind"] for r in trail]
    first = [r["payload"] for r in trail if r["kind"] == "procedure_started"]
    d.say("note", f"audit trail of {incident_}: {', '.join(kinds)}")
    d.expect("the audit trail says what started it and records both duplicates",
             kinds.count("duplicate") == 2 and len(first) == 1 and first[0]["started_by"] == f"alarm {alarm}")
    page = next((n for n in d.notifications() if "PAGE: service outage" in n["subject"]), {"message": ""})
    for line in page["message"].splitlines():
        d.say("note", f"page: {line}")
    d.expect("the page names the alarm that started the run", f"STARTED BY      alarm {alarm}" in page["message"])


def _outage_started(d: Drill, alarm: str) -> tuple[str, str, dict[str, Any]] | None:
    """Two pipelines down, the outage signal, the start, a duplicate delivery: (incident, execution name, the
    outage alarm's event), or None when the signal did not fire."""
    from functions.procedures import execution_name
    from functions.procedures.start import incident_id, parse_start_event

    deliveries = pipelines_down(d)
    outage = deliveries.get(alarm)
    pipelines = [a for a in deliveries if "/composite-pipeline/" in a]
    d.expect("both pipeline composites and the outage signal went to ALARM", len(pipelines) == 2 and outage is not
             None and outage.event["detail"]["state"]["value"] == "ALARM", ", ".join(sorted(deliveries)))
    if outage is None:
        return None
    d.expect("on call is paged by the outage signal", any(alarm in p["subject"] for p in d.pages()))
    [first] = results(outage) or [{}]
    d.expect("its rule routed the change to the starter, which started service-outage",
             first.get("status") == "STARTED", str(first.get("reason", "")))
    expected = incident_id(parse_start_event(outage.event, d.catalog))
    name = execution_name("service-outage", expected)
    d.expect("the execution is named after the alarm and its state change", first.get("incident") == expected and
             str(first.get("execution", "")).endswith(f":{name}"), name)
    # EventBridge delivers at least once: the same change again, while the run goes on.
    d.say("inject", f"EventBridge delivers the same state change of {alarm} again")
    [again] = results(d.deliver(outage.event)) or [{}]
    d.expect("a second delivery is refused by Step Functions (ExecutionAlreadyExists), not run twice",
             again.get("status") == "DUPLICATE" and "ExecutionAlreadyExists" in str(again.get("reason")))
    return expected, name, outage.event

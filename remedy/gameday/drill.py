"""What a scenario works with: fault injection into the sandbox, the alarm → event → route → handler
loop, and expectations checked against the state of the emulated account (never against return codes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.core import Delivery, Sandbox


@dataclass
class Step:
    kind: str  # inject | alarm | route | handler | expect | note
    text: str
    ok: bool | None = None  # for expectations


@dataclass
class Drill:
    sandbox: Sandbox
    on_step: Callable[[Step], None] = lambda step: None
    steps: list[Step] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    inbox_url: str = ""
    escalation_url: str = ""
    inbox: list[dict[str, str]] = field(default_factory=list)
    _read: dict[bool, int] = field(default_factory=lambda: {True: 0, False: 0})

    def __post_init__(self) -> None:
        from sandbox import clock

        self.now = max(self.now, clock.now())  # the sandbox's clock never goes back, scenario after scenario
        self.catalog = self.sandbox.catalog
        self._open_inbox()

    # -- narration ------------------------------------------------------------------------------------

    def say(self, kind: str, text: str, ok: bool | None = None) -> None:
        step = Step(kind, text, ok)
        self.steps.append(step)
        self.on_step(step)

    def expect(self, label: str, ok: bool, detail: str = "") -> bool:
        self.say("expect", f"{label}" + (f" — {detail}" if detail else ""), ok=bool(ok))
        return bool(ok)

    @property
    def passed(self) -> bool:
        return all(s.ok for s in self.steps if s.kind == "expect") and any(s.kind == "expect" for s in self.steps)

    # -- time -----------------------------------------------------------------------------------------

    def advance(self, minutes: int) -> None:
        """Let time pass: the scenario's `now` and the sandbox's clock (sandbox.clock: what AWS has finished by
        then, and the functions' own clock) move together."""
        self.now += timedelta(minutes=minutes)
        self._sync_clock()

    def _sync_clock(self) -> None:
        """The sandbox's clock is at least the scenario's `now`; a scenario's `now` that fell behind it (a state
        machine or a function waited on the sandbox's clock meanwhile) catches up."""
        from sandbox import clock

        if self.now > clock.now():
            clock.advance_to(self.now)
        elif clock.now() - self.now > timedelta(seconds=30):  # real seconds of a run are not 'time passing'
            self.now = clock.now()

    # -- the event path -------------------------------------------------------------------------------

    def fire(self) -> list[Delivery]:
        """Evaluate every synthesized alarm at `now`; deliver each state change through EventBridge."""
        self._sync_clock()
        deliveries = []
        changes = self.sandbox.evaluate_alarms(self.now)
        if not changes:
            self.say("alarm", "no alarm changed state")
        for evaluation, event in changes:
            self.say("alarm", f"{evaluation.alarm_name}: {evaluation.previous} -> {evaluation.state} "
                              f"(datapoints {_points(evaluation.datapoints)})")
            deliveries.append(self.deliver(event))
        return deliveries

    def tick(self, only: str | None = None) -> list[Delivery]:
        """Every scheduled rule (or those whose name contains `only`) fires once at `now`."""
        self._sync_clock()
        names = None if only is None else [r.name for r in self.sandbox.deployment.schedules if only in r.name]
        deliveries = self.sandbox.run_schedules(self.now, names)
        for delivery in deliveries:
            for invocation in delivery.invocations:
                result = invocation.result if isinstance(invocation.result, dict) else {}
                if invocation.error:
                    self.say("handler", f"{delivery.matched[0]} -> {invocation.function} failed: {invocation.error}")
                elif (result.get("status") != "CHECKED" or result.get("leases") or result.get("follow_ups")
                      or result.get("pending_starts")):
                    self.say("handler", f"{delivery.matched[0]} -> {invocation.function}: {_brief(result)}")
        return deliveries

    def deliver(self, event: dict[str, Any]) -> Delivery:
        delivery = self.sandbox.deliver(event)
        if not delivery.matched:
            self.say("route", "no rule matched")
        for invocation in delivery.invocations:
            self.say("route", f"rule {', '.join(delivery.matched)} -> {invocation.function}")
            if invocation.error:
                self.say("handler", f"failed after {invocation.attempts} attempts: {invocation.error}")
                continue
            result = invocation.result or {}
            self.outcomes.append(result)
            self.say("handler", f"{result.get('status')}: {result.get('summary') or result.get('reason', '')}")
        return delivery

    # -- faults and observations ----------------------------------------------------------------------

    def runs(self, job: str) -> list[dict[str, Any]]:
        """The job's runs, newest first, as GetJobRuns reports them."""
        return list(self.sandbox.client("glue").get_job_runs(JobName=job)["JobRuns"])

    def active_runs(self, job: str) -> list[dict[str, Any]]:
        return [r for r in self.runs(job) if r["JobRunState"] in ("STARTING", "RUNNING", "WAITING")]

    def stop_streaming_job(self, job: str, error: str = "") -> None:
        """The job went down a while ago: its runs are STOPPED (or FAILED with `error`), their stop finished."""
        glue = self.sandbox.client("glue")
        active = [r["Id"] for r in self.active_runs(job)]
        if active:
            glue.batch_stop_job_run(JobName=job, JobRunIds=active)
        backend = self.sandbox.account.glue_backend()
        for run in backend.get_job(job).job_runs:
            if run.job_run_id in active:
                run.status, run.error_message = ("FAILED", error) if error else ("STOPPED", None)
                run.completed_on = self.now
        self.say("inject", f"streaming job {job} stopped" + (f" ({error})" if error else ""))

    def end_run(self, job: str, state: str, error: str = "", run_id: str | None = None) -> Delivery:
        """End a run (the newest active one unless `run_id`) in `state`, as Glue would, and deliver the
        `Glue Job State Change` event Glue emits for it through EventBridge."""
        from sandbox.glue_events import job_state_change_event

        backend = self.sandbox.account.glue_backend()
        runs = backend.get_job(job).job_runs
        run = next((r for r in reversed(runs) if r.job_run_id == run_id or
                    (run_id is None and r.status in ("STARTING", "RUNNING", "WAITING"))), None)
        if run is None:
            raise ValueError(f"no {'run ' + run_id if run_id else 'active run'} of {job} to end")
        run.status, run.error_message = state, error or None
        self.say("inject", f"run {run.job_run_id[:10]} of {job} ended {state}" + (f": {error}" if error else ""))
        event = job_state_change_event(self.catalog.account_id, self.catalog.region, job, run.job_run_id, state,
                                       error, self.now)
        return self.deliver(event)

    def start_run(self, job: str, arguments: dict[str, str] | None = None) -> str:
        run_id = self.sandbox.client("glue").start_job_run(JobName=job, Arguments=arguments or {})["JobRunId"]
        self.say("inject", f"run {run_id[:10]} of {job} started" + (f" with {arguments}" if arguments else ""))
        return str(run_id)

    def consumer_lag(self, job_name: str, values: list[float]) -> None:
        """The job's lag, one value a minute up to `now`, where its catalog entry says lag comes from: MSK's
        SumOffsetLag of its consumer group (lag_source msk), Glue's maxConsumerLagInMs (glue: values in ms), or
        (checkpoint, the default) the brokers and the job's Spark checkpoint moved so that the job is that many
        messages behind, and the lag probe run at each of those minutes as its schedule would."""
        job = self.catalog.glue_job(job_name)
        if job.lag_source == "msk":
            dims = {"Cluster Name": self.catalog.msk.cluster_name, "Consumer Group": job.consumer_group or "",
                    "Topic": job.topic or ""}
            self.sandbox.put_metric("AWS/Kafka", "SumOffsetLag", dims, values, end=self.now)
            self.say("inject", f"consumer lag of {job.consumer_group} on {job.topic} (MSK): {_points(values)}")
            return
        if job.lag_source == "glue":
            self.sandbox.put_metric("Glue", "glue.driver.streaming.maxConsumerLagInMs",
                                    {"JobName": job.name, "JobRunId": "ALL", "Type": "gauge"}, values, end=self.now)
            self.say("inject", f"Glue's consumer time lag of {job.name} (ms): {_points(values)}")
            return
        from sandbox.kafka_standin import set_lag

        base = datetime.fromtimestamp((int(self.now.timestamp()) // 60) * 60, UTC)
        for i, value in enumerate(values):
            set_lag(self.sandbox, job, int(value))
            self.run_lag_probe(base - timedelta(seconds=60 * (len(values) - i)) + timedelta(seconds=1))
        self.say("inject", f"{job.name} behind on {job.topic} by {_points(values)} messages (brokers' latest "
                           f"offsets - its checkpoint's newest committed batch); the lag probe measured each minute")

    def lag_probe_minutes(self, minutes: int) -> list[dict[str, Any]]:
        """The lag probe's runs of the last `minutes` minutes up to `now`, one a minute, nothing else changed."""
        base = datetime.fromtimestamp((int(self.now.timestamp()) // 60) * 60, UTC)
        return [self.run_lag_probe(base - timedelta(seconds=60 * (minutes - i)) + timedelta(seconds=1))
                for i in range(minutes)]

    def run_lag_probe(self, at: datetime) -> dict[str, Any]:
        """The lag probe's scheduled run at `at` (its rule, as EventBridge would fire it that minute)."""
        rule = f"{self.catalog.prefix}-probe-consumer-lag"
        deliveries = self.sandbox.run_schedules(at, [rule])
        invocation = deliveries[0].invocations[0] if deliveries and deliveries[0].invocations else None
        if invocation is None or invocation.error:
            self.say("handler", f"{rule} failed: {invocation.error if invocation else 'not deployed'}")
            return {}
        result = invocation.result if isinstance(invocation.result, dict) else {}
        if result.get("unmeasured"):
            reasons = "; ".join(f"{j['job']}: {j['reason']}" for j in result.get("jobs", []) if not j["measured"])
            self.say("handler", f"{rule}: UNMEASURED {reasons[:300]}")
        return result

    def set_kill_switch(self, on: bool) -> None:
        self.sandbox.client("ssm").put_parameter(Name=self.catalog.guardrails.kill_switch_parameter,
                                                 Value="on" if on else "off", Type="String", Overwrite=True)
        self.say("inject", f"kill switch {self.catalog.guardrails.kill_switch_parameter} set {'on' if on else 'off'}")

    def audit(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.audit() if kind is None or r["kind"] == kind]

    # -- Glue job failures and data quality (playbooks glue_job_failure, data_quality) ----------------

    def set_run_state(self, job: str, run_id: str, state: str, error: str = "") -> None:
        """A run ends in `state` without an event being delivered (e.g. a batch run that SUCCEEDED)."""
        run = next(r for r in self.sandbox.account.glue_backend().get_job(job).job_runs if r.job_run_id == run_id)
        run.status, run.error_message = state, error or None
        self.say("inject", f"run {run_id[:10]} of {job} is {state}" + (f": {error}" if error else ""))

    def write_error_log(self, job: str, run_id: str, lines: list[str]) -> None:
        """What Glue writes to the job's error log group (catalog: error_log_group), stream = run id."""
        logs, group = self.sandbox.client("logs"), self.catalog.glue_job(job).error_log_group
        if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
            logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName=run_id)
        start = int(self.now.timestamp() * 1000)
        logs.put_log_events(logGroupName=group, logStreamName=run_id, logEvents=[
            {"timestamp": start + i, "message": line} for i, line in enumerate(lines)])
        self.say("inject", f"{len(lines)} line(s) in {group}/{run_id[:10]}: {lines[-1][:80] if lines else ''}")

    def set_job_role_policy(self, job: str, statements: list[dict[str, Any]]) -> str:
        """The job's IAM role (as GetJob names it) with exactly this inline policy; returns the role name."""
        iam = self.sandbox.client("iam")
        role = self.sandbox.client("glue").get_job(JobName=job)["Job"]["Role"].rsplit("/", 1)[-1]
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "glue.amazonaws.com"}}]}
        try:
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
        except iam.exceptions.EntityAlreadyExistsException:
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                iam.delete_role_policy(RoleName=role, PolicyName=name)
        iam.put_role_policy(RoleName=role, PolicyName="data-lake", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))
        granted = "; ".join(f"{st.get('Effect')} {st.get('Action')} on {st.get('Resource')}" for st in statements)
        self.say("inject", f"role {role} of {job} now holds: {granted[:160]}")
        return role

    def write_quality_flags(self, job: str, partition: str, passed: bool, failed_rules: list[str] | None = None) -> str:
        """The staging quality flags of one partition (catalog: s3.quality_flags_prefix convention)."""
        key = self.catalog.s3.quality_flags_key(job, partition)
        body = json.dumps({"passed": passed, "failed_rules": list(failed_rules or [])})
        self.sandbox.client("s3").put_object(Bucket=self.catalog.s3.name, Key=key, Body=body.encode())
        self.say("inject", f"quality flags of {job} {partition}: {'passed' if passed else 'FAILED'} "
                           f"{failed_rules or ''} (s3://{self.catalog.s3.name}/{key})")
        return key

    def msk_connection(self, job: str, port_open: bool, port: int = 9094) -> str:
        """Give `job` a Glue KAFKA connection in a VPC subnet and the brokers a security group that admits
        `port` from the connection's group (or not); returns the connection name."""
        ec2, glue = self.sandbox.client("ec2"), self.sandbox.client("glue")
        vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24")["Subnet"]["SubnetId"]
        job_sg = ec2.create_security_group(GroupName=f"{job}-glue", Description="glue job", VpcId=vpc)["GroupId"]
        msk_sg = ec2.create_security_group(GroupName=f"{job}-msk", Description="msk brokers", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=job_sg, IpPermissions=[  # Glue needs its group self-referenced
            {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "UserIdGroupPairs": [{"GroupId": job_sg}]}])
        if port_open:
            ec2.authorize_security_group_ingress(GroupId=msk_sg, IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": job_sg}]}])
        name = f"{job}-msk"
        servers = ",".join(f"b-{i}.{self.catalog.msk.cluster_name}.kafka.{self.catalog.region}.amazonaws.com:{port}"
                           for i in range(1, self.catalog.msk.broker_count + 1))
        glue.create_connection(ConnectionInput={
            "Name": name, "ConnectionType": "KAFKA", "ConnectionProperties": {"KAFKA_BOOTSTRAP_SERVERS": servers},
            "PhysicalConnectionRequirements": {"SubnetId": subnet, "SecurityGroupIdList": [job_sg],
                                               "AvailabilityZone": f"{self.catalog.region}a"}})
        self.sandbox.account.glue_backend().get_job(job).connections = {"Connections": [name]}
        from moto.kafka.models import kafka_backends

        for cluster in kafka_backends[self.catalog.account_id][self.catalog.region].clusters.values():
            if cluster.cluster_name == self.catalog.msk.cluster_name:
                info = cluster.broker_node_group_info  # moto keeps the request's (camelCase) keys
                info["securityGroups" if "securityGroups" in info else "SecurityGroups"] = [msk_sg]
        self.say("inject", f"{job} reaches the brokers through connection {name} ({job_sg}); brokers' {msk_sg} "
                           f"{'admits' if port_open else 'does NOT admit'} port {port} from it")
        return name

    # -- the on-call inbox: an SQS queue subscribed to the on-call topic ------------------------------

    def _open_inbox(self) -> None:
        sqs, sns = self.sandbox.client("sqs"), self.sandbox.client("sns")
        self.inbox_url = sqs.create_queue(QueueName="gameday-on-call-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.inbox_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"]
                     if t["TopicArn"].endswith(f":{self.catalog.notifications.on_call_topic}"))
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
        self._open_escalation_inbox()

    def _open_escalation_inbox(self) -> None:
        """What the paging service would receive: an SQS queue subscribed to the escalation topic."""
        sqs, sns = self.sandbox.client("sqs"), self.sandbox.client("sns")
        self.escalation_url = sqs.create_queue(QueueName="gameday-escalation-inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.escalation_url,
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        name = self.catalog.notifications.escalation_topic or f"{self.catalog.prefix}-escalation"
        topic = next((t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{name}")), None)
        if topic is not None:
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

    def escalations(self) -> list[dict[str, str]]:
        """What reached the escalation topic since the last call (ESCALATED outcomes, lapses, the queue's alarm)."""
        sqs, got = self.sandbox.client("sqs"), []
        while True:
            batch = sqs.receive_message(QueueUrl=self.escalation_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return got
            for message in batch:
                body = json.loads(message["Body"])
                got.append({"subject": body.get("Subject", ""), "message": body.get("Message", "")})
                sqs.delete_message(QueueUrl=self.escalation_url, ReceiptHandle=message["ReceiptHandle"])

    def _drain(self) -> None:
        sqs = self.sandbox.client("sqs")
        while True:
            batch = sqs.receive_message(QueueUrl=self.inbox_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return
            for message in batch:
                body = json.loads(message["Body"])
                self.inbox.append({"subject": body.get("Subject", ""), "message": body.get("Message", "")})
                sqs.delete_message(QueueUrl=self.inbox_url, ReceiptHandle=message["ReceiptHandle"])

    def _unread(self, page: bool) -> list[dict[str, str]]:
        self._drain()
        mine = [m for m in self.inbox if m["subject"].startswith("[") != page]
        seen = self._read[page]
        self._read[page] = len(mine)
        return mine[seen:]

    def notifications(self) -> list[dict[str, str]]:
        """The playbooks' notifications received since the last call: [{'subject':..., 'message':...}]."""
        return self._unread(page=False)

    def pages(self) -> list[dict[str, str]]:
        """Alarm notifications (CloudWatch alarm actions on the on-call topic) since the last call."""
        return self._unread(page=True)


def _brief(result: dict[str, Any]) -> str:
    if "leases" in result:
        checked = [f"pending start on {x['target']}: {x['status']} {x.get('detail', '')}".strip()
                   for x in result.get("pending_starts", [])]
        checked += [f"verification window {x['key'][:60]}: {x['status']} {x.get('detail', '')}".strip()
                    for x in result.get("follow_ups", [])]
        checked += [f"lease on {x['target']}: {x['status']} {x.get('summary', '')}".strip() for x in result["leases"]]
        return "; ".join(checked)[:400] or "nothing to check"
    return str(result.get("status", result))[:200]


def _points(values: list[float | None]) -> str:
    return "[" + ", ".join("-" if v is None else f"{v:,.0f}" for v in values) + "]"

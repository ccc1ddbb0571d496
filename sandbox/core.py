"""The sandbox: the synthesized stacks 'deployed' into an emulated account seeded from the catalog,
and the event path run for real: alarm evaluation → EventBridge patterns → Lambda handler (in-process,
with the function's own environment from the template, async retries and on-failure destination).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from functions.core.catalog import Catalog, catalog_path_for, load_catalog
from sandbox import aws, emf, iam, stepfunctions
from sandbox.alarms import (
    ACTIONS_FOR_STATE,
    Evaluation,
    alarm_notification,
    composite_event,
    evaluate_all,
    evaluate_composite,
    record_transition,
    state_change_event,
    suppressed_by,
)
from sandbox.aws import EmulatedAccount
from sandbox.cfn import Deployment, FunctionSpec, RuleSpec, deploy
from sandbox.home import HOME_VARIABLE, SandboxHomeError, sandbox_home
from sandbox.scheduler import schedule_due, scheduler_input
from sandbox.seed_doctor import seed as seed_for_doctor
from sandbox.seed_maintenance import seed_lake_housekeeping

ROOT = Path(__file__).resolve().parents[1]


class _ThreadStdout(io.TextIOBase):
    """sys.stdout while functions run: each thread that captures writes to its own buffer, every other thread to
    the stream that was there before. A state machine's Lambda task runs on moto's execution thread, possibly
    while the caller's thread has moved on: contextlib.redirect_stdout swaps the process's one sys.stdout and
    would send the caller's output (the CLI's report) into the task's buffer."""

    def __init__(self, fallback: Any):
        self.fallback = fallback
        self.local = threading.local()
        self.active = 0

    def _target(self) -> Any:
        return getattr(self.local, "target", None) or self.fallback

    def write(self, text: str) -> int:
        return int(self._target().write(text))

    def flush(self) -> None:
        self._target().flush()


_STDOUT_LOCK = threading.Lock()


@contextlib.contextmanager
def _thread_stdout(stream: io.StringIO) -> Iterator[None]:
    """Capture this thread's print() output in `stream` (see _ThreadStdout)."""
    with _STDOUT_LOCK:
        proxy = sys.stdout if isinstance(sys.stdout, _ThreadStdout) else _ThreadStdout(sys.stdout)
        sys.stdout = proxy
        proxy.active += 1
    previous = getattr(proxy.local, "target", None)
    proxy.local.target = stream
    try:
        yield
    finally:
        proxy.local.target = previous
        with _STDOUT_LOCK:
            proxy.active -= 1
            if proxy.active == 0 and sys.stdout is proxy:
                sys.stdout = proxy.fallback


@dataclass
class Invocation:
    function: str
    handler: str
    attempts: int
    result: Any = None
    error: str | None = None  # the last error, when every attempt failed (then sent on-failure)
    logs: list[str] = field(default_factory=list)  # what the function logged (CloudWatch Logs in AWS)
    api_calls: list[str] = field(default_factory=list)  # "service:Operation" the function made, in order


@dataclass
class Delivery:
    """One event through EventBridge: the rules it matched and what each target did."""

    event: dict[str, Any]
    matched: list[str] = field(default_factory=list)
    invocations: list[Invocation] = field(default_factory=list)


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    # The invocation's deadline counts down from its start, as in Lambda (the functions' timeout is 60 s
    # unless a test or a template says otherwise): work that must fit the invocation can be checked here.
    # On the sandbox's clock (sandbox.clock): real seconds count, and so do the seconds a function waits for AWS.
    timeout_seconds: float = 60.0
    started: float = field(default_factory=lambda: _sandbox_clock().timestamp())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (_sandbox_clock().timestamp() - self.started)) * 1000))


def _sandbox_clock() -> datetime:
    from sandbox import clock

    return clock.now()


class Sandbox:
    def __init__(self, env: str = "dev", workdir: str | Path | None = None, catalog_path: str | Path | None = None):
        self.env = env
        self.catalog_path = Path(catalog_path) if catalog_path else catalog_path_for(env, ROOT)
        self.catalog: Catalog = load_catalog(self.catalog_path)
        self.workdir = Path(workdir or sandbox_home() / env)
        self.account = EmulatedAccount(self.catalog.account_id, self.catalog.region)
        self.templates: dict[str, dict[str, Any]] = {}
        self.deployment = Deployment()
        self._function_env: dict[str, str] | None = None
        self.suppressed: list[tuple[str, str]] = []  # (alarm, suppressor) whose actions were held back
        self.last_api_calls: list[str] = []  # AWS calls of the last invocation (benchmark: calls per branch)
        # Configuration the sandbox adds to every function (the Redshift stand-in's host and port).
        self.extra_env: dict[str, str] = {}
        from sandbox.kafka_standin import ENV as KAFKA_STANDIN_ENV

        self.extra_env.update(KAFKA_STANDIN_ENV)  # the lag probe's brokers: the stand-in (sandbox.kafka_standin)
        from sandbox.seed_doctor import ENV as DOCTOR_ENV

        self.extra_env.update(DOCTOR_ENV)  # the in-VPC doctor's TCP checks: the emulated private network
        from sandbox.slack_standin import environment as slack_environment

        self.extra_env.update(slack_environment(self.catalog))  # Slack's Web API: the stand-in (SLACK_API_URL)
        self.redshift: Any = None  # the Redshift stand-in, started on first use (sandbox.redshift_wiring)
        self.running: FunctionSpec | None = None  # the function whose handler runs now (nested invocations)
        self.warm: set[str] = set()  # functions with a container already (their next invocation is warm)
        self._sessions: dict[str, Any] = {}  # one boto3 session per function role (sandbox.iam), see _as_role
        self._baseline: tuple[str, Any] | None = None  # (templates' digest, checkpoint) of the healthy account

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self, templates: dict[str, dict[str, Any]] | None = None) -> Sandbox:
        from sandbox.seed import seed

        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SandboxHomeError(f"cannot keep the sandbox's files in {self.workdir}: {error.strerror} (set "
                                   f"{HOME_VARIABLE} to a writable folder, or unset it for .sandbox/)") from None
        self.account.start()
        # moto keeps its state per process, not per server: a sandbox started after another one in the same
        # process (tests, `make bench`) must begin from an empty account, not from what the last one left.
        self.account.reset()
        if templates is None:
            from sandbox.templates import templates_for

            templates = templates_for(self.env, self.catalog_path)
        self.templates = templates
        seed(self.catalog, self.account)
        seed_lake_housekeeping(self.catalog, self.account)  # lifecycle rules, Terraform state
        stepfunctions.enable(self)  # state machines run for real; their Lambda tasks run here (procedures)
        self.deployment = deploy(templates, self.account)
        seed_for_doctor(self.catalog, self.account, templates)  # VPC endpoints, layer, topics… (after the stacks)
        iam.register(self.deployment, self.catalog.account_id)  # each function and machine signs as its role
        self._settle()
        return self

    def _settle(self) -> None:
        """Composite alarms take their first state at deployment, long before any game day: record it
        without events or pages, as history that happened before the sandbox's 'now'."""
        cloudwatch = self.client("cloudwatch")
        states = self._alarm_states()
        for name, props in self.deployment.composite_alarms.items():
            evaluation = evaluate_composite(name, props, states)
            if evaluation.changed:
                record_transition(cloudwatch, evaluation)
                states[name] = evaluation.state

    def reset(self) -> None:
        """Back to the freshly deployed, healthy data lake (between game day scenarios and tests).

        The first reset empties the account, seeds it and deploys the templates (about a second) and keeps a
        checkpoint of the result (sandbox.checkpoint); the next ones put that checkpoint back (a fraction of
        that): the same account, resource for resource. Templates changed since (a test editing a grant) mean a
        full reset again."""
        from sandbox import checkpoint

        stepfunctions.stop_executions(self)  # nothing left waiting on an approval token
        __import__("sandbox.lambda_async").lambda_async.clear(self)  # queued events belong to the old account
        self.warm.clear()  # a new account's functions have no container yet
        key = self._templates_key()
        if self._baseline is not None and self._baseline[0] == key and stepfunctions.active() is self:
            __import__("sandbox.clock").clock.reset()  # a new account's time starts again at the wall clock
            checkpoint.restore(self, self._baseline[1])
            self.suppressed = []
            if self.redshift is not None:
                from sandbox.redshift_wiring import reset_redshift

                reset_redshift(self)  # the cluster's tables as seeded, no injected sessions
            return
        self._full_reset()
        self._baseline = (key, checkpoint.capture(self))

    def _templates_key(self) -> str:
        import hashlib

        return hashlib.sha256(json.dumps(self.templates, sort_keys=True, default=str).encode()).hexdigest()

    def _full_reset(self) -> None:
        from sandbox.seed import seed

        self.account.reset()
        __import__("sandbox.clock").clock.reset()  # a new account's time starts again at the wall clock
        seed(self.catalog, self.account)
        seed_lake_housekeeping(self.catalog, self.account)  # lifecycle rules, Terraform state
        stepfunctions.after_reset(self)
        self.deployment = deploy(self.templates, self.account)
        seed_for_doctor(self.catalog, self.account, self.templates)
        iam.register(self.deployment, self.catalog.account_id)
        self._settle()
        self._function_env = None
        self.suppressed = []
        if self.redshift is not None:
            from sandbox.redshift_wiring import reset_redshift

            reset_redshift(self)  # the cluster's tables as seeded, no injected sessions

    def stop(self) -> None:
        from sandbox.redshift_wiring import detach_redshift

        detach_redshift(self)
        if self.account.running:
            stepfunctions.stop_executions(self)  # no execution thread left calling a server that is gone
        self.account.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, service: str) -> Any:
        return self.account.client(service)

    # -- CloudWatch -----------------------------------------------------------------------------------

    def put_metric(self, namespace: str, name: str, dimensions: dict[str, str], values: list[float],
                   period: int = 60, end: datetime | None = None) -> None:
        """One value per period, the last one in the period before `end` (what a service publishes)."""
        end = end or datetime.now(UTC)
        base = datetime.fromtimestamp((int(end.timestamp()) // period) * period, UTC)
        data = [{"MetricName": name, "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                 "Timestamp": base - timedelta(seconds=period * (len(values) - i)) + timedelta(seconds=1),
                 "Value": float(v)} for i, v in enumerate(values)]
        self.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=data)

    def evaluate_alarms(self, now: datetime | None = None) -> list[tuple[Evaluation, dict[str, Any]]]:
        """Evaluate every synthesized alarm as CloudWatch would: metric alarms from their data, then composite
        alarms from the states of their children. Each state change is recorded, its alarm actions run (SNS
        pages, unless an actions suppressor holds them) and returned with the event EventBridge receives."""
        cloudwatch = self.client("cloudwatch")
        changes = []
        from sandbox import sqs_metrics

        sqs_metrics.publish(self, now)  # what SQS reports on its own (the unhandled-events queue's depth)
        # Every alarm's state before this evaluation, read once; `states` then follows the transitions recorded
        # here, which nothing else changes meanwhile (no second read).
        before = self.account.alarm_states()
        states = {name: value for name, (value, _reason) in before.items()}
        alarms = self.deployment.alarms
        for evaluation in evaluate_all(cloudwatch, alarms, now or datetime.now(UTC), states):
            if not evaluation.changed:
                continue
            name, props = evaluation.alarm_name, alarms[evaluation.alarm_name]
            record_transition(cloudwatch, evaluation, now)
            states[name] = evaluation.state
            event = state_change_event(evaluation, props, self.catalog.account_id, self.catalog.region,
                                       before[name][1], now)
            changes.append((evaluation, event, props))
        for _ in range(len(self.deployment.composite_alarms) + 1):  # composites of composites settle
            settled = True
            for name, props in self.deployment.composite_alarms.items():
                evaluation = evaluate_composite(name, props, states)
                if not evaluation.changed:
                    continue
                settled = False
                record_transition(cloudwatch, evaluation, now)
                states[name] = evaluation.state
                event = composite_event(evaluation, props, self.catalog.account_id, self.catalog.region, now)
                changes.append((evaluation, event, props))
            if settled:
                break
        for evaluation, _event, props in changes:
            self._run_alarm_actions(evaluation, props, states, now)
        return [(evaluation, event) for evaluation, event, _props in changes]

    def _alarm_states(self) -> dict[str, str]:
        return {name: value for name, (value, _reason) in self.account.alarm_states().items()}

    def _run_alarm_actions(self, evaluation: Evaluation, props: dict[str, Any], states: dict[str, str],
                           now: datetime | None) -> None:
        """What CloudWatch does with an alarm's actions on a transition: publish to its SNS topics."""
        if props.get("ActionsEnabled", True) in (False, "false"):
            return
        suppressor = suppressed_by(props, states)
        if suppressor:
            self.suppressed.append((evaluation.alarm_name, suppressor))
            return
        subject, message = alarm_notification(evaluation, props, self.catalog.account_id, self.catalog.region, now)
        for target in props.get(ACTIONS_FOR_STATE[evaluation.state], []):
            if str(target).startswith("arn:aws:sns:"):
                self.client("sns").publish(TopicArn=target, Subject=subject, Message=message)

    def run_schedules(self, now: datetime | None = None, names: list[str] | None = None) -> list[Delivery]:
        """Fire every scheduled rule once, as if its time (`now`) had come: EventBridge's 'Scheduled Event'.
        EventBridge Scheduler schedules fire when their cron expression is due at `now` and deliver their Input;
        `names` fires just those schedules and rules, due or not (a person re-running a job)."""
        deliveries = []
        at = (now or datetime.now(UTC)).astimezone(UTC)
        for rule in self.deployment.schedules:
            event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event",
                     "source": "aws.events", "account": self.catalog.account_id,
                     "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": self.catalog.region,
                     "resources": [f"arn:aws:events:{self.catalog.region}:{self.catalog.account_id}:rule/"
                                   f"{rule.name}"], "detail": {}}
            if names is not None and rule.name not in names:
                continue
            if rule.input is not None:  # AWS::Scheduler::Schedule (sandbox.scheduler)
                if names is None and not schedule_due(rule.pattern["schedule"], rule.pattern.get("timezone"), at):
                    continue
                event = scheduler_input(rule.input, at, f"arn:aws:scheduler:{self.catalog.region}:"
                                                        f"{self.catalog.account_id}:schedule/default/{rule.name}")
            delivery = Delivery(event=event, matched=[rule.name])
            self._to_targets(rule, event, delivery, scheduler=rule.input is not None)
            deliveries.append(delivery)
        return deliveries

    # -- EventBridge ----------------------------------------------------------------------------------

    def route(self, event: dict[str, Any]) -> list[RuleSpec]:
        """Rules whose synthesized pattern matches the event. Decided by the emulated EventBridge's own
        matcher (the engine behind its TestEventPattern API), called in-process: routing a storm of events
        through one HTTP call per rule would cost more than the handlers themselves."""
        from moto.events.models import EventPattern

        return [rule for rule in self.deployment.rules
                if EventPattern.load(json.dumps(rule.pattern)).matches_event(event)]

    def deliver(self, event: dict[str, Any]) -> Delivery:
        delivery = Delivery(event=event)
        for rule in self.route(event):
            delivery.matched.append(rule.name)
            self._to_targets(rule, event, delivery)
        return delivery

    def _to_targets(self, rule: RuleSpec, event: dict[str, Any], delivery: Delivery, scheduler: bool = False) -> None:
        """Each Lambda target invoked asynchronously; one EventBridge may not invoke (no such function, or its
        resource policy does not admit the rule) goes to the target's dead-letter queue at once, unretried
        (sandbox.eventbridge_targets). Scheduler schedules invoke with their role: not judged here."""
        from sandbox import eventbridge_targets as targets

        source = targets.rule_arn(self.catalog.region, self.catalog.account_id, rule.name)
        for arn in rule.target_arns:
            refused = None if scheduler else targets.refusal(self.deployment.functions, self.deployment.permissions,
                                                             arn, source)
            if refused is not None:
                targets.dead_letter(self.client("sqs"), event, source, arn, rule.target_dlqs.get(arn), *refused)
            elif arn in self.deployment.functions:
                delivery.invocations.append(self.invoke_async(self.deployment.functions[arn], event))

    # -- Lambda ---------------------------------------------------------------------------------------

    def function(self, name_or_arn: str) -> FunctionSpec:
        for spec in self.deployment.functions.values():
            if name_or_arn in (spec.name, spec.arn, spec.logical_id):
                return spec
        raise KeyError(f"no function {name_or_arn} in the synthesized templates")

    def invoke(self, spec: FunctionSpec, event: dict[str, Any], logs: list[str] | None = None) -> Any:
        """One synchronous invocation of the real handler with the function's environment. What it logs
        goes to `logs` (its CloudWatch Logs stream), not to the terminal running the sandbox. One function at
        a time: a function that starts a state machine (the procedure starter) must not have its environment
        switched under it by the run's first Lambda task (moto runs executions in threads)."""
        with stepfunctions.FUNCTION_LOCK:
            return self._invoke(spec, event, logs)

    def _invoke(self, spec: FunctionSpec, event: dict[str, Any], logs: list[str] | None) -> Any:
        self._enter_function_env(spec)
        caller, self.running = self.running, spec  # sandbox.gaps.awslambda: nested calls
        _powertools_cold_start(spec.name not in self.warm)
        self.warm.add(spec.name)
        try:
            with self._as_role(spec):
                return self._run_handler(spec, event, logs)
        finally:
            self.running = caller

    def invoke_nested(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        """A synchronous invocation made by the function running now (it waits for the answer and holds the
        function lock): the callee runs with its own environment and role, then the caller's are put back."""
        saved_environ, saved_env = dict(os.environ), self._function_env
        try:
            return self._invoke(spec, event, None)
        finally:
            os.environ.clear()
            os.environ.update(saved_environ)
            self._function_env = saved_env

    @contextlib.contextmanager
    def _as_role(self, spec: FunctionSpec) -> Any:
        """The function signs with its role's credentials (sandbox.iam), as Lambda hands them to it in its
        environment; once it returns, the process is the sandbox's again (admin key): a scenario or test that
        builds a client afterwards must not sign as the last function."""
        import boto3

        creds = iam.credentials(iam.function_key(spec))
        saved_env = {k: os.environ.get(k) for k in creds}
        saved_session = boto3.DEFAULT_SESSION
        os.environ.update(creds)
        key = creds["AWS_ACCESS_KEY_ID"]
        if key not in self._sessions:
            self._sessions[key] = boto3.session.Session()  # resolves the credentials above on first use
        boto3.DEFAULT_SESSION = self._sessions[key]
        try:
            yield
        finally:
            boto3.DEFAULT_SESSION = saved_session
            for name, value in saved_env.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _run_handler(self, spec: FunctionSpec, event: dict[str, Any], logs: list[str] | None) -> Any:
        module_name, _, attr = spec.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attr)
        stream = io.StringIO()
        first_call = len(aws.CALLS)
        handlers = [h for h in logging.getLogger("remedy").handlers if isinstance(h, logging.StreamHandler)]
        previous = [h.setStream(stream) for h in handlers]
        try:
            with _thread_stdout(stream):  # print() output (EMF metrics) is logged too
                return handler(event, LambdaContext(function_name=spec.name, invoked_function_arn=spec.arn))
        finally:
            for h, old in zip(handlers, previous, strict=True):
                h.setStream(old)
            self.last_api_calls = [f"{service}:{operation}" for service, operation in aws.CALLS[first_call:]]
            lines = [line for line in stream.getvalue().splitlines() if line]
            emf.publish(self.client("cloudwatch"), lines)
            if logs is not None:
                logs.extend(lines)

    def invoke_async(self, spec: FunctionSpec, event: dict[str, Any]) -> Invocation:
        """EventBridge → Lambda is asynchronous: retried on error, then sent to the on-failure destination."""
        invocation = Invocation(function=spec.name, handler=spec.handler, attempts=0)
        for _ in range(spec.max_retries + 1):
            invocation.attempts += 1
            try:
                invocation.result = self.invoke(spec, event, invocation.logs)
                invocation.api_calls = self.last_api_calls
                invocation.error = None
                return invocation
            except Exception as error:
                invocation.error = f"{type(error).__name__}: {error}"
        if spec.on_failure_arn:
            self._send_on_failure(spec, event, invocation)
        return invocation

    def _send_on_failure(self, spec: FunctionSpec, event: dict[str, Any], invocation: Invocation) -> None:
        queue = spec.on_failure_arn.rsplit(":", 1)[1] if spec.on_failure_arn else ""
        sqs = self.client("sqs")
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        record = {  # the shape of Lambda's asynchronous invocation record
            "version": "1.0", "timestamp": datetime.now(UTC).isoformat(),
            "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": spec.arn,
                               "condition": "RetriesExhausted", "approximateInvokeCount": invocation.attempts},
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {"errorMessage": invocation.error},
        }
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))

    def function_environment(self, spec: FunctionSpec) -> dict[str, str]:
        """The function's environment here: its template's variables, this account's endpoint and its role's
        credentials (what `make bench` hands a fresh interpreter, and what an invocation here runs with)."""
        env = dict(spec.environment)
        # The asset carries catalog.json (see infra bundling); here the same JSON, written from its source: a
        # cold start parses JSON, as in Lambda, not YAML (sandbox.asset_catalog).
        from sandbox.asset_catalog import asset_catalog

        env["CATALOG_PATH"] = str(asset_catalog(Path(self.catalog_path), self.workdir))
        env.update(self.account.environ())
        env.update(iam.credentials(iam.function_key(spec)))  # its role's, not the sandbox's (sandbox.iam)
        if "redshift" in spec.handler:
            # A function that talks SQL to the cluster reaches the stand-in through REDSHIFT_HOST/PORT,
            # the configuration that points it at a VPC endpoint in AWS.
            from sandbox.redshift_wiring import attach_redshift

            attach_redshift(self)
        env.update(self.extra_env)
        return env

    def _enter_function_env(self, spec: FunctionSpec) -> None:
        from functions.core import runtime

        env = self.function_environment(spec)
        if env != self._function_env:
            os.environ.update(env)
            runtime.reset()  # a different function or account: a fresh cold start
            _cold_start()
            self._function_env = env

    # -- audit trail ----------------------------------------------------------------------------------

    def audit(self, incident_id: str | None = None) -> list[dict[str, Any]]:
        """The audit trail, oldest first; one incident's records if `incident_id` is given."""
        table = f"{self.catalog.prefix}-audit"
        ddb = self.client("dynamodb")
        if incident_id:
            pages = ddb.get_paginator("query").paginate(
                TableName=table, KeyConditionExpression="incident_id = :i",
                ExpressionAttributeValues={":i": {"S": incident_id}})
        else:
            pages = ddb.get_paginator("scan").paginate(TableName=table)
        items = [item for page in pages for item in page["Items"]]
        records = [{"incident_id": i["incident_id"]["S"], "seq": i["seq"]["S"], "kind": i["kind"]["S"],
                    "at": i["at"]["S"], "payload": json.loads(i["payload"]["S"])} for i in items]
        return sorted(records, key=lambda r: (r["seq"], r["incident_id"]))


def _powertools_cold_start(cold: bool) -> None:
    """Powertools keeps "first invocation of this container" in module globals (Logger's cold_start key, Metrics'
    ColdStart metric). In Lambda each function has containers of its own; here one process runs them all, so
    the flag is set per function: its first invocation in this account is the cold one, whatever ran before
    (a Slack notification delivered before a playbook's first event no longer takes the playbook's cold start)."""
    import sys

    for name in ("aws_lambda_powertools.metrics.provider.cold_start", "aws_lambda_powertools.metrics.base",
                 "aws_lambda_powertools.logging.logger"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "is_cold_start"):
            module.is_cold_start = cold


def _cold_start() -> None:
    """Forget what the function code cached for its container's life (clients signed with the last function's
    credentials among them): each Lambda function has containers of its own, this process runs them all."""
    import sys

    for name, module in list(sys.modules.items()):
        if not name.startswith("functions.") or module is None:
            continue
        known = _CACHES.get(name)
        if known is None or known[0] is not module:  # looked for once per module (4 % of a fault matrix's CPU)
            known = _CACHES[name] = (module, [value for value in list(vars(module).values())
                                              if callable(getattr(value, "cache_clear", None))
                                              and getattr(value, "__module__", "") == name])
        for cached in known[1]:
            cached.cache_clear()


# functions.* module name -> (the module, its functions that cache: functools.cache and lru_cache)
_CACHES: dict[str, tuple[Any, list[Any]]] = {}

"""The emulated AWS account: moto served on loopback, plus the APIs moto lacks that the product needs.

Production code reaches it only through endpoint configuration (AWS_ENDPOINT_URL). Every gap filled
here follows the AWS API's request and response shapes, so what works here works against AWS.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult

from sandbox.protocol_errors import error_body

_PATCHED = False
_LOCK = threading.Lock()

# Every (service, operation) the emulated account answered, in order: API calls per invocation are counted
# from it (a benchmark figure: as few calls as the diagnosis needs).
CALLS: list[tuple[str, str]] = []

# The same calls with who made them and how they were answered: (service, operation, access key id, HTTP
# status), S3 and the Health/Support fills included. The fault matrix (remedy.faults) tells the functions'
# calls from the sandbox's own by the access key.
CALLS_BY: list[tuple[str, str, str, int]] = []

# Fault injection: (service, operation) -> (error code, message, HTTP status or None, callers or None): the
# sandbox answers with that error, to every caller or only to requests signed with one of `callers`' access keys.
_INJECTED: dict[tuple[str, str], tuple[str, str, int | None, frozenset[str] | None]] = {}


def _glue_backend(response: Any) -> Any:
    return response.glue_backend


def _fill_glue() -> None:
    from moto.glue import models, responses
    from moto.glue.exceptions import ConcurrentRunsExceededException, EntityNotFoundException

    from sandbox import clock

    def settle(run: Any) -> None:
        # A requested stop has finished once the sandbox's clock has passed its duration.
        requested = getattr(run, "stop_requested_at", None)
        if run.status == "STOPPING" and clock.done(requested, "glue.stop"):
            run.status = "STOPPED"
            run.completed_on = run.modified_on = requested + timedelta(seconds=clock.DURATIONS["glue.stop"])

    original_start = models.FakeJob.start_job_run

    def start_job_run(self: Any, *args: Any, **kwargs: Any) -> str:
        # MaxConcurrentRuns (ExecutionProperty, default 1) counts every run that has not ended, STOPPING
        # included; AWS answers "Concurrent runs exceeded for <job>" (moto counts STARTING and RUNNING only).
        for run in self.job_runs:
            settle(run)
        active = [r for r in self.job_runs if r.status in ("STARTING", "RUNNING", "STOPPING", "WAITING")]
        if len(active) >= int((self.execution_property or {}).get("MaxConcurrentRuns", 1)):
            raise ConcurrentRunsExceededException(f"Concurrent runs exceeded for {self.name}")
        return str(original_start(self, *args, **kwargs))

    def advance(self: Any) -> None:
        settle(self)  # every read of a run (GetJobRun, GetJobRuns) sees its state at the sandbox's 'now'

    def batch_stop_job_run(self: Any) -> ActionResult:
        name = self.parameters.get("JobName")
        run_ids = self.parameters.get("JobRunIds", [])
        job = self.glue_backend.get_job(name)
        stopped, errors = [], []
        for run_id in run_ids:
            run = next((r for r in job.job_runs if r.job_run_id == run_id), None)
            if run is not None:
                settle(run)
            if run is None or run.status not in ("STARTING", "RUNNING", "WAITING"):
                errors.append({"JobName": name, "JobRunId": run_id, "ErrorDetail": {
                    "ErrorCode": "InvalidInputException",
                    "ErrorMessage": "Job run is not running" if run else "Job run not found"}})
                continue
            # AWS only requests the stop: the run is STOPPING (and still counts against MaxConcurrentRuns)
            # until it has stopped, sandbox.clock.DURATIONS["glue.stop"] later.
            run.status = "STOPPING"
            run.stop_requested_at = clock.now()
            run.modified_on = run.stop_requested_at
            stopped.append({"JobName": name, "JobRunId": run_id})
        return ActionResult({"SuccessfulSubmissions": stopped, "Errors": errors})

    def update_job(self: Any) -> ActionResult:
        # AWS replaces the whole definition with JobUpdate: omitted fields are reset, which is why the
        # product copies every field from GetJob. The emulation resets them too.
        name = self.parameters.get("JobName")
        update = self.parameters.get("JobUpdate", {})
        job = self.glue_backend.get_job(name)
        if "Role" not in update or "Command" not in update:
            raise EntityNotFoundException("JobUpdate must carry Role and Command (UpdateJob replaces the job)")
        job.role = update["Role"]
        job.command = update["Command"]
        job.description = update.get("Description")
        job.default_arguments = update.get("DefaultArguments", {})
        job.non_overridable_arguments = update.get("NonOverridableArguments")
        job.connections = update.get("Connections")
        job.max_retries = update.get("MaxRetries", 0)
        job.timeout = update.get("Timeout", 2880)
        job.worker_type = update.get("WorkerType")
        job.number_of_workers = update.get("NumberOfWorkers")
        job.glue_version = update.get("GlueVersion")
        job.execution_property = update.get("ExecutionProperty", {"MaxConcurrentRuns": 1})
        job.last_modified_on = datetime.now(UTC)
        return ActionResult({"JobName": name})

    original_get_job_runs = responses.GlueResponse.get_job_runs

    def get_job_runs(self: Any) -> Any:
        # AWS lists the newest run first and honours MaxResults; moto lists oldest first.
        job = self.glue_backend.get_job(self.parameters.get("JobName"))
        limit = int(self.parameters.get("MaxResults") or 100)
        runs = list(reversed(job.get_job_runs()))[:limit]
        return ActionResult({"JobRuns": [r.as_dict() for r in runs]})

    original_as_dict = models.FakeJobRun.as_dict

    def as_dict(self: Any) -> dict[str, Any]:
        settle(self)
        data: dict[str, Any] = original_as_dict(self)
        if getattr(self, "error_message", None):
            data["ErrorMessage"] = self.error_message
        if self.status in ("STARTING", "RUNNING", "WAITING", "STOPPING"):
            data.pop("CompletedOn", None)
        return data

    original_init = models.FakeJobRun.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        # A started run is RUNNING until it is stopped, or a scenario ends or fails it: streaming
        # jobs never finish by themselves.
        self.status = "RUNNING"
        self.error_message = None

    from moto.moto_api import state_manager

    # Runs change state only when something stops, fails or ends them (see init above), never by
    # being read: moto's default would advance every run to SUCCEEDED on the first GetJobRuns.
    state_manager.set_transition(model_name="glue::job_run", transition={"progression": "manual", "times": 10**9})
    responses.GlueResponse.batch_stop_job_run = batch_stop_job_run
    responses.GlueResponse.update_job = update_job
    responses.GlueResponse.get_job_runs = get_job_runs
    responses.GlueResponse._original_get_job_runs = original_get_job_runs
    models.FakeJobRun.as_dict = as_dict
    models.FakeJobRun.__init__ = init
    models.FakeJobRun.advance = advance
    models.FakeJob.start_job_run = start_job_run


def _fill_events() -> None:
    from moto.events import models, responses

    def test_event_pattern(self: Any) -> tuple[str, dict[str, str]]:
        pattern = models.EventPattern.load(self._get_param("EventPattern"))
        event = json.loads(self._get_param("Event"))
        return json.dumps({"Result": pattern.matches_event(event)}), self.response_headers

    responses.EventsHandler.test_event_pattern = test_event_pattern


def _fill_cloudwatch() -> None:
    from moto.cloudwatch import responses

    def describe_alarms(self: Any) -> ActionResult:
        # AWS applies every filter given (moto only the first of prefix / names / state) and AlarmTypes.
        alarms = list(self.cloudwatch_backend.describe_alarms())
        prefix = self._get_param("AlarmNamePrefix")
        names = self._get_param("AlarmNames", [])
        state = self._get_param("StateValue")
        action_prefix = self._get_param("ActionPrefix")
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]  # AWS's default: metric alarms only
        if prefix:
            alarms = [a for a in alarms if a.name.startswith(prefix)]
        if names:
            alarms = [a for a in alarms if a.name in names]
        if state:
            alarms = [a for a in alarms if a.state_value == state]
        if action_prefix:
            alarms = [a for a in alarms if any(x.startswith(action_prefix) for x in a.alarm_actions)]
        metric = [a for a in alarms if a.rule is None] if "MetricAlarm" in types else []
        composite = [a for a in alarms if a.rule is not None] if "CompositeAlarm" in types else []
        return ActionResult({"MetricAlarms": metric, "CompositeAlarms": composite})

    def put_composite_alarm(self: Any) -> ActionResult:
        alarm = self.cloudwatch_backend.put_metric_alarm(
            name=self._get_param("AlarmName"), namespace=None, metric_name=None, comparison_operator=None,
            evaluation_periods=None, period=None, threshold=None, statistic=None,
            description=self._get_param("AlarmDescription"), dimensions=[],
            alarm_actions=self._get_param("AlarmActions", []), ok_actions=self._get_param("OKActions", []),
            insufficient_data_actions=self._get_param("InsufficientDataActions", []),
            actions_enabled=self._get_param("ActionsEnabled", True), rule=self._get_param("AlarmRule"),
            tags=self._get_param("Tags", []))
        alarm.state_value = "INSUFFICIENT_DATA"  # a new composite has not been evaluated yet
        alarm.actions_suppressor = self._get_param("ActionsSuppressor")
        return ActionResult({})

    responses.CloudWatchResponse.describe_alarms = describe_alarms
    responses.CloudWatchResponse.put_composite_alarm = put_composite_alarm


SERVER_ERRORS = {"InternalFailure", "InternalServerError", "ServiceUnavailable", "InternalServerException"}


def _fill_fault_injection() -> None:
    """Answer selected operations with an AWS error, to rehearse what happens when AWS says no."""
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action

    def call_action(self: Any) -> Any:
        key = (self.service_name or "", self._get_action() if hasattr(self, "_get_action") else "")
        CALLS.append(key)
        caller = _access_key(self.headers.get("Authorization", ""))
        # IAM first (sandbox.iam): a principal's call its role does not allow is denied before anything else.
        fault = _iam().check_moto(self, caller) or _fault_for(key, caller, self.headers.get("Content-Type", ""))
        answer = fault or original(self)
        CALLS_BY.append((*key, caller, _status_of(answer)))
        return answer

    BaseResponse.call_action = call_action
    _fill_s3_fault_injection()


def _iam() -> Any:
    from sandbox import iam

    return iam


def _access_key(authorization: str) -> str:
    """The access key id of a SigV4 `Authorization` header ('' when unsigned)."""
    _, found, rest = authorization.partition("Credential=")
    return rest.split("/", 1)[0] if found else ""


def _status_of(answer: Any) -> int:
    try:
        return int(answer[0]) if isinstance(answer, tuple) else 200
    except (TypeError, ValueError):
        return 200


def _fault_for(key: tuple[str, str], caller: str, content_type: str) -> tuple[int, dict[str, str], Any] | None:
    """The injected error answer for this call, if one is armed for it (and for this caller)."""
    armed = _INJECTED.get(key)
    if armed is None:
        return None
    code, message, status, callers = armed
    if callers is not None and caller not in callers:
        return None
    if status is None:
        status = (503 if code == "ServiceUnavailable" else 500) if code in SERVER_ERRORS else 400
    headers, body = error_body(content_type, key[0], code, message)
    headers["status"] = str(status)
    return status, headers, body


def _fill_s3_fault_injection() -> None:
    """moto's S3 answers outside BaseResponse.call_action: its calls are recorded (in CALLS_BY only: CALLS, the
    benchmark's count, leaves S3 out) and faults injected here, the operation named by S3's REST routes."""
    from moto.core.routing import get_service_router
    from moto.s3.responses import S3Response

    def operation_of(request: Any) -> str:
        try:
            return str(get_service_router("s3").match(request)[0].name)
        except Exception:
            return ""

    def wrap(original: Any) -> Any:
        def respond(self: Any, request: Any, full_url: str, headers: Any) -> Any:
            key = ("s3", operation_of(request))
            caller = _access_key(request.headers.get("Authorization", ""))
            fault = _iam().check_s3(request, full_url, key[1], caller) or _fault_for(key, caller, "")
            answer = fault or original(self, request, full_url, headers)
            CALLS_BY.append((*key, caller, _status_of(answer)))
            return answer

        return respond

    S3Response.bucket_response = wrap(S3Response.bucket_response)
    S3Response.key_response = wrap(S3Response.key_response)


def _fill_global_fault_injection() -> None:
    """AWS Health and Support are answered before moto's routing (sandbox.gaps_procedures): their calls are
    recorded and faults injected in front of that fill (JSON protocol, the operation in X-Amz-Target)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
        service = next((s for s in ("health", "support") if f"/{s}/aws4_request" in authorization), None)
        if service is None:
            return original(self, environ, start_response)
        key = (service, str(environ.get("HTTP_X_AMZ_TARGET", "")).rsplit(".", 1)[-1])
        caller = _access_key(authorization)
        fault = _iam().check_global(service, key[1], caller) or _fault_for(key, caller, "application/x-amz-json-1.1")
        if fault is None:
            statuses: list[int] = []

            def recording(status: str, headers: Any, *args: Any) -> Any:
                statuses.append(int(status.split(maxsplit=1)[0]))
                return start_response(status, headers, *args)

            answer = original(self, environ, recording)
            CALLS_BY.append((*key, caller, statuses[0] if statuses else 200))
            return answer
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)  # the request is answered, not left half read
        status, headers, body = fault
        headers.pop("status", None)
        CALLS_BY.append((*key, caller, status))
        start_response(f"{status} Injected", list(headers.items()))
        return [body.encode() if isinstance(body, str) else body]

    DomainDispatcherApplication.__call__ = call


def _fill_kafka_arn() -> None:
    """An MSK cluster's ARN names the cluster, as AWS's does (`cluster/<name>/<uuid>`, the IAM service reference's
    `kafka` cluster resource type); moto's leaves the name out, which no grant on `cluster/<name>/*` would match."""
    from moto.kafka import models
    from moto.utilities.utils import get_partition

    def generate_arn(self: Any) -> str:
        kind = "cluster" if self.cluster_type == "PROVISIONED" else "serverless-cluster"
        return (f"arn:{get_partition(self.region_name)}:kafka:{self.region_name}:{self.account_id}:"
                f"{kind}/{self.cluster_name}/{self.cluster_id}")

    models.FakeKafkaCluster._generate_arn = generate_arn


def _fill_module_list() -> None:
    """moto's server lists its own package directory (listdir + isdir of ~150 entries) on every request to
    route it: listed once, the same answer."""
    from moto import backends

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


def install_gap_fills() -> None:
    global _PATCHED
    with _LOCK:
        if _PATCHED:
            return
        _fill_module_list()
        _fill_glue()
        _fill_events()
        _fill_cloudwatch()
        _fill_fault_injection()
        _fill_kafka_arn()
        __import__("sandbox.gaps_glue_failure").gaps_glue_failure.install()  # glue_job_failure, data_quality
        __import__("sandbox.gaps_procedures").gaps_procedures.install()  # emergency and scaling procedures
        __import__("sandbox.gaps_maintenance").gaps_maintenance.install()  # DescribeAlarmHistory (weekly review)
        __import__("sandbox.gaps.awslambda").gaps.awslambda.install()  # Invoke of deployed functions (approvals)
        __import__("sandbox.gaps_doctor").gaps_doctor.install()  # what remedy doctor reads (after gaps_procedures)
        _fill_global_fault_injection()  # in front of the Health/Support fill
        _PATCHED = True


@contextmanager
def inject_error(service: str, operation: str, code: str, message: str = "injected by the sandbox",
                 status: int | None = None, callers: Collection[str] | None = None) -> Iterator[None]:
    """While active, `service`'s `operation` (e.g. ("glue", "StartJobRun")) answers with AWS error `code`
    (HTTP `status`: by default 503 for ServiceUnavailable, 500 for the other server errors, else 400), to every
    request or only to those signed with one of `callers`' access key ids."""
    _INJECTED[(service, operation)] = (code, message, status, frozenset(callers) if callers is not None else None)
    try:
        yield
    finally:
        _INJECTED.pop((service, operation), None)


class EmulatedAccount:
    """moto on 127.0.0.1 (ephemeral port) with the gap fills installed; `environ()` points boto3 at it."""

    def __init__(self, account_id: str, region: str):
        self.account_id = account_id
        self.region = region
        self._server: Any = None
        self.endpoint = ""
        self._clients: dict[tuple[str, str], Any] = {}

    def start(self) -> EmulatedAccount:
        if self._server is not None:
            return self
        os.environ["MOTO_ACCOUNT_ID"] = self.account_id  # moto's default account becomes the catalog's
        # Nothing here launches instances: without moto's ~4,000 default AMIs a reset (and a checkpoint of the
        # account, sandbox.checkpoint) is cheaper.
        os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        install_gap_fills()
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    @property
    def running(self) -> bool:
        return self._server is not None

    def environ(self) -> dict[str, str]:
        """What a process needs to talk to this account: configuration, not code."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "sandbox",
            "AWS_SECRET_ACCESS_KEY": "sandbox",
            "AWS_SESSION_TOKEN": "sandbox",
        }

    def client(self, service: str) -> Any:
        """One client per service for the sandbox's own calls (a client costs ~10 ms to create)."""
        import boto3

        key = (service, self.endpoint)
        if key not in self._clients:
            env = self.environ()
            self._clients[key] = boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                                              aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                              aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                              aws_session_token=env["AWS_SESSION_TOKEN"])
        return self._clients[key]

    def reset(self) -> None:
        """Forget every resource (a new, empty account), keeping the server and the gap fills."""
        from moto.core.base_backend import BackendDict

        BackendDict.reset()

    def glue_backend(self) -> Any:
        from moto.glue.models import glue_backends

        return glue_backends[self.account_id][self.region]

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

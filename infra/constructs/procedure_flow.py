"""Building one procedure's Standard state machine with the conventions every procedure follows:

- every task has a Retry for service errors and a Catch into ONE failure path: a per-state Pass records which
  state failed, then `NotifyFailure` (the report step: what failed, what was done, what is left by hand) and
  the Fail state, whose error and cause the report decides (Remedy.StepFailed / Remedy.Rejected /
  Remedy.ApprovalTimedOut);
- approval is a `.waitForTaskToken` Lambda task: HeartbeatSecondsPath is the input's answer window
  (no answer, or heartbeat, in time: the failure path), TimeoutSeconds a hard cap of a day;
- simple AWS calls are direct service integrations (aws-sdk); the role of the state machine is collected
  from them: each adds exactly its IAM action on its resources, plus log delivery and X-Ray. Nothing else.
- logging at level ALL (execution data included) and X-Ray tracing are on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from infra.constructs.procedure_permissions import NO_RESOURCE_LEVEL
from infra.nag import acknowledge
from infra.permissions import Statement

LAMBDA_TASK_TIMEOUT = Duration.seconds(150)  # the step functions' own timeout is 120 s
SDK_TASK_TIMEOUT = Duration.seconds(60)
APPROVAL_HARD_CAP = Duration.days(1)  # HeartbeatSecondsPath (the answer window) must stay below it
RUN_TIMEOUT = Duration.days(3)  # a day of waiting for a person plus a long resize or restore
# aws-sdk integrations name errors <Service>.<Exception> (PascalCase, "Exception" appended); these are the
# transient ones worth another try (throttling, the service's own failures).
TRANSIENT: dict[str, tuple[str, ...]] = {
    "glue": ("Glue.ThrottlingException", "Glue.InternalServiceException", "Glue.OperationTimeoutException"),
    "redshift": ("Redshift.ThrottlingException", "Redshift.InternalServiceException"),
    "kafka": ("Kafka.TooManyRequestsException", "Kafka.InternalServerErrorException",
              "Kafka.ServiceUnavailableException"),
    "iam": ("Iam.ThrottlingException", "Iam.ServiceFailureException"),
    "ec2": ("Ec2.RequestLimitExceededException", "Ec2.InternalErrorException", "Ec2.UnavailableException"),
    "secretsmanager": ("SecretsManager.InternalServiceErrorException", "SecretsManager.ThrottlingException"),
    "dynamodb": ("DynamoDb.ProvisionedThroughputExceededException", "DynamoDb.ThrottlingException",
                 "DynamoDb.InternalServerErrorException", "DynamoDb.RequestLimitExceededException"),
    "sns": ("Sns.ThrottledException", "Sns.InternalErrorException"),
}
APPROVAL = "Approval"


class ProcedureFlow:
    """States of one procedure; `grants` collects what its state machine's role needs, state by state."""

    def __init__(self, scope: Construct, procedure: str, step_functions: Mapping[str, lambda_.IFunction],
                 report: lambda_.IFunction):
        self.scope = scope
        self.procedure = procedure
        self.step_functions = step_functions
        self.grants: list[Statement] = []
        self._invoked: set[str] = set()
        self.failure = self._failure_path(report)
        self._report = report
        self._report_state: tasks.LambdaInvoke | None = None

    # -- grants ---------------------------------------------------------------------------------------

    def grant(self, sid: str, actions: Sequence[str], resources: Sequence[str], reason: str = "") -> None:
        self.grants.append(Statement(sid, tuple(sorted(set(actions))), tuple(resources), wildcard_reason=reason))

    def _invokes(self, function: lambda_.IFunction) -> None:
        self._invoked.add(function.function_arn)

    # -- the one failure path -------------------------------------------------------------------------

    def _failure_path(self, report: lambda_.IFunction) -> sfn.IChainable:
        notify = tasks.LambdaInvoke(
            self.scope, "NotifyFailure", state_name="NotifyFailure", lambda_function=report,
            payload=sfn.TaskInput.from_object({"mode": "failed", "procedure": self.procedure,
                                               "state": sfn.JsonPath.entire_payload,
                                               "execution": sfn.JsonPath.string_at("$$.Execution.Id")}),
            payload_response_only=True, result_path="$.outcome", task_timeout=sfn.Timeout.duration(LAMBDA_TASK_TIMEOUT))
        self._invokes(report)
        failed = sfn.Fail(self.scope, "Failed", state_name="Failed", error_path="$.outcome.error",
                          cause_path="$.outcome.cause")
        unreported = sfn.Fail(self.scope, "FailedUnreported", state_name="FailedUnreported",
                              error="Remedy.ReportFailed",
                              cause="the procedure failed and its failure report could not be sent: see the history")
        notify.add_catch(unreported, errors=["States.ALL"], result_path="$.report_error")
        return notify.next(failed)

    def catch(self, state: Any, name: str) -> None:
        """Every failure of `state` goes to the failure path, with which state it was."""
        mark = sfn.Pass(self.scope, f"{name}Failed", state_name=f"{name} failed",
                        result=sfn.Result.from_object({"step": name}), result_path="$.failed")
        mark.next(self.failure)
        state.add_catch(mark, errors=["States.ALL"], result_path="$.failure")

    def fail_with(self, name: str, step: str, error: str, cause: str = "", cause_path: str = "") -> sfn.Pass:
        """A Choice's 'not as expected' branch: into the failure path as if `step` had failed."""
        note = sfn.Pass(self.scope, name, state_name=name, result_path="$.failure",
                        parameters={"Error": error,
                                    "Cause": sfn.JsonPath.string_at(cause_path) if cause_path else cause})
        mark = sfn.Pass(self.scope, f"{name}Step", state_name=f"{name} at {step}",
                        result=sfn.Result.from_object({"step": step}), result_path="$.failed")
        note.next(mark)
        mark.next(self.failure)
        return note

    # -- states ---------------------------------------------------------------------------------------

    def _payload(self, name: str, extra: Mapping[str, Any] | None = None) -> sfn.TaskInput:
        return sfn.TaskInput.from_object({"step": name, "procedure": self.procedure,
                                          "state": sfn.JsonPath.entire_payload,
                                          "execution": sfn.JsonPath.string_at("$$.Execution.Id"), **(extra or {})})

    def lambda_step(self, name: str, step_function: str, result_path: str | None = None) -> tasks.LambdaInvoke:
        function = self.step_functions[step_function]
        task = tasks.LambdaInvoke(
            self.scope, name, state_name=name, lambda_function=function, payload=self._payload(name),
            payload_response_only=True, result_path=result_path or f"$.results.{name}",
            retry_on_service_exceptions=True,  # Lambda.ServiceException & co: 6 tries, backing off from 2 s
            task_timeout=sfn.Timeout.duration(LAMBDA_TASK_TIMEOUT))
        self._invokes(function)
        self.catch(task, name)
        return task

    def approval(self, name: str = APPROVAL) -> sfn.Chain:
        """Ask on call (the approval step records the token) and wait; go on only if the answer approved.
        The returned chain continues (`.next`) after the approval. `name`: the procedure's own approval, or a
        gate's (a change freeze asks before each changing step)."""
        function = self.step_functions["approval"]
        suffix = "" if name == APPROVAL else f" {name}"
        ask = tasks.LambdaInvoke(
            self.scope, name, state_name=name, lambda_function=function,
            integration_pattern=sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
            payload=self._payload(name, {"token": sfn.JsonPath.task_token}),
            heartbeat_timeout=sfn.Timeout.at("$.approval_timeout_seconds"),
            task_timeout=sfn.Timeout.duration(APPROVAL_HARD_CAP), result_path="$.approval",
            retry_on_service_exceptions=True)
        self._invokes(function)
        self.catch(ask, name)
        approved = sfn.Choice(self.scope, f"Approved{suffix}", state_name=f"Approved{suffix}")
        go = sfn.Pass(self.scope, f"Go{suffix}", state_name=f"Go{suffix}")
        approved.when(sfn.Condition.boolean_equals("$.approval.approved", True), go)
        approved.otherwise(self.fail_with(f"NotApproved{suffix.replace(' ', '')}", name, "Remedy.Rejected",
                                          cause="the answer to the approval did not approve"))
        ask.next(approved)
        return sfn.Chain.custom(ask, [go], go)

    def gate(self, step: str) -> sfn.Chain:
        """Before the changing step `step`: the guard's kill switch and change freezes (functions/procedures/
        gate.py). GO goes on; HELD waits `$.poll_seconds` and asks again (turning the switch off lets the run
        go on); APPROVE (a freeze) asks a person first; STOPPED (held too long) ends in the failure path with
        the reason. The returned chain continues (`.next`) with the step."""
        name = f"Gate{step}"
        function = self.step_functions["gate"]
        ask = tasks.LambdaInvoke(
            self.scope, name, state_name=name, lambda_function=function,
            payload=self._payload(name, {"guards": step}), payload_response_only=True, result_path="$.gate",
            retry_on_service_exceptions=True, task_timeout=sfn.Timeout.duration(LAMBDA_TASK_TIMEOUT))
        self._invokes(function)
        self.catch(ask, name)
        verdict = sfn.Choice(self.scope, f"{name}Verdict", state_name=f"{name} verdict")
        go = sfn.Pass(self.scope, f"{name}Go", state_name=f"{name} go")
        held = sfn.Wait(self.scope, f"{name}Held", state_name=f"{name} held",
                        time=sfn.WaitTime.seconds_path("$.poll_seconds"))
        held.next(ask)
        frozen = self.approval(f"Approval{step}")
        frozen.next(go)
        verdict.when(sfn.Condition.string_equals("$.gate.verdict", "GO"), go)
        verdict.when(sfn.Condition.string_equals("$.gate.verdict", "HELD"), held)
        verdict.when(sfn.Condition.string_equals("$.gate.verdict", "APPROVE"), frozen)
        verdict.otherwise(self.fail_with(f"{name}Stopped", step, "Remedy.KillSwitch", cause_path="$.gate.reason"))
        ask.next(verdict)
        return sfn.Chain.custom(ask, [go], go)

    def sdk_step(self, name: str, *, service: str, action: str, iam_action: str, resources: Sequence[str],
                 parameters: Mapping[str, Any], result_selector: Mapping[str, Any] | None = None,
                 result_path: str | None = None, reason: str = "", catch: bool = True) -> tasks.CallAwsService:
        task = tasks.CallAwsService(
            self.scope, name, state_name=name, service=service, action=action, iam_action=iam_action,
            iam_resources=list(resources), parameters=dict(parameters),
            result_selector=dict(result_selector) if result_selector else None,
            result_path=result_path if result_path is not None else f"$.results.{name}",
            task_timeout=sfn.Timeout.duration(SDK_TASK_TIMEOUT))
        transient = TRANSIENT.get(service, ())
        if transient:
            task.add_retry(errors=list(transient), interval=Duration.seconds(2), max_attempts=3, backoff_rate=2)
        if any("*" in r for r in resources) and not reason:
            raise ValueError(f"{name}: {iam_action} on a wildcard resource needs a reason")
        self.grant(f"{name.replace(' ', '')}", [iam_action], resources, reason)
        if catch:
            self.catch(task, name)
        return task

    def map_step(self, name: str, *, items_path: str, item: sfn.IChainable, result_path: str | None = None,
                 item_selector: Mapping[str, Any] | None = None) -> sfn.Map:
        state = sfn.Map(self.scope, name, state_name=name, items_path=items_path, max_concurrency=1,
                        item_selector=dict(item_selector) if item_selector else None,
                        result_path=result_path or f"$.results.{name}")
        state.item_processor(item)
        self.catch(state, name)
        return state

    def report(self) -> sfn.IChainable:
        """The success path's last step (one state, however many branches lead to it)."""
        if self._report_state is not None:
            return self._report_state
        task = tasks.LambdaInvoke(
            self.scope, "Report", state_name="Report", lambda_function=self._report,
            payload=sfn.TaskInput.from_object({"mode": "succeeded", "procedure": self.procedure,
                                               "state": sfn.JsonPath.entire_payload,
                                               "execution": sfn.JsonPath.string_at("$$.Execution.Id")}),
            payload_response_only=True, result_path="$.outcome", retry_on_service_exceptions=True,
            task_timeout=sfn.Timeout.duration(LAMBDA_TASK_TIMEOUT))
        self.catch(task, "Report")
        task.next(sfn.Succeed(self.scope, "Done", state_name="Done"))
        self._report_state = task
        return task

    def wait(self, name: str) -> sfn.Wait:
        return sfn.Wait(self.scope, name, state_name=name, time=sfn.WaitTime.seconds_path("$.poll_seconds"))

    def bounded_poll(self, name: str, check: sfn.IChainable, *, step: str, what: str,
                     on_timeout: sfn.IChainable | None = None) -> tuple[sfn.Pass, sfn.Pass]:
        """A poll loop for something AWS finishes later (a resize, a broker update, a restore, a stop) that
        never assumes it finished and never waits forever: (first, again). `first` sets the count to 0 (the
        caller goes on from it to the first check); the check's 'not yet' branch goes to `again`: count one
        more poll, end in the failure path (or `on_timeout`, inside a Map) once `$.max_polls` (the input's
        max_wait_minutes) are spent, else wait `$.poll_seconds` and check again."""
        counter = f"$.polls_{name}"
        first = sfn.Pass(self.scope, f"{name}Start", state_name=f"{name} start", result_path=counter,
                         result=sfn.Result.from_object({"n": 0}))
        again = sfn.Pass(self.scope, f"{name}Count", state_name=f"{name} count", result_path=counter,
                         parameters={"n": sfn.JsonPath.math_add(sfn.JsonPath.number_at(f"{counter}.n"), 1)})
        bound = sfn.Choice(self.scope, f"{name}Bound", state_name=f"{name} bound")
        timeout = on_timeout or self.fail_with(
            f"{name}TimedOut", step, "Remedy.WaitTimedOut",
            cause=f"{what} had not finished after the input's max_wait_minutes: check it by hand")
        wait = self.wait(name)
        bound.when(sfn.Condition.number_greater_than_json_path(f"{counter}.n", "$.max_polls"), timeout)
        bound.otherwise(wait)
        again.next(bound)
        wait.next(check)
        return first, again

    # -- the state machine ----------------------------------------------------------------------------

    def role_statements(self) -> list[Statement]:
        xray = ("xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords",
                "xray:PutTraceSegments")
        delivery = tuple(a for a in NO_RESOURCE_LEVEL if a.startswith("logs:"))
        return [
            Statement("InvokeSteps", ("lambda:InvokeFunction",), tuple(sorted(self._invoked))),
            *self.grants,
            Statement("LogDelivery", tuple(sorted(delivery)), ("*",), wildcard_reason=NO_RESOURCE_LEVEL[delivery[0]]),
            Statement("Traces", xray, ("*",), wildcard_reason=NO_RESOURCE_LEVEL["xray:GetSamplingRules"]),
        ]


class ProcedureStateMachine(Construct):
    """A Standard state machine whose role holds exactly `flow.role_statements()`."""

    def __init__(self, scope: Construct, construct_id: str, *, flow: ProcedureFlow, definition: sfn.IChainable,
                 state_machine_name: str, log_group_name: str, log_retention: logs.RetentionDays, retain_logs: bool,
                 comment: str):
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=log_group_name, retention=log_retention,
                                       removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY)
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
                             description=f"{state_machine_name}: exactly the calls its states make")
        self.statements = flow.role_statements()
        self.policy = iam.Policy(self, "Policy", statements=[s.to_iam() for s in self.statements], roles=[self.role])
        for statement in self.statements:
            for resource in statement.resources:
                if "*" in resource:
                    acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{resource}]", statement.wildcard_reason)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine",
            state_machine_name=state_machine_name,
            state_machine_type=sfn.StateMachineType.STANDARD,  # .waitForTaskToken; exactly-once steps
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            comment=comment,
            timeout=RUN_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
            role=self.role.without_policy_updates(),  # the role is complete as collected
        )
        self.state_machine.node.add_dependency(self.policy)

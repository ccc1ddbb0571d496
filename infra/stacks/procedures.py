"""ProceduresStack (<prefix>-procedures): the runbook's Emergency Procedures and Scaling as Standard Step
Functions state machines (one per procedure, functions/procedures PROCEDURES), their step functions (one role
each, exactly the declared grants), the approvals table, and the starts by an alarm (ALARM_STARTS): a rule per
alarm to the starter function.

The audit table and the on-call topic live in the remediation stack under fixed names: referenced by ARN
(the app adds the stack dependency), not through exports that would pin them.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from functions.core.catalog import Catalog
from functions.procedures import (
    ALARM_STARTS,
    PROCEDURES,
    STARTER,
    STEP_FUNCTIONS,
    state_machine_name,
    step_function_name,
)
from infra import names
from infra.bundling import CATALOG_PATH_IN_LAMBDA, function_code
from infra.constructs.answers import AnswerFunction, ResponderPolicy
from infra.constructs.lambda_function import MAX_EVENT_AGE, AsyncDelivery, RemedyFunction
from infra.constructs.procedure_approvals import ApprovalsTable
from infra.constructs.procedure_flow import ProcedureFlow, ProcedureStateMachine
from infra.constructs.procedure_function import ProcedureStepFunction
from infra.constructs.procedure_permissions import (
    NO_RESOURCE_LEVEL,
    PRINCIPALS_REASON,
    approvals_table,
    glue_role_arns,
    scope_arns,
    state_machine_log_group,
    step_log_group,
    step_statements,
)
from infra.powertools import powertools_layer_arn
from infra.signals import service_composite_specs

ROLLBACK_POINT = "rollback_point"


def _logical(name: str) -> str:
    return "".join(part.title() for part in name.replace("-", "_").split("_"))


class ProceduresStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, powertools_layer_version: int,
                 log_retention: logs.RetentionDays, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        self.catalog = catalog
        retain = catalog.env == "prod"
        self.approvals = ApprovalsTable(self, "Approvals", table_name=approvals_table(catalog), retain=retain)
        code = function_code(catalog)
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", powertools_layer_arn(catalog, powertools_layer_version))
        environment = {  # exactly functions.procedures.runtime.ProcedureSettings, plus Powertools' own
            "CATALOG_PATH": CATALOG_PATH_IN_LAMBDA,
            "AUDIT_TABLE": names.audit_table(catalog),
            "APPROVALS_TABLE": self.approvals.table.table_name,
            "TOPIC_ARN": names.topic_arn(catalog),
            "BREAKER_TABLE": names.breaker_table(catalog),  # the gate reads ad-hoc freezes there (issue 14)
            "POWERTOOLS_SERVICE_NAME": "remedy",
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        # The report alone pages the escalation target (an approval nobody answered); only its role may publish there.
        own = {"report": {"ESCALATION_TOPIC_ARN": names.escalation_topic_arn(catalog)}}
        self.step_functions: dict[str, ProcedureStepFunction] = {}
        for name, declaration in STEP_FUNCTIONS.items():
            self.step_functions[name] = ProcedureStepFunction(
                self, f"Step{_logical(name)}",
                function_name=step_function_name(catalog.prefix, name),
                log_group_name=step_log_group(catalog, name), handler=declaration.handler,
                description=f"Procedure step: {declaration.summary}", code=code, layers=[powertools],
                environment={**environment, **own.get(name, {})}, statements=step_statements(catalog, declaration),
                log_retention=log_retention, retain_logs=retain)
        self.approval_sweep = self._approval_sweep(self.step_functions["approval"].function)
        functions = {name: step.function for name, step in self.step_functions.items()}
        builders = {"service-outage": self._service_outage, "data-corruption": self._data_corruption,
                    "security-incident": self._security_incident, "scale-glue": self._scale_glue,
                    "scale-msk": self._scale_msk, "scale-redshift": self._scale_redshift}
        self.state_machines: dict[str, ProcedureStateMachine] = {}
        for procedure, declaration in PROCEDURES.items():
            holder = Construct(self, _logical(procedure))
            flow = ProcedureFlow(holder, procedure, functions, functions["report"])
            definition = builders[procedure](flow)
            self.state_machines[procedure] = ProcedureStateMachine(
                holder, "Machine", flow=flow, definition=definition,
                state_machine_name=state_machine_name(catalog.prefix, procedure),
                log_group_name=state_machine_log_group(catalog, procedure), log_retention=log_retention,
                retain_logs=retain, comment=f"Runbook: {declaration.runbook_section}. {declaration.title}")
        self.starter, self.start_rules = self._alarm_starts(code, powertools, environment, log_retention, retain)
        # People's answers (the CLI's signed URL requests, the Slack function's invocations): one path, one role.
        self.answer = AnswerFunction(self, "Answers", catalog=catalog, code=code, layers=[powertools],
                                     environment={k: v for k, v in environment.items() if k != "TOPIC_ARN"},
                                     log_retention=log_retention, retain_logs=retain)
        self.responder = ResponderPolicy(self, "Responders", catalog=catalog)

    # -- reminders ------------------------------------------------------------------------------------

    def _approval_sweep(self, approval: lambda_.IFunction) -> events.Rule:
        """Every five minutes the approval step reminds on call of the approvals still unanswered at half their
        window (functions.procedures.approval.sweep); their lapse is the state machine's own heartbeat. A
        reminder may be up to five minutes late. No retry and no DLQ: the next sweep replaces a lost one, and
        what it reminds is in the approvals table, not in the event."""
        rule = events.Rule(
            self, "ApprovalSweep", rule_name=f"{self.catalog.prefix}-approval-sweep",
            description="Every 5 minutes: procedure approvals unanswered at half their window are asked again",
            schedule=events.Schedule.rate(Duration.minutes(5)))
        rule.add_target(targets.LambdaFunction(approval, retry_attempts=0, max_event_age=Duration.minutes(5)))
        return rule

    # -- started by an alarm --------------------------------------------------------------------------

    def _alarm_starts(self, code: lambda_.Code, powertools: lambda_.ILayerVersion, environment: dict[str, str],
                      log_retention: logs.RetentionDays, retain: bool) -> tuple[RemedyFunction | None,
                                                                                 dict[str, events.Rule]]:
        """Per alarm that starts a procedure (ALARM_STARTS, when the catalog has that alarm): a rule on its
        change to ALARM -> the starter function. Not the rule's Step Functions target: it cannot name the
        execution, so a redelivered event would start a second run (functions/procedures/start.py)."""
        catalog = self.catalog
        alarms = {s.signal: s.name for s in service_composite_specs(catalog) if s.signal in ALARM_STARTS}
        if not alarms:
            return None, {}
        starter = RemedyFunction(
            self, "Starter", function_name=step_function_name(catalog.prefix, STARTER.name),
            log_group_name=step_log_group(catalog, STARTER.name), handler=STARTER.handler,
            description=f"Procedure start: {STARTER.summary}", code=code, layers=[powertools],
            environment=environment, statements=step_statements(catalog, STARTER), log_retention=log_retention,
            retain_logs=retain, role_description=f"{step_function_name(catalog.prefix, STARTER.name)}: exactly "
                                                 f"what the starter declares (functions/procedures STARTER)",
            timeout=Duration.seconds(30),  # four calls: ListExecutions, StartExecution, DescribeExecution, PutItem
            # EventBridge -> Lambda is asynchronous: two retries, then the unhandled-events queue.
            delivery=AsyncDelivery(on_failure_arn=names.queue_arn(catalog)))
        rules = {}
        for signal, alarm in alarms.items():
            procedure = ALARM_STARTS[signal].procedure
            rule = events.Rule(
                self, f"Start{_logical(procedure)}", rule_name=f"{catalog.prefix}-start-{procedure}",
                description=f"{alarm} to ALARM -> start procedure {procedure} (once per state change)",
                event_pattern=events.EventPattern(
                    source=["aws.cloudwatch"], detail_type=["CloudWatch Alarm State Change"],
                    detail={"alarmName": [alarm], "state": {"value": ["ALARM"]}}))
            # EventBridge retries a failed delivery (throttling, Lambda unavailable); the function's own failures
            # are Lambda's retries, then its on-failure destination. No target DLQ: the queue is the remediation
            # stack's, and its policy admits that stack's rules only.
            rule.add_target(targets.LambdaFunction(starter.function, retry_attempts=10, max_event_age=MAX_EVENT_AGE))
            rules[procedure] = rule
        return starter, rules

    # -- shared pieces --------------------------------------------------------------------------------

    def _record_rollback_point(self, flow: ProcedureFlow, name: str, payload_path: str, resource_path: str,
                               incident_path: str = "$.incident_id", catch: bool = True) -> Any:
        """The audit trail's rollback point: what the resource was before the change (direct DynamoDB put,
        keyed by the state's entry time: a retry of the state writes the same item)."""
        audit_table = names.audit_table(self.catalog)
        return flow.sdk_step(
            name, service="dynamodb", action="putItem", iam_action="dynamodb:PutItem",
            resources=scope_arns(self.catalog, "audit_table")[0],
            parameters={"TableName": audit_table, "Item": {
                "incident_id": {"S": sfn.JsonPath.string_at(incident_path)},
                "seq": {"S": sfn.JsonPath.format("{}#rollback-point#{}", sfn.JsonPath.string_at("$$.State.EnteredTime"),
                                                 sfn.JsonPath.string_at(resource_path))},
                "kind": {"S": ROLLBACK_POINT},
                "at": {"S": sfn.JsonPath.string_at("$$.State.EnteredTime")},
                "payload": {"S": sfn.JsonPath.json_to_string(sfn.JsonPath.object_at(payload_path))},
            }},
            result_selector={"at": sfn.JsonPath.string_at("$$.State.EnteredTime")}, catch=catch,
            result_path=None if catch else sfn.JsonPath.DISCARD)

    def _glue_jobs(self) -> tuple[str, ...]:
        return scope_arns(self.catalog, "glue_jobs")[0]

    # -- Emergency Procedures / Service Outage --------------------------------------------------------

    def _service_outage(self, flow: ProcedureFlow) -> sfn.IChainable:
        scope = flow.scope
        assess = flow.lambda_step("GatherEvidence", "outage_assess", result_path="$.plan")
        record = self._record_rollback_point(flow, "RecordRollbackPoint", "$.job.rollback_point", "$.job.job",
                                             catch=False)  # inside the Map: the Map's Catch covers it
        update = flow.sdk_step(
            "RollbackJob", service="glue", action="updateJob", iam_action="glue:UpdateJob",
            resources=self._glue_jobs(), parameters={"JobName": sfn.JsonPath.string_at("$.job.job"),
                                                     "JobUpdate": sfn.JsonPath.object_at("$.job.job_update")},
            result_path=sfn.JsonPath.DISCARD, catch=False)
        flow.grant("PassGlueJobRoles", ["iam:PassRole"], glue_role_arns(self.catalog))
        rollback = flow.map_step("Rollback", items_path="$.plan.rollback.jobs", item=record.next(update),
                                 item_selector={"job": sfn.JsonPath.string_at("$$.Map.Item.Value"),
                                                "incident_id": sfn.JsonPath.string_at("$.incident_id")})
        escalate = flow.lambda_step("Escalate", "outage_escalate")
        page = flow.sdk_step(
            "Page", service="sns", action="publish", iam_action="sns:Publish",
            resources=scope_arns(self.catalog, "on_call_topic")[0],
            parameters={"TopicArn": names.topic_arn(self.catalog),
                        "Subject": sfn.JsonPath.string_at("$.results.Escalate.subject"),
                        "Message": sfn.JsonPath.string_at("$.results.Escalate.message")},
            result_selector={"message_id": sfn.JsonPath.string_at("$.MessageId")})
        tail = escalate.next(page).next(flow.report())
        applies = sfn.Choice(scope, "RollbackApplies", state_name="RollbackApplies")
        applies.when(sfn.Condition.boolean_equals("$.plan.rollback.applies", True),
                     flow.approval().next(flow.gate("Rollback")).next(rollback).next(tail))
        applies.otherwise(escalate)
        return assess.next(applies)

    # -- Emergency Procedures / Data Corruption -------------------------------------------------------

    def _data_corruption(self, flow: ProcedureFlow) -> sfn.IChainable:
        c = self.catalog
        scope = flow.scope
        triggers = scope_arns(c, "glue_triggers")[0]
        assess = flow.lambda_step("Assess", "corruption_assess", result_path="$.plan")
        stop = flow.sdk_step(
            "StopJobRuns", service="glue", action="batchStopJobRun", iam_action="glue:BatchStopJobRun",
            resources=self._glue_jobs(), parameters={"JobName": sfn.JsonPath.string_at("$.job"),
                                                     "JobRunIds": sfn.JsonPath.list_at("$.run_ids")},
            result_selector={"stopped": sfn.JsonPath.list_at("$.SuccessfulSubmissions")}, result_path="$.stop",
            catch=False)
        # BatchStopJobRun only requests the stops: nothing is restored while a writer may still be STOPPING.
        stopped = sfn.Map(scope, "WaitForStops", state_name="WaitForStops", items_path="$.run_ids",
                          max_concurrency=1, result_path=sfn.JsonPath.DISCARD, item_selector={
                              "job": sfn.JsonPath.string_at("$.job"),
                              "run_id": sfn.JsonPath.string_at("$$.Map.Item.Value"),
                              "poll_seconds": sfn.JsonPath.number_at("$.poll_seconds"),
                              "max_polls": sfn.JsonPath.number_at("$.max_polls")})
        stopped.item_processor(self._wait_for_stop(flow))
        stop_runs = flow.map_step("StopRuns", items_path="$.plan.stop_runs", item=stop.next(stopped), item_selector={
            "job": sfn.JsonPath.string_at("$$.Map.Item.Value.job"),
            "run_ids": sfn.JsonPath.list_at("$$.Map.Item.Value.run_ids"),
            "poll_seconds": sfn.JsonPath.number_at("$.poll_seconds"),
            "max_polls": sfn.JsonPath.number_at("$.max_polls")})
        chain = assess.next(flow.gate("StopRuns")).next(stop_runs)
        if triggers:
            stop_triggers = flow.map_step("StopTriggers", items_path="$.plan.stop_triggers", item=flow.sdk_step(
                "StopTrigger", service="glue", action="stopTrigger", iam_action="glue:StopTrigger",
                resources=triggers, parameters={"Name": sfn.JsonPath.string_at("$.name")},
                result_selector={"name": sfn.JsonPath.string_at("$.Name")}, result_path="$", catch=False))
            chain = chain.next(flow.gate("StopTriggers")).next(stop_triggers)
        record = self._record_rollback_point(flow, "RecordRollbackPoint", "$.plan.rollback_point", "$.incident_id")
        restore_table = self._restore_table(flow)
        restore = flow.map_step("RestoreTables", items_path="$.plan.tables", item=restore_table,
                                item_selector={"table": sfn.JsonPath.string_at("$$.Map.Item.Value"),
                                               "poll_seconds": sfn.JsonPath.string_at("$.poll_seconds"),
                                               "max_polls": sfn.JsonPath.number_at("$.max_polls")})
        swap = flow.lambda_step("SwapTables", "corruption_restore")
        objects = flow.lambda_step("RestoreObjects", "corruption_restore")
        reprocess = flow.lambda_step("Reprocess", "corruption_reprocess")
        check = flow.lambda_step("CheckReprocess", "corruption_reprocess", result_path="$.results.Reprocess")
        done = sfn.Choice(scope, "ReprocessDone", state_name="ReprocessDone")
        first, again = flow.bounded_poll("WaitForReprocess", check, step="Reprocess",
                                         what="the re-processing run")
        verify = flow.lambda_step("Verify", "corruption_verify")
        verified = sfn.Choice(scope, "Verified", state_name="Verified")
        restart = flow.map_step("ResumeStreaming", items_path="$.plan.restart_streaming", item=flow.sdk_step(
            "StartStreamingJob", service="glue", action="startJobRun", iam_action="glue:StartJobRun",
            resources=self._glue_jobs(), parameters={"JobName": sfn.JsonPath.string_at("$")},
            result_selector={"run_id": sfn.JsonPath.string_at("$.JobRunId")}, result_path="$", catch=False))
        first.next(reprocess)
        reprocess.next(done)
        done.when(sfn.Condition.boolean_equals("$.results.Reprocess.done", True), verify)
        done.otherwise(again)
        check.next(done)
        verify.next(verified)
        resume_streaming = flow.gate("ResumeStreaming").next(restart)
        resume_chain: Any = resume_streaming
        if triggers:
            resume_triggers = flow.map_step("ResumeTriggers", items_path="$.plan.stop_triggers", item=flow.sdk_step(
                "StartTrigger", service="glue", action="startTrigger", iam_action="glue:StartTrigger",
                resources=triggers, parameters={"Name": sfn.JsonPath.string_at("$.name")},
                result_selector={"name": sfn.JsonPath.string_at("$.Name")}, result_path="$", catch=False))
            resume_chain = flow.gate("ResumeTriggers").next(resume_triggers).next(resume_streaming)
        verified.when(sfn.Condition.boolean_equals("$.results.Verify.verified", True),
                      resume_chain.next(flow.report()))
        verified.otherwise(flow.fail_with("VerificationFailed", "Verify", "Remedy.VerificationFailed",
                                          cause_path="$.results.Verify.detail"))
        # Each changing step behind its gate (kill switch, change freeze): a run held by the kill switch stops
        # before its next change and goes on when the switch is off.
        after = (flow.gate("RestoreTables").next(record).next(restore).next(flow.gate("SwapTables")).next(swap)
                 .next(flow.gate("RestoreObjects")).next(objects).next(flow.gate("Reprocess")).next(first))
        return chain.next(flow.approval()).next(after)

    def _wait_for_stop(self, flow: ProcedureFlow) -> sfn.IChainable:
        """One stopped run, polled until Glue reports it ended (GetJobRun), within the wait bound."""
        scope = flow.scope
        check = flow.sdk_step(
            "CheckStop", service="glue", action="getJobRun", iam_action="glue:GetJobRun", resources=self._glue_jobs(),
            parameters={"JobName": sfn.JsonPath.string_at("$.job"), "RunId": sfn.JsonPath.string_at("$.run_id")},
            result_selector={"state": sfn.JsonPath.string_at("$.JobRun.JobRunState")}, result_path="$.run",
            catch=False)
        timed_out = sfn.Fail(scope, "StopTimedOut", state_name="StopTimedOut", error="Remedy.WaitTimedOut",
                             cause="a stopped Glue run was still not STOPPED after the input's max_wait_minutes: "
                                   "check aws glue get-job-run")
        first, again = flow.bounded_poll("WaitForStop", check, step="StopJobRuns", what="the Glue run's stop",
                                         on_timeout=timed_out)
        ended = sfn.Choice(scope, "RunEnded", state_name="RunEnded")
        ended.when(sfn.Condition.or_(*[sfn.Condition.string_equals("$.run.state", state) for state in
                                       ("STOPPED", "SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "EXPIRED")]),
                   sfn.Succeed(scope, "RunStopped", state_name="RunStopped"))
        ended.otherwise(again)
        first.next(check)
        check.next(ended)
        return first

    def _restore_table(self, flow: ProcedureFlow) -> sfn.IChainable:
        c = self.catalog
        scope = flow.scope
        cluster = scope_arns(c, "redshift_cluster")[0]
        snapshots = scope_arns(c, "redshift_snapshots")
        start = flow.sdk_step(
            "RestoreTable", service="redshift", action="restoreTableFromClusterSnapshot",
            iam_action="redshift:RestoreTableFromClusterSnapshot", resources=(*cluster, *snapshots[0]),
            reason=snapshots[1],
            parameters={"ClusterIdentifier": sfn.JsonPath.string_at("$.table.cluster"),
                        "SnapshotIdentifier": sfn.JsonPath.string_at("$.table.snapshot"),
                        "SourceDatabaseName": sfn.JsonPath.string_at("$.table.database"),
                        "SourceSchemaName": sfn.JsonPath.string_at("$.table.schema"),
                        "SourceTableName": sfn.JsonPath.string_at("$.table.name"),
                        "TargetSchemaName": sfn.JsonPath.string_at("$.table.schema"),
                        "NewTableName": sfn.JsonPath.string_at("$.table.new_table")},
            result_selector={"request_id": sfn.JsonPath.string_at("$.TableRestoreStatus.TableRestoreRequestId")},
            result_path="$.restore", catch=False)
        check = flow.sdk_step(
            "CheckRestore", service="redshift", action="describeTableRestoreStatus",
            iam_action="redshift:DescribeTableRestoreStatus", resources=("*",),
            reason=NO_RESOURCE_LEVEL["redshift:DescribeTableRestoreStatus"],
            parameters={"ClusterIdentifier": sfn.JsonPath.string_at("$.table.cluster"),
                        "TableRestoreRequestId": sfn.JsonPath.string_at("$.restore.request_id")},
            result_selector={"status": sfn.JsonPath.string_at("$.TableRestoreStatusDetails[0].Status")},
            result_path="$.check", catch=False)
        done = sfn.Choice(scope, "RestoreDone", state_name="RestoreDone")
        failed = sfn.Fail(scope, "RestoreFailed", state_name="RestoreFailed", error="Remedy.RestoreFailed",
                          cause="RestoreTableFromClusterSnapshot ended FAILED or CANCELED")
        timed_out = sfn.Fail(scope, "RestoreTimedOut", state_name="RestoreTimedOut", error="Remedy.WaitTimedOut",
                             cause="the table restore had not finished after the input's max_wait_minutes: check "
                                   "aws redshift describe-table-restore-status")
        first, again = flow.bounded_poll("WaitForRestore", check, step="RestoreTable", what="the table restore",
                                         on_timeout=timed_out)
        done.when(sfn.Condition.string_equals("$.check.status", "SUCCEEDED"),
                  sfn.Succeed(scope, "TableRestored", state_name="TableRestored"))
        done.when(sfn.Condition.or_(sfn.Condition.string_equals("$.check.status", "FAILED"),
                                    sfn.Condition.string_equals("$.check.status", "CANCELED")), failed)
        done.otherwise(again)
        first.next(check)
        check.next(done)
        return start.next(first)

    # -- Emergency Procedures / Security Incident -----------------------------------------------------

    def _security_incident(self, flow: ProcedureFlow) -> sfn.IChainable:
        c = self.catalog
        scope = flow.scope
        users, roles = (names.arn(c, "iam", "user/*", regional=False), names.arn(c, "iam", "role/*", regional=False))
        assess = flow.lambda_step("Assess", "security_assess", result_path="$.plan")
        deactivate = flow.map_step("DeactivateKeys", items_path="$.plan.keys", item=flow.sdk_step(
            "DeactivateKey", service="iam", action="updateAccessKey", iam_action="iam:UpdateAccessKey",
            resources=[users], reason=PRINCIPALS_REASON,
            parameters={"UserName": sfn.JsonPath.string_at("$.user"), "AccessKeyId": sfn.JsonPath.string_at("$.id"),
                        "Status": "Inactive"},
            result_path=sfn.JsonPath.DISCARD, catch=False))
        rotate_needed = sfn.Choice(scope, "SecretToRotate", state_name="SecretToRotate")
        if c.redshift.admin_secret:
            secret = names.arn(c, "secretsmanager", f"secret:{c.redshift.admin_secret}-*")
            rotate = flow.sdk_step(
                "RotateSecret", service="secretsmanager", action="rotateSecret",
                iam_action="secretsmanager:RotateSecret", resources=[secret],
                reason="Secrets Manager appends six random characters to a secret's ARN; the name is the catalog's",
                parameters={"SecretId": sfn.JsonPath.string_at("$.plan.secret.id"),
                            "ClientRequestToken": sfn.JsonPath.string_at("$.plan.secret.token"),
                            "RotateImmediately": True},
                result_selector={"version": sfn.JsonPath.string_at("$.VersionId")}, catch=False)
            if c.redshift.admin_secret_rotation_function:  # a Lambda-rotated secret: Secrets Manager invokes it
                flow.grant("RotateSecretInvokeRotation", ["lambda:InvokeFunction"], [names.arn(
                    c, "lambda", f"function:{c.redshift.admin_secret_rotation_function}")])
            # Containment goes on when the rotation fails (after its retries): the keys are deactivated and
            # the sessions revoked all the same; the error stays in results.RotateSecret for the report.
            rotate.add_catch(sfn.Pass(scope, "RotationFailed", state_name="RotationFailed").next(deactivate),
                             errors=["States.ALL"], result_path="$.results.RotateSecret")
            rotate_needed.when(sfn.Condition.boolean_equals("$.plan.rotate_secret", True), rotate.next(deactivate))
        rotate_needed.otherwise(deactivate)
        cloudtrail = flow.lambda_step("ReviewCloudTrail", "security_review")
        policies = flow.lambda_step("ReviewPolicies", "security_review")
        deny = sfn.Pass(scope, "DenyOlderSessions", state_name="DenyOlderSessions",
                        result_path="$.results.DenyOlderSessions", parameters={
                            "before": sfn.JsonPath.string_at("$$.State.EnteredTime"),
                            "document": {"Version": "2012-10-17", "Statement": [{
                                "Sid": "RemedyRevokeOlderSessions", "Effect": "Deny", "Action": "*", "Resource": "*",
                                "Condition": {"DateLessThan": {
                                    "aws:TokenIssueTime": sfn.JsonPath.string_at("$$.State.EnteredTime")}}}]}})
        document = sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.results.DenyOlderSessions.document"))
        user_policy = flow.sdk_step(
            "RevokeUserSessions", service="iam", action="putUserPolicy", iam_action="iam:PutUserPolicy",
            resources=[users], reason=PRINCIPALS_REASON, result_path="$.results.RevokeSessions",
            parameters={"UserName": sfn.JsonPath.string_at("$.plan.deny.name"),
                        "PolicyName": sfn.JsonPath.string_at("$.plan.deny.policy_name"), "PolicyDocument": document})
        role_policy = flow.sdk_step(
            "RevokeRoleSessions", service="iam", action="putRolePolicy", iam_action="iam:PutRolePolicy",
            resources=[roles], reason=PRINCIPALS_REASON, result_path="$.results.RevokeSessions",
            parameters={"RoleName": sfn.JsonPath.string_at("$.plan.deny.name"),
                        "PolicyName": sfn.JsonPath.string_at("$.plan.deny.policy_name"), "PolicyDocument": document})
        groups = [names.arn(c, "ec2", f"security-group/{g}")
                  for g in (*c.redshift.security_group_ids, *c.msk.security_group_ids)]
        revoke_one = flow.sdk_step(
            "RevokeRule", service="ec2", action="revokeSecurityGroupIngress",
            iam_action="ec2:RevokeSecurityGroupIngress",
            resources=groups or [names.arn(c, "ec2", "security-group/none")],
            parameters={"GroupId": sfn.JsonPath.string_at("$.GroupId"),
                        "IpPermissions": sfn.JsonPath.list_at("$.IpPermissions")},
            result_path=sfn.JsonPath.DISCARD, catch=False)
        # Already gone (revoked by a person, or by this state before a retry): the goal is reached.
        revoke_one.add_catch(sfn.Pass(scope, "AlreadyRevoked", state_name="AlreadyRevoked"),
                             errors=["Ec2.InvalidPermission.NotFoundException"], result_path=sfn.JsonPath.DISCARD)
        ingress = flow.map_step("RevokeIngress", items_path="$.plan.ingress", item=revoke_one)
        tail = flow.gate("RevokeIngress").next(ingress).next(flow.report())
        kind = sfn.Choice(scope, "PrincipalKind", state_name="PrincipalKind")
        kind.when(sfn.Condition.string_equals("$.plan.deny.kind", "user"), user_policy.next(tail))
        kind.otherwise(role_policy.next(tail))
        review = deactivate.next(cloudtrail).next(policies).next(flow.approval())
        review.next(flow.gate("RevokeSessions")).next(deny).next(kind)
        return assess.next(flow.gate("Containment")).next(rotate_needed)

    # -- Scaling --------------------------------------------------------------------------------------

    def _needs_change(self, flow: ProcedureFlow, plan: Any, after_approval: sfn.IChainable) -> sfn.IChainable:
        choice = sfn.Choice(flow.scope, "NeedsChange", state_name="NeedsChange")
        choice.when(sfn.Condition.boolean_equals("$.plan.change", True), flow.approval().next(after_approval))
        choice.otherwise(flow.report())
        return plan.next(choice)

    def _scale_glue(self, flow: ProcedureFlow) -> sfn.IChainable:
        plan = flow.lambda_step("Plan", "scale_glue_plan", result_path="$.plan")
        record = self._record_rollback_point(flow, "RecordRollbackPoint", "$.plan.rollback_point",
                                             "$.plan.rollback_point.resource")
        update = flow.sdk_step(
            "UpdateJob", service="glue", action="updateJob", iam_action="glue:UpdateJob", resources=self._glue_jobs(),
            parameters={"JobName": sfn.JsonPath.string_at("$.plan.job"),
                        "JobUpdate": sfn.JsonPath.object_at("$.plan.job_update")},
            result_selector={"job": sfn.JsonPath.string_at("$.JobName")})
        flow.grant("PassGlueJobRoles", ["iam:PassRole"], glue_role_arns(self.catalog))
        read = flow.sdk_step(
            "ReadJob", service="glue", action="getJob", iam_action="glue:GetJob", resources=self._glue_jobs(),
            parameters={"JobName": sfn.JsonPath.string_at("$.plan.job")},
            # the whole Job does not fit the state data as is (timestamps): just what is checked
            result_selector={"workers": sfn.JsonPath.number_at("$.Job.NumberOfWorkers"),
                             "worker_type": sfn.JsonPath.string_at("$.Job.WorkerType")})
        changed = sfn.Choice(flow.scope, "Changed", state_name="Changed")
        changed.when(sfn.Condition.and_(
            sfn.Condition.number_equals_json_path("$.results.ReadJob.workers", "$.plan.target.workers"),
            sfn.Condition.string_equals_json_path("$.results.ReadJob.worker_type", "$.plan.target.worker_type")),
            flow.report())
        changed.otherwise(flow.fail_with("NotApplied", "UpdateJob", "Remedy.NotApplied",
                                         cause="GetJob does not show the new worker count and type"))
        gated = flow.gate("UpdateJob").next(record).next(update).next(read).next(changed)
        return self._needs_change(flow, plan, gated)

    def _scale_msk(self, flow: ProcedureFlow) -> sfn.IChainable:
        c = self.catalog
        cluster = scope_arns(c, "msk_cluster")
        plan = flow.lambda_step("Plan", "scale_msk_plan", result_path="$.plan")
        record = self._record_rollback_point(flow, "RecordRollbackPoint", "$.plan.rollback_point",
                                             "$.plan.rollback_point.resource")
        selector = {"brokers": sfn.JsonPath.number_at("$.ClusterInfo.Provisioned.NumberOfBrokerNodes"),
                    "version": sfn.JsonPath.string_at("$.ClusterInfo.CurrentVersion"),
                    "state": sfn.JsonPath.string_at("$.ClusterInfo.State")}
        read = flow.sdk_step("ReadCluster", service="kafka", action="describeClusterV2",
                             iam_action="kafka:DescribeClusterV2", resources=cluster[0], reason=cluster[1],
                             parameters={"ClusterArn": sfn.JsonPath.string_at("$.plan.cluster_arn")},
                             result_selector=selector)
        update = flow.sdk_step(
            "UpdateBrokerCount", service="kafka", action="updateBrokerCount", iam_action="kafka:UpdateBrokerCount",
            resources=cluster[0], reason=cluster[1],
            parameters={"ClusterArn": sfn.JsonPath.string_at("$.plan.cluster_arn"),
                        "CurrentVersion": sfn.JsonPath.string_at("$.results.ReadCluster.version"),
                        "TargetNumberOfBrokerNodes": sfn.JsonPath.number_at("$.plan.target")},
            result_selector={"operation": sfn.JsonPath.string_at("$.ClusterOperationArn")})
        check = flow.sdk_step("CheckUpdate", service="kafka", action="describeClusterV2",
                              iam_action="kafka:DescribeClusterV2", resources=cluster[0], reason=cluster[1],
                              parameters={"ClusterArn": sfn.JsonPath.string_at("$.plan.cluster_arn")},
                              result_selector=selector)
        at_target = sfn.Choice(flow.scope, "AtTarget", state_name="AtTarget")
        done = sfn.Choice(flow.scope, "UpdateDone", state_name="UpdateDone")
        first, again = flow.bounded_poll("WaitForUpdate", check, step="UpdateBrokerCount",
                                         what="the MSK broker update")
        report = flow.report()
        at_target.when(sfn.Condition.number_equals_json_path("$.results.ReadCluster.brokers", "$.plan.target"), report)
        at_target.otherwise(update)
        update.next(first)
        first.next(check)
        check.next(done)
        done.when(sfn.Condition.and_(sfn.Condition.string_equals("$.results.CheckUpdate.state", "ACTIVE"),
                                     sfn.Condition.number_equals_json_path("$.results.CheckUpdate.brokers",
                                                                           "$.plan.target")), report)
        done.when(sfn.Condition.string_equals("$.results.CheckUpdate.state", "FAILED"),
                  flow.fail_with("UpdateFailed", "UpdateBrokerCount", "Remedy.UpdateFailed",
                                 cause="the MSK cluster went to FAILED during the broker update"))
        done.otherwise(again)
        return self._needs_change(flow, plan, flow.gate("UpdateBrokerCount").next(record).next(read)
                                  .next(at_target))

    def _scale_redshift(self, flow: ProcedureFlow) -> sfn.IChainable:
        c = self.catalog
        cluster = scope_arns(c, "redshift_cluster")[0]
        plan = flow.lambda_step("Plan", "scale_redshift_plan", result_path="$.plan")
        record = self._record_rollback_point(flow, "RecordRollbackPoint", "$.plan.rollback_point",
                                             "$.plan.rollback_point.resource")
        selector = {"nodes": sfn.JsonPath.number_at("$.Clusters[0].NumberOfNodes"),
                    "node_type": sfn.JsonPath.string_at("$.Clusters[0].NodeType"),
                    "status": sfn.JsonPath.string_at("$.Clusters[0].ClusterStatus")}
        describe = {"ClusterIdentifier": c.redshift.cluster_id}
        read = flow.sdk_step("ReadCluster", service="redshift", action="describeClusters",
                             iam_action="redshift:DescribeClusters", resources=cluster, parameters=describe,
                             result_selector=selector)
        request = {k: sfn.JsonPath.string_at(f"$.plan.request.{k}") for k in ("ClusterIdentifier", "NodeType",
                                                                               "ClusterType")}
        request["NumberOfNodes"] = sfn.JsonPath.number_at("$.plan.request.NumberOfNodes")
        resize = flow.sdk_step("ResizeCluster", service="redshift", action="resizeCluster",
                               iam_action="redshift:ResizeCluster", resources=cluster,
                               parameters={**request, "Classic": False},
                               result_selector={"status": sfn.JsonPath.string_at("$.Cluster.ClusterStatus")})
        modify = flow.sdk_step("ModifyCluster", service="redshift", action="modifyCluster",
                               iam_action="redshift:ModifyCluster", resources=cluster, parameters=request,
                               result_selector={"status": sfn.JsonPath.string_at("$.Cluster.ClusterStatus")})
        check = flow.sdk_step("CheckResize", service="redshift", action="describeClusters",
                              iam_action="redshift:DescribeClusters", resources=cluster, parameters=describe,
                              result_selector=selector)
        at_target = sfn.Choice(flow.scope, "AtTarget", state_name="AtTarget")
        api = sfn.Choice(flow.scope, "Resize", state_name="Resize")
        done = sfn.Choice(flow.scope, "ResizeDone", state_name="ResizeDone")
        first, again = flow.bounded_poll("WaitForResize", check, step="ResizeCluster", what="the cluster's resize")
        report = flow.report()
        reached = lambda path: sfn.Condition.and_(  # noqa: E731 - a short local
            sfn.Condition.number_equals_json_path(f"{path}.nodes", "$.plan.target.nodes"),
            sfn.Condition.string_equals_json_path(f"{path}.node_type", "$.plan.target.node_type"))
        at_target.when(reached("$.results.ReadCluster"), report)
        at_target.otherwise(api)
        api.when(sfn.Condition.string_equals("$.plan.api", "resize"), resize)
        api.otherwise(modify)
        resize.next(first)
        modify.next(first)
        first.next(check)
        check.next(done)
        done.when(sfn.Condition.and_(sfn.Condition.string_equals("$.results.CheckResize.status", "available"),
                                     reached("$.results.CheckResize")), report)
        done.otherwise(again)
        return self._needs_change(flow, plan, flow.gate("ResizeCluster").next(record).next(read).next(at_target))


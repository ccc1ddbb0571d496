"""checkov's skips, written into the template next to the resource they concern, each with its reason.

checkov (framework cloudformation, run on the synthesized templates by tests/infra/test_checkov.py) reads
`Metadata: {checkov: {skip: [{id, comment}]}}` on a resource. One aspect adds them here, so the decisions are
in one table a reviewer reads, instead of scattered through the constructs. Narrow: a skip is added
only to a resource that has the finding (a function already in a VPC gets no CKV_AWS_117 skip, a table with
a customer managed key no CKV_AWS_119 skip, …), and only to the kinds of function named below: a new kind
of function fails checkov until someone decides. The test checks that every skip hides a real finding.

    Aspects.of(app).add(CheckovSkips())   # infra/app_builder.py
"""

from __future__ import annotations

from typing import Any

import jsii
from aws_cdk import IAspect, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import IConstruct

# How each kind of function is invoked decides the DLQ and concurrency answers.
PLAYBOOK, STARTER, PROBE_SCHEDULED, PROBE_EVENTS, MAINTENANCE, STEP, PROVIDER = (
    "playbook", "starter", "probe-scheduled", "probe-events", "maintenance", "step", "provider")
SLACK = "slack"
ANSWER = "answer"

INVOKED_BY = {
    PLAYBOOK: "EventBridge (its alarms' state changes)",
    STARTER: "EventBridge (the procedure-starting alarms' changes to ALARM)",
    PROBE_EVENTS: "EventBridge (Glue Job State Change)",
    PROBE_SCHEDULED: "EventBridge (its schedule, every one or five minutes; no retry, the next run replaces a "
                     "failed one)",
    MAINTENANCE: "EventBridge Scheduler (its schedule)",
    SLACK: "SNS (the on-call topic's notifications) and itself (Bolt's lazy listeners, InvocationType Event)",
}
ON_FAILURE = ("invoked asynchronously by {invoker}; after its retries the event goes to the on-failure destination "
              "(the unhandled-events SQS queue, EventInvokeConfig), which keeps the request and the error, unlike "
              "a DLQ; checkov only recognises DeadLetterConfig")  # CKV_AWS_116, asynchronous kinds
NO_DLQ = {  # CKV_AWS_116, kinds with nothing to park
    STEP: "invoked synchronously by its Step Functions state: an error returns to the state's Retry and Catch "
          "(the procedure's failure path); a DLQ applies to asynchronous invocations only. The approval step's "
          "sweep schedule (every five minutes) carries no work in its event: the next sweep replaces a lost one",
    PROVIDER: "CDK's AwsCustomResource provider, invoked synchronously by CloudFormation during deployments: "
              "a failure fails the deployment, there is nothing to park in a queue",
    ANSWER: "invoked synchronously only (its AWS_IAM function URL by remedy incident approve|reject, and the Slack "
            "function, RequestResponse): the person sees the error at once; a DLQ applies to asynchronous "
            "invocations only",
}

SHARED_POOL = "a reservation would be taken from the account's concurrency pool the data platform shares"
CONCURRENCY = {  # CKV_AWS_115: ReservedConcurrentExecutions
    PLAYBOOK: "one invocation per alarm state change of its signals; two incidents on one resource are "
              f"serialised by the guard's conditional claim (circuit breaker), not by Lambda; {SHARED_POOL}",
    STARTER: "one invocation per change to ALARM of a procedure-starting alarm; one run at a time is enforced "
             f"by the starter itself (held while another runs); {SHARED_POOL}",
    PROBE_EVENTS: f"one invocation per Glue job run that ends, a handful an hour; {SHARED_POOL}",
    MAINTENANCE: f"one invocation per schedule (daily at most); {SHARED_POOL}",
    PROBE_SCHEDULED: f"one invocation per scheduled minute (lag) or five minutes (freshness); {SHARED_POOL}",
    STEP: f"one invocation per step of a procedure run; {SHARED_POOL}",
    PROVIDER: "CDK's AwsCustomResource provider: runs once per deployment of the stack, nothing to reserve "
              "capacity for",
    SLACK: f"one invocation per notification and two per click in Slack (acknowledge, answer); {SHARED_POOL}",
    ANSWER: f"one invocation per person's answer to an approval; {SHARED_POOL}",
}

PUBLIC_SLACK_URL = ("Slack cannot sign requests with SigV4, so the Slack app's Request URL cannot use AuthType "
                    "AWS_IAM; the function itself refuses (and audits) every request whose x-slack-signature does "
                    "not match the app's signing secret or whose timestamp is more than five minutes old (Bolt's "
                    "request verification), and answers only through the answer function's allow-list "
                    "(docs/slack.md)")  # CKV_AWS_258

NO_VPC = ("calls AWS service APIs only and reaches nothing inside a VPC; a VPC would need a NAT gateway or "
          "an interface endpoint per service and add no control (the functions that talk to Redshift run in "
          "the cluster's VPC)")  # CKV_AWS_117

PLAIN_ENVIRONMENT = ("the environment holds resource names and settings only (tables, topic ARN, catalog path, "
                  "log level), never a secret (Redshift credentials are fetched at run time); Lambda encrypts "
                  "it at rest with its AWS managed key")  # CKV_AWS_173

LOGS_KMS = ("CloudWatch Logs encrypts log data at rest by default; nothing secret is logged "
            "(tests/integration/test_no_secrets.py); a customer managed key would need a key policy for "
            "the logs service without a revocation or cross-account need")  # CKV_AWS_158

TABLE_KMS = ("encrypted with the AWS managed key aws/dynamodb (use shows in CloudTrail); it holds audit, "
             "breaker, idempotency and approval records, no secrets; a customer managed key would add a key "
             "policy and kms grants to every function without a cross-account or revocation need")  # CKV_AWS_119

TOPIC_KMS = ("CloudWatch alarm actions cannot publish to a topic encrypted with the AWS managed aws/sns key, "
             "and a customer managed key for one topic of on-call messages (no secrets, tested) is not worth "
             "its key policy; publishers must use TLS (enforce_ssl)")  # CKV_AWS_26

QUEUE_SSE = ("encrypted at rest with SSE-SQS (SqsManagedSseEnabled: true); checkov's check only "
             "recognises KmsMasterKeyId")  # CKV_AWS_27

ENI_ON_ANY = ("Lambda creates and deletes a VPC function's network interfaces with the function's role; "
              "their ids are unknown until created, so these EC2 actions are granted on '*' as in AWS's "
              "AWSLambdaVPCAccessExecutionRole")  # CKV_AWS_111
ENI_ACTIONS = {"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
               "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}

CUSTOM_RESOURCE_PROVIDER = "AWS679f53fac002430cb0da5b7982bd2287"  # CDK's singleton id for AwsCustomResource


def function_kind(handler: str | None, path: str) -> str | None:
    """How the function is invoked, from its handler; None for a kind nobody has decided on yet."""
    from functions.playbooks import PLAYBOOKS

    if handler in {declaration.handler for declaration in PLAYBOOKS.values()}:
        return PLAYBOOK
    if handler == "functions.handlers.procedure_start.handler":
        return STARTER
    if handler in ("functions.handlers.probe_freshness.handler", "functions.handlers.probe_consumer_lag.handler"):
        return PROBE_SCHEDULED
    if handler == "functions.handlers.probe_glue_outcomes.handler":
        return PROBE_EVENTS
    if handler and handler.startswith("functions.handlers.maintenance_"):
        return MAINTENANCE
    if handler and handler.startswith("functions.handlers.procedure_"):
        return STEP
    if handler == "functions.handlers.slack.handler":
        return SLACK
    if handler == "functions.handlers.answer.handler":
        return ANSWER
    if handler == "index.handler" and CUSTOM_RESOURCE_PROVIDER in path:
        return PROVIDER
    return None


def on_failure_destination(function: lambda_.CfnFunction) -> bool:
    """The function's asynchronous invoke config (a child of its L2 Function) names an on-failure destination."""
    for child in function.node.scope.node.children if function.node.scope else []:
        if isinstance(child, lambda_.EventInvokeConfig):
            config = getattr(child.node.default_child, "destination_config", None)
            if getattr(getattr(config, "on_failure", None), "destination", None):
                return True
    return False


def _skip(resource: Any, *findings: tuple[str, str]) -> None:
    existing = list((resource.cfn_options.metadata or {}).get("checkov", {}).get("skip", []))
    existing += [{"id": check, "comment": reason} for check, reason in findings]
    resource.add_metadata("checkov", {"skip": existing})


def _resolved(node: Any, value: Any) -> Any:
    return Stack.of(node).resolve(value)


@jsii.implements(IAspect)
class CheckovSkips:
    """Adds each resource's checkov skips (see the module docstring)."""

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, lambda_.CfnFunction):
            self._function(node)
        elif isinstance(node, logs.CfnLogGroup) and node.kms_key_id is None:
            _skip(node, ("CKV_AWS_158", LOGS_KMS))
        elif isinstance(node, dynamodb.CfnTable) and self._aws_managed(node):
            _skip(node, ("CKV_AWS_119", TABLE_KMS))
        elif isinstance(node, sns.CfnTopic) and node.kms_master_key_id is None:
            _skip(node, ("CKV_AWS_26", TOPIC_KMS))
        elif isinstance(node, sqs.CfnQueue) and node.kms_master_key_id is None and node.sqs_managed_sse_enabled:
            _skip(node, ("CKV_AWS_27", QUEUE_SSE))
        elif isinstance(node, iam.CfnPolicy) and self._grants_enis_on_any(node):
            _skip(node, ("CKV_AWS_111", ENI_ON_ANY))
        elif isinstance(node, lambda_.CfnUrl) and node.auth_type == "NONE" and "/Slack/" in node.node.path:
            _skip(node, ("CKV_AWS_258", PUBLIC_SLACK_URL))  # only the Slack app's URL may be public

    def _function(self, node: lambda_.CfnFunction) -> None:
        kind = function_kind(node.handler, node.node.path)
        if kind is None:
            return
        findings = []
        if node.reserved_concurrent_executions is None:
            findings.append(("CKV_AWS_115", CONCURRENCY[kind]))
        if kind in INVOKED_BY and on_failure_destination(node):
            findings.append(("CKV_AWS_116", ON_FAILURE.format(invoker=INVOKED_BY[kind])))
        elif kind in NO_DLQ:
            findings.append(("CKV_AWS_116", NO_DLQ[kind]))
        if node.vpc_config is None:
            findings.append(("CKV_AWS_117", NO_VPC))
        if kind != PROVIDER and node.kms_key_arn is None:  # ours all carry settings; the provider has none
            findings.append(("CKV_AWS_173", PLAIN_ENVIRONMENT))  # no secret-like name: tests/infra/test_checkov.py
        _skip(node, *findings)

    @staticmethod
    def _aws_managed(node: dynamodb.CfnTable) -> bool:
        sse = node.sse_specification
        return bool(getattr(sse, "sse_enabled", False)) and getattr(sse, "kms_master_key_id", None) is None

    @staticmethod
    def _grants_enis_on_any(node: iam.CfnPolicy) -> bool:
        document = _resolved(node, node.policy_document) or {}
        for statement in document.get("Statement", []):
            actions = statement.get("Action", [])
            actions = set(actions if isinstance(actions, list) else [actions])
            if statement.get("Resource") == "*" and actions & ENI_ACTIONS:
                return True
        return False

"""On call in Slack (functions/chat): the Slack function, its public URL, its messages table, its subscription.

- SlackFunction: a RemedyFunction with its own role holding exactly slack_statements() and, for it alone, a
  layer of Slack's Bolt for Python and Python SDK (pinned, pip-installed locally like the other PipLayers).
- Its function URL has AuthType NONE: Slack signs its requests with the app's signing secret (HMAC), not with
  SigV4, so the URL is public and Bolt's signature check is the gate (checkov CKV_AWS_258 skipped with that
  reason in infra/checkov.py). CDK writes the resource-based statements a public URL needs (Principal *,
  lambda:InvokeFunctionUrl with lambda:FunctionUrlAuthType NONE).
- Asynchronous delivery (Bolt's lazy listeners invoke the function again with InvocationType Event; SNS invokes
  it asynchronously): Lambda's two retries, then the unhandled-events queue.
- The on-call topic's `lambda` subscription: each notification becomes or updates the incident's message.
- The messages table: incident id -> channel and ts of its message (TTL expires_at), so later notifications and
  answers redraw the same message.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from functions.answers import answer_function_name
from functions.core.catalog import Catalog
from infra import names
from infra.constructs.lambda_function import AsyncDelivery, RemedyFunction
from infra.constructs.maintenance_jobs import PipLayer
from infra.permissions import Statement, send_traces

HANDLER = "functions.handlers.slack.handler"
# Slack's maintained Python framework and its SDK (pure-Python wheels); only this function gets them.
SLACK_LAYER = ("slack-bolt==1.30.0", "slack-sdk==3.48.0")
# The answer function acts and verifies (up to its own 90 s) while the lazy listener waits for it.
TIMEOUT = Duration.seconds(120)


def slack_function_name(catalog: Catalog) -> str:
    return f"{catalog.prefix}-slack"


def chat_table(catalog: Catalog) -> str:
    return f"{catalog.prefix}-chat-messages"


def slack_statements(catalog: Catalog) -> list[Statement]:
    slack = catalog.notifications.slack
    if slack is None:
        return []
    own = names.arn(catalog, "lambda", f"function:{slack_function_name(catalog)}")
    return [
        Statement("WriteOwnLogs", ("logs:CreateLogStream", "logs:PutLogEvents"),
                  (names.arn(catalog, "logs", f"log-group:/aws/lambda/{slack_function_name(catalog)}:*"),),
                  wildcard_reason="Lambda names the log streams at run time; the log group is the function's own"),
        send_traces(),
        # Secrets Manager appends six random characters to a secret's ARN; the name is the catalog's.
        Statement("SlackSecrets", ("secretsmanager:GetSecretValue",),
                  tuple(names.arn(catalog, "secretsmanager", f"secret:{name}-??????")
                        for name in (slack.signing_secret, slack.bot_token)),
                  wildcard_reason="Secrets Manager appends -<6 random characters> to the secret's ARN; '??????' "
                                  "matches exactly those, the name is the catalog's"),
        Statement("Messages", ("dynamodb:GetItem", "dynamodb:PutItem"),
                  (names.table_arn(catalog, chat_table(catalog)),)),
        Statement("AuditRefusals", ("dynamodb:PutItem",), (names.table_arn(catalog, names.audit_table(catalog)),)),
        # The answer function: the only principal allowed to invoke it directly (functions/answers). Itself:
        # Bolt's lazy listeners (the click acknowledged, then answered by a second, asynchronous invocation).
        Statement("AnswerAndLazyListeners", ("lambda:InvokeFunction",),
                  (names.arn(catalog, "lambda", f"function:{answer_function_name(catalog.prefix)}"), own)),
        Statement("OnFailureDestination", ("sqs:SendMessage",), (names.queue_arn(catalog),)),
    ]


class SlackLayer(PipLayer):
    def __init__(self, scope: Construct, construct_id: str):
        super().__init__(scope, construct_id, requirements=SLACK_LAYER,
                         what="Slack Bolt and SDK for the Slack function")


class SlackFunction(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, code: lambda_.Code,
                 powertools: lambda_.ILayerVersion, environment: dict[str, str], topic: sns.ITopic,
                 log_retention: logs.RetentionDays, retain: bool):
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self, "Messages", table_name=chat_table(catalog),
            partition_key=dynamodb.Attribute(name="incident_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST, time_to_live_attribute="expires_at",
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY)
        self.statements = slack_statements(catalog)
        self.remedy_function = RemedyFunction(
            self, "Slack", function_name=slack_function_name(catalog),
            log_group_name=f"/aws/lambda/{slack_function_name(catalog)}", handler=HANDLER,
            description="On call in Slack: notifications with Approve/Reject, answers through the answer function",
            code=code, layers=[powertools, SlackLayer(self, "Bolt").layer], log_retention=log_retention,
            retain_logs=retain, statements=self.statements, timeout=TIMEOUT,
            role_description=f"{slack_function_name(catalog)}: exactly what the Slack app needs "
                             f"(infra/constructs/slack.py)",
            environment={"CATALOG_PATH": environment["CATALOG_PATH"], "AUDIT_TABLE": environment["AUDIT_TABLE"],
                         "CHAT_TABLE": chat_table(catalog), "ANSWER_FUNCTION": answer_function_name(catalog.prefix),
                         **{k: v for k, v in environment.items() if k.startswith("POWERTOOLS_")}},
            delivery=AsyncDelivery(on_failure_arn=names.queue_arn(catalog)))
        self.function = self.remedy_function.function
        # Public on purpose: Slack cannot SigV4-sign; Bolt verifies Slack's signature (the only gate).
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.NONE)
        topic.add_subscription(subscriptions.LambdaSubscription(self.function))
        CfnOutput(self, "SlackRequestUrl", value=self.url.url,
                  description="Paste into the Slack app's Interactivity Request URL (docs/slack.md)")

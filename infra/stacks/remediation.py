"""RemediationStack (<prefix>-remediation): the safety core's state, the on-call topic, the kill switch,
the unhandled-events queue and, per playbook, its function and its EventBridge rule."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.core.catalog import Catalog
from functions.core.naming import alarm_name, signal_prefix
from functions.core.observability import SERVICE
from functions.playbooks import PLAYBOOKS
from infra import names
from infra.bundling import CATALOG_PATH_IN_LAMBDA, function_code
from infra.constructs.failure_queue import UnhandledEventsQueue
from infra.constructs.kill_switch import KillSwitch
from infra.constructs.notifications import OnCallTopic
from infra.constructs.playbook_function import AlarmRoute, EventRoute, PlaybookFunction
from infra.constructs.state import SafetyCoreTables
from infra.patterns import split_by_names
from infra.permissions import function_statements
from infra.powertools import powertools_layer_arn


def _network(catalog: Catalog, declaration: Any) -> Any:
    if not declaration.in_vpc:
        return None
    if catalog.network is None:
        raise ValueError(f"playbook {declaration.name} runs in a VPC: the catalog needs a `network` section")
    return catalog.network


class RemediationStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, catalog: Catalog, powertools_layer_version: int,
                 log_retention: logs.RetentionDays, **kwargs: Any):
        super().__init__(scope, construct_id, **kwargs)
        retain = catalog.env == "prod"
        state = SafetyCoreTables(self, "SafetyCore", audit_name=names.audit_table(catalog),
                                 breaker_name=names.breaker_table(catalog),
                                 idempotency_name=names.idempotency_table(catalog), retain=retain)
        on_call = OnCallTopic(self, "OnCall", topic_name=catalog.notifications.on_call_topic,
                              emails=catalog.notifications.emails)
        # The topic that pages (ESCALATED outcomes, lapsed approvals, this queue's alarm): the paging service
        # subscribes to it (docs/on-call.md), not e-mail.
        escalation = OnCallTopic(self, "Escalation", topic_name=names.escalation_topic(catalog), emails=[])
        kill_switch = KillSwitch(self, "KillSwitch", parameter_name=catalog.guardrails.kill_switch_parameter)
        unhandled = UnhandledEventsQueue(self, "UnhandledEvents", queue_name=names.failure_queue(catalog))
        unhandled.page_on_any_message(
            alarm_name=alarm_name(catalog.prefix, "unhandled-events", f"sqs:{names.failure_queue(catalog)}"),
            description=f"An event no function could handle waits in {names.failure_queue(catalog)} (a playbook, "
                        f"probe or job failed after its retries): look with `remedy dlq list --env {catalog.env}`, "
                        f"fix the cause, replay with `remedy dlq redrive`. Runbook: on call (docs/on-call.md)",
            topics=[on_call.topic, escalation.topic])
        self.state, self.on_call, self.kill_switch, self.unhandled = state, on_call, kill_switch, unhandled
        self.escalation = escalation

        code = function_code(catalog)
        # aws-lambda-powertools and pydantic v2 (the layer is built with all extras); boto3 is the runtime's.
        powertools = lambda_.LayerVersion.from_layer_version_arn(
            self, "PowertoolsLayer", powertools_layer_arn(catalog, powertools_layer_version))
        # Exactly the fields of functions.core.settings.Settings, plus Powertools' own.
        environment = {
            "CATALOG_PATH": CATALOG_PATH_IN_LAMBDA,
            "AUDIT_TABLE": state.audit.table_name,
            "BREAKER_TABLE": state.breaker.table_name,
            "IDEMPOTENCY_TABLE": state.idempotency.table_name,
            "TOPIC_ARN": on_call.topic.topic_arn,
            "ESCALATION_TOPIC_ARN": escalation.topic.topic_arn,
            "KILL_SWITCH_PARAMETER": kill_switch.parameter.parameter_name,
            "DRY_RUN": "false",  # the catalog's guardrails.dry_run applies as well (functions.core.guard)
            "POWERTOOLS_SERVICE_NAME": SERVICE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        # Third-party packages only the functions that declare them get, as a layer (redshift-connector).
        connector = None
        if any(d.requirements for d in PLAYBOOKS.values()):
            from infra.constructs.maintenance_jobs import RedshiftConnectorLayer

            connector = RedshiftConnectorLayer(self, "RedshiftConnector")
        self.functions: dict[str, PlaybookFunction] = {}
        self.routes: dict[str, AlarmRoute] = {}
        for name, declaration in PLAYBOOKS.items():
            logical = "".join(part.title() for part in name.split("_"))  # msk_consumer_lag -> MskConsumerLag
            function = PlaybookFunction(
                self, logical,
                function_name=names.function_name(catalog, name),
                log_group_name=names.log_group_name(catalog, name),
                handler=declaration.handler,
                description=f"Runbook: {declaration.runbook_section} (playbook {name})",
                code=code,
                layers=[powertools, connector.layer] if declaration.requirements and connector else [powertools],
                environment=environment,
                statements=function_statements(catalog, declaration),
                failure_queue=unhandled.queue,
                log_retention=log_retention,
                retain_logs=retain,
                network=_network(catalog, declaration),
            )
            self.functions[name] = function
            self.routes[name] = AlarmRoute(
                self, f"{logical}Route",
                rule_name=names.rule_name(catalog, name),
                description=f"Alarms of signals {', '.join(declaration.signals)} -> playbook {name}",
                alarm_name_prefixes=[signal_prefix(catalog.prefix, s) for s in declaration.signals],
                function=function.function,
                failure_queue=unhandled.queue,
            )
            if declaration.glue_job_states:
                # The run itself, as Glue reports it: the failed run's id is in the event (the alarm has none).
                # One rule while the job names fit one pattern (infra/patterns.py); more when they do not.
                states = list(declaration.glue_job_states)
                for index, pattern in enumerate(split_by_names(
                        [job.name for job in catalog.glue_jobs],
                        lambda jobs, states=states: {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
                                                     "detail": {"state": states, "jobName": jobs}})):
                    suffix = str(index + 1) if index else ""
                    EventRoute(self, f"{logical}GlueRoute{suffix}",
                               rule_name=f"{names.rule_name(catalog, name)}-glue" + (f"-{suffix}" if suffix else ""),
                               description=f"Glue Job State Change {'/'.join(declaration.glue_job_states)} of the "
                                           f"catalog's jobs -> playbook {name}",
                               function=function.function, failure_queue=unhandled.queue, pattern=pattern)
            if declaration.schedule:
                EventRoute(self, f"{logical}Checks", rule_name=f"{names.rule_name(catalog, name)}-checks",
                           description=f"Scheduled checks of playbook {name}: verification windows, leases",
                           function=function.function, failure_queue=unhandled.queue,
                           schedule=declaration.schedule)
        self.slack = None
        if catalog.notifications.slack is not None:  # on call in Slack (functions/chat, docs/slack.md)
            from infra.constructs.slack import SlackFunction

            self.slack = SlackFunction(self, "Slack", catalog=catalog, code=code, powertools=powertools,
                                       environment=environment, topic=on_call.topic, log_retention=log_retention,
                                       retain=retain)

"""RemediationStack: safety-core state, on-call topic, kill switch, failure queue, one function and one
rule per playbook declaration."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.naming import signal_prefix
from functions.core.settings import Settings
from functions.playbooks import PLAYBOOKS
from infra.constructs.playbook_function import RESERVED_CONCURRENCY
from tests.infra.helpers import Synth, physical_name, props, resources

pytestmark = pytest.mark.infra

SETTINGS_VARIABLES = {field.alias for field in Settings.model_fields.values()}
POWERTOOLS_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"}


def by_name(template: dict[str, Any], kind: str, key: str) -> dict[str, dict[str, Any]]:
    return {p[key]: p for p in props(template, kind)}


def logical_id(template: dict[str, Any], kind: str, key: str, value: str) -> str:
    [found] = [k for k, v in resources(template, kind).items() if v["Properties"].get(key) == value]
    return found


def functions(synth: Synth) -> dict[str, dict[str, Any]]:
    """Playbook name -> its function's properties (by the naming convention <prefix>-<playbook>)."""
    by_fn = by_name(synth.remediation, "AWS::Lambda::Function", "FunctionName")
    return {name: by_fn[f"{synth.catalog.prefix}-{name.replace('_', '-')}"] for name in PLAYBOOKS}


def test_safety_core_tables(synth: Synth) -> None:
    prefix = synth.catalog.prefix
    tables = by_name(synth.remediation, "AWS::DynamoDB::Table", "TableName")
    keys = {name: {k["AttributeName"]: k["KeyType"] for k in t["KeySchema"]} for name, t in tables.items()}
    slack = {f"{prefix}-chat-messages": {"incident_id": "HASH"}} if synth.catalog.notifications.slack else {}
    assert keys == {f"{prefix}-audit": {"incident_id": "HASH", "seq": "RANGE"},
                    f"{prefix}-breaker": {"target": "HASH"},
                    f"{prefix}-idempotency": {"id": "HASH"}, **slack}  # the Slack messages: tests/infra/test_slack.py
    for table in tables.values():
        assert {a["AttributeType"] for a in table["AttributeDefinitions"]} == {"S"}
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert table["SSESpecification"]["SSEEnabled"] is True
    # Powertools idempotency writes the record's expiry (epoch seconds) to `expiration`.
    assert tables[f"{prefix}-idempotency"]["TimeToLiveSpecification"] == {"AttributeName": "expiration",
                                                                          "Enabled": True}
    assert "TimeToLiveSpecification" not in tables[f"{prefix}-audit"]  # the audit trail is kept
    # Answered approvals and closed verification windows carry purge_at (functions/core/adapters/dynamodb.py).
    assert tables[f"{prefix}-breaker"]["TimeToLiveSpecification"] == {"AttributeName": "purge_at", "Enabled": True}


def test_prod_keeps_its_state_when_the_stack_goes(synths: dict[str, Synth]) -> None:
    for env, expected in (("prod", "Retain"), ("dev", "Delete")):
        for table in resources(synths[env].remediation, "AWS::DynamoDB::Table").values():
            assert table["DeletionPolicy"] == expected, env


def test_on_call_topic_kill_switch_and_failure_queue(synth: Synth) -> None:
    catalog = synth.catalog
    topics = {t["TopicName"] for t in props(synth.remediation, "AWS::SNS::Topic")}
    assert topics == {catalog.notifications.on_call_topic, catalog.notifications.escalation_topic}
    for policy in props(synth.remediation, "AWS::SNS::TopicPolicy"):
        [deny] = policy["PolicyDocument"]["Statement"]
        assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    # E-mail on call; the escalation topic's subscriber is the paging service, subscribed by a person.
    emails = {s["Endpoint"] for s in props(synth.remediation, "AWS::SNS::Subscription") if s["Protocol"] == "email"}
    assert emails == set(catalog.notifications.emails)

    [parameter] = props(synth.remediation, "AWS::SSM::Parameter")
    assert (parameter["Name"], parameter["Type"], parameter["Value"]) == (
        catalog.guardrails.kill_switch_parameter, "String", "off")

    [queue] = props(synth.remediation, "AWS::SQS::Queue")
    assert queue["QueueName"] == f"{catalog.prefix}-unhandled-events"
    assert queue["SqsManagedSseEnabled"] is True
    [queue_policy] = props(synth.remediation, "AWS::SQS::QueuePolicy")
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in queue_policy["PolicyDocument"]["Statement"])


def test_one_message_in_the_failure_queue_pages_on_call_and_the_escalation_topic(synth: Synth) -> None:
    catalog = synth.catalog
    [alarm] = props(synth.remediation, "AWS::CloudWatch::Alarm")
    assert alarm["AlarmName"] == f"{catalog.prefix}/unhandled-events/sqs:{catalog.prefix}-unhandled-events"
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Period"]) == (
        "AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", 60)
    assert (alarm["Threshold"], alarm["ComparisonOperator"], alarm["EvaluationPeriods"], alarm["TreatMissingData"]) \
        == (1, "GreaterThanOrEqualToThreshold", 1, "notBreaching")
    [dimension] = alarm["Dimensions"]
    assert dimension["Name"] == "QueueName"
    topics = {logical_id(synth.remediation, "AWS::SNS::Topic", "TopicName", name)
              for name in (catalog.notifications.on_call_topic, catalog.notifications.escalation_topic)}
    for actions in (alarm["AlarmActions"], alarm["OKActions"]):
        assert {a["Ref"] for a in actions} == topics


def test_one_function_per_playbook(synth: Synth) -> None:
    layer = (f"arn:aws:lambda:{synth.catalog.region}:017000801446:layer:"
             f"AWSLambdaPowertoolsPythonV3-python314-x86_64:")
    for name, function in functions(synth).items():
        declaration = PLAYBOOKS[name]
        assert function["Handler"] == declaration.handler
        assert function["Runtime"] == "python3.14"
        assert (function["MemorySize"], function["Timeout"]) == (256, 60)
        assert function["TracingConfig"] == {"Mode": "Active"}
        assert function["Architectures"] == ["x86_64"]
        [powertools, *bundled] = function["Layers"]
        assert powertools.startswith(layer) and powertools.rsplit(":", 1)[1].isdigit()
        # Third-party packages (redshift-connector) only for the function that declares them, as a layer.
        assert len(bundled) == (1 if declaration.requirements else 0), name
        assert ("VpcConfig" in function) == declaration.in_vpc, name
    roles = [f["Role"]["Fn::GetAtt"][0] for f in functions(synth).values()]
    assert len(set(roles)) == len(roles) == len(PLAYBOOKS), "a role per function, none shared"


def test_reserved_concurrency_bounds_how_many_remediations_run_at_once(synth: Synth) -> None:
    """The blast radius of an alarm storm: per playbook at most RESERVED_CONCURRENCY at once (the rest queue)."""
    assert 1 <= RESERVED_CONCURRENCY <= 10
    for name, function in functions(synth).items():
        assert function["ReservedConcurrentExecutions"] == RESERVED_CONCURRENCY, name


def test_every_function_of_ours_is_traced_and_its_role_declares_what_tracing_needs(synth: Synth) -> None:
    """tracing=ACTIVE on every function of every stack; CDK may not add the X-Ray grant to a role complete as
    declared, so each role's own policy carries exactly PutTraceSegments and PutTelemetryRecords on '*'."""
    xray = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    checked = 0
    for template in synth.templates.values():
        policies = resources(template, "AWS::IAM::Policy").values()
        for function in props(template, "AWS::Lambda::Function"):
            if not str(function.get("Handler", "")).startswith("functions.handlers."):
                continue  # CDK's own providers (custom resources)
            assert function["TracingConfig"] == {"Mode": "Active"}, function["FunctionName"]
            role = function["Role"]["Fn::GetAtt"][0]
            granted = [s for p in policies if {"Ref": role} in p["Properties"]["Roles"]
                       for s in p["Properties"]["PolicyDocument"]["Statement"]]
            traces = [s for s in granted if set(s["Action"] if isinstance(s["Action"], list) else [s["Action"]]) & xray]
            assert len(traces) == 1 and set(traces[0]["Action"]) == xray and traces[0]["Resource"] == "*", function
            checked += 1
    assert checked >= len(PLAYBOOKS)


def test_each_function_logs_to_its_own_group_with_retention(synth: Synth) -> None:
    groups = resources(synth.remediation, "AWS::Logs::LogGroup")
    for function in functions(synth).values():
        group = groups[function["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert group["LogGroupName"] == f"/aws/lambda/{function['FunctionName']}"
        assert group["RetentionInDays"] > 0


def test_function_environment_is_exactly_the_settings(synth: Synth) -> None:
    catalog, template = synth.catalog, synth.remediation
    for function in functions(synth).values():
        variables = function["Environment"]["Variables"]
        assert set(variables) == SETTINGS_VARIABLES | POWERTOOLS_VARIABLES
        assert variables["CATALOG_PATH"] == "/var/task/catalog.json"
        assert physical_name(template, variables["AUDIT_TABLE"]) == f"{catalog.prefix}-audit"
        assert physical_name(template, variables["BREAKER_TABLE"]) == f"{catalog.prefix}-breaker"
        assert physical_name(template, variables["IDEMPOTENCY_TABLE"]) == f"{catalog.prefix}-idempotency"
        assert physical_name(template, variables["TOPIC_ARN"]) == catalog.notifications.on_call_topic
        assert physical_name(template, variables["KILL_SWITCH_PARAMETER"]) == catalog.guardrails.kill_switch_parameter
        assert variables["DRY_RUN"] == "false"
        assert (variables["POWERTOOLS_SERVICE_NAME"], variables["POWERTOOLS_LOG_LEVEL"]) == ("remedy", "INFO")
        # What the function parses at cold start (functions.core.settings) accepts these names.
        Settings.model_validate({k: "x" for k in SETTINGS_VARIABLES} | {"DRY_RUN": variables["DRY_RUN"]})


def test_async_delivery_retries_then_parks_the_event(synth: Synth) -> None:
    template = synth.remediation
    queue = logical_id(template, "AWS::SQS::Queue", "QueueName", f"{synth.catalog.prefix}-unhandled-events")
    configs = {c["FunctionName"]["Ref"]: c for c in props(template, "AWS::Lambda::EventInvokeConfig")}
    for function in functions(synth).values():
        fn = logical_id(template, "AWS::Lambda::Function", "FunctionName", function["FunctionName"])
        config = configs[fn]
        assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (2, 6 * 3600)
        assert config["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [queue, "Arn"]}


def test_one_rule_per_playbook_routes_its_signals(synth: Synth) -> None:
    prefix, template = synth.catalog.prefix, synth.remediation
    rules = by_name(template, "AWS::Events::Rule", "Name")
    queue = logical_id(template, "AWS::SQS::Queue", "QueueName", f"{prefix}-unhandled-events")
    extra = sum(bool(d.glue_job_states) + bool(d.schedule) for d in PLAYBOOKS.values())
    assert len(rules) == len(PLAYBOOKS) + extra
    for name, declaration in PLAYBOOKS.items():
        rule = rules[f"{prefix}-{name}"]
        assert rule["EventPattern"] == {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [{"prefix": signal_prefix(prefix, s)} for s in declaration.signals]},
        }
        [target] = rule["Targets"]
        fn = logical_id(template, "AWS::Lambda::Function", "FunctionName", f"{prefix}-{name.replace('_', '-')}")
        assert target["Arn"] == {"Fn::GetAtt": [fn, "Arn"]}
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        permissions = [p for p in props(template, "AWS::Lambda::Permission")
                       if p["FunctionName"] == {"Fn::GetAtt": [fn, "Arn"]}]
        routes = 1 + bool(declaration.glue_job_states) + bool(declaration.schedule)
        assert [p["Principal"] for p in permissions] == ["events.amazonaws.com"] * routes


def test_glue_state_changes_and_scheduled_checks_have_their_own_routes(synth: Synth) -> None:
    prefix, template = synth.catalog.prefix, synth.remediation
    rules = by_name(template, "AWS::Events::Rule", "Name")
    for name, declaration in PLAYBOOKS.items():
        fn = logical_id(template, "AWS::Lambda::Function", "FunctionName", f"{prefix}-{name.replace('_', '-')}")
        if declaration.glue_job_states:
            rule = rules[f"{prefix}-{name}-glue"]
            assert rule["EventPattern"] == {
                "source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
                "detail": {"state": list(declaration.glue_job_states),
                           "jobName": [j.name for j in synth.catalog.glue_jobs]}}
            assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [fn, "Arn"]}]
        if declaration.schedule:
            rule = rules[f"{prefix}-{name}-checks"]
            assert rule["ScheduleExpression"] == declaration.schedule
            assert [t["Arn"] for t in rule["Targets"]] == [{"Fn::GetAtt": [fn, "Arn"]}]


def test_every_alarm_reaches_the_playbook_of_its_signal_and_no_other(synth: Synth) -> None:
    """Monitoring and remediation agree: an alarm name matches the rule of the playbook that declares its
    signal, and nothing else; an alarm whose signal no playbook answers (it pages a person, feeds the
    lineage hold) and every composite alarm match no rule."""
    rules = [r for r in props(synth.remediation, "AWS::Events::Rule")
             if "alarmName" in r.get("EventPattern", {}).get("detail", {})]
    alarms = [*props(synth.monitoring, "AWS::CloudWatch::Alarm"),
              *props(synth.monitoring, "AWS::CloudWatch::CompositeAlarm")]
    for alarm in alarms:
        name = alarm["AlarmName"]
        matched = [r["Name"] for r in rules
                   if any(name.startswith(p["prefix"]) for p in r["EventPattern"]["detail"]["alarmName"])]
        signal = name.split("/")[1]
        playbooks = [n for n, d in PLAYBOOKS.items() if signal in d.signals]
        assert len(playbooks) <= 1, f"signal {signal} is declared by {playbooks}"
        assert matched == [f"{synth.catalog.prefix}-{p}" for p in playbooks], name

"""Powertools Logger and Metrics on the handlers (functions/core/observability.py), in the sandbox: the EMF lines
the handler prints (its outcome metric, Metrics' cold-start flush) become metrics in the emulated CloudWatch, with
the names and dimensions the remediation dashboard reads. Traces are Lambda's own (active tracing, no SDK in the
function: Powertools Tracer and the X-Ray SDK are gone, issue 16)."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from functions.core.observability import METRICS_NAMESPACE, SERVICE
from remedy.gameday.drill import Drill
from sandbox.core import Sandbox

pytestmark = pytest.mark.integration

JOB = "orders-stream"


def metrics(sandbox: Sandbox, name: str) -> list[dict[str, str]]:
    listed = sandbox.client("cloudwatch").list_metrics(Namespace=METRICS_NAMESPACE, MetricName=name)["Metrics"]
    return [{d["Name"]: d["Value"] for d in m["Dimensions"]} for m in listed]


def test_a_game_day_invocation_publishes_its_outcome_and_cold_start_metrics(sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    d.stop_streaming_job(JOB, error="Connection to node -1 could not be established")
    d.consumer_lag(JOB, [20_000] * 5)  # measured by the lag probe: another function, in this same process
    cold_start.reset_cold_start_flag()  # the playbook's own new container, whatever this process ran before
    (invocation,) = [i for delivery in d.fire() for i in delivery.invocations]
    assert invocation.error is None and invocation.result["status"] == "ACTED"

    # The dashboard's metric: Outcome by Playbook, Status and service (infra/constructs/dashboards.py).
    assert {"Playbook": "msk_consumer_lag", "Status": "ACTED", "service": SERVICE} in metrics(sandbox, "Outcome")
    # Metrics' own flush at the end of the handler (log_metrics): the cold start of this function.
    assert {"function_name": invocation.function, "service": SERVICE} in metrics(sandbox, "ColdStart")
    emf = [json.loads(line) for line in invocation.logs if line.startswith('{"_aws"')]
    assert {m["Name"] for record in emf for d in record["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]} >= {
        "Outcome", "ColdStart"}
    # Its structured logs carry the Lambda context Logger injected.
    logged = [json.loads(line) for line in invocation.logs if line.startswith('{"level"')]
    assert logged and all(entry["function_name"] == invocation.function for entry in logged)


def test_an_invocation_runs_without_the_xray_sdk_and_the_template_keeps_lambdas_active_tracing(
        sandbox: Sandbox) -> None:
    d = Drill(sandbox)
    d.stop_streaming_job(JOB, error="Connection to node -1 could not be established")
    d.consumer_lag(JOB, [20_000] * 5)
    (invocation,) = [i for delivery in d.fire() for i in delivery.invocations]
    assert invocation.error is None and invocation.result["status"] == "ACTED"
    # No Tracer to build a segment (tests/unit/test_handler_imports.py: no function code loads the X-Ray SDK).
    from functions.core import observability

    assert not hasattr(observability, "tracer") and "Tracer" not in vars(observability)
    # What traces the function: Lambda itself, by configuration (TracingConfig Active in the template).
    spec = sandbox.function(invocation.function)
    resource = next(r for t in sandbox.templates.values() for r in t["Resources"].values()
                    if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("FunctionName") == spec.name)
    assert resource["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert "POWERTOOLS_TRACE_DISABLED" not in sandbox.function_environment(spec)  # nothing left to switch off

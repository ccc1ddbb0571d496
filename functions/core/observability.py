"""Powertools Logger and Metrics: the one set every handler (functions/handlers) is wrapped in.

    @observed
    def handler(event, context): ...

is Powertools' decorators in their documented order (logger.inject_lambda_context(clear_state=True),
metrics.log_metrics(capture_cold_start_metric=True)).

No Powertools Tracer (issue 16): it imports the AWS X-Ray SDK at init, about 180-250 ms of a 280 ms init here
(`python -X importtime`), and that SDK is in maintenance mode since 2026-02-25, end of support 2027-02-25 (AWS
X-Ray developer guide, "X-Ray SDK and daemon end of support timeline"). Traces still come from Lambda's active
tracing (Tracing: Active on every function): the function's segment with its Initialization, Invocation and
Overhead subsegments and its errors. What Tracer added on top (a "## handler" subsegment with ColdStart and
Service annotations, and one subsegment per AWS SDK call) is not recorded: cold starts show as the Initialization
subsegment, outcomes are in the logs, the metrics and the audit trail. Per-call spans come back by configuration,
without code, with the AWS Distro for OpenTelemetry Lambda layer (docs/architecture.md, "Tracing").

This module is all a handler imports at init (cold start: docs/figures.md, make bench): keep it to Powertools
itself, nothing of ours. Metrics are EMF log lines (no PutMetricData call, no permission): CloudWatch Logs turns
them into metrics, the sandbox does the same (sandbox/emf.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

SERVICE = "remedy"  # POWERTOOLS_SERVICE_NAME of every function: one service in logs and metrics
METRICS_NAMESPACE = "Remedy/Remediation"  # the remediation dashboard's (infra/constructs/dashboards.py)

logger = Logger(service=SERVICE)
# ColdStart (dimensions function_name, service) per cold start. The outcome metrics are published where the
# outcome is known, each with its own dimensions (functions.core.runtime._publish_metrics, single_metric):
# an invocation that publishes none (a rejected event, a probe) is normal, not worth a warning per call.
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
warnings.filterwarnings("ignore", "No application metrics to publish")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def observed(handler: Handler) -> Handler:
    """The handler with its log context (cleared per invocation) and its metrics flushed (ColdStart included):
    the same on every function, so a function cannot be missing one of them."""
    wrapped = metrics.log_metrics(capture_cold_start_metric=True)(handler)
    return logger.inject_lambda_context(clear_state=True)(wrapped)  # type: ignore[return-value]

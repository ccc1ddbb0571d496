"""Powertools Logger, Tracer and Metrics: the one set every handler (functions/handlers) is wrapped in.

    @observed
    def handler(event, context): ...

is the three decorators of Powertools' docs, in their order (logger.inject_lambda_context(clear_state=True),
tracer.capture_lambda_handler, metrics.log_metrics(capture_cold_start_metric=True)).

This module is all a handler imports at init (cold start target: at most 1.5 times a minimal Powertools handler,
README "Benchmarks"): keep it to Powertools itself, nothing of ours.

What runs where is configuration, not code: Tracer sends segments only inside Lambda with active tracing
(X-Ray), and not where POWERTOOLS_TRACE_DISABLED is true (the sandbox sets it: no X-Ray daemon there; it
also turns itself off outside Lambda). Metrics are EMF log lines (no PutMetricData call, no permission):
CloudWatch Logs turns them into metrics, the sandbox does the same (sandbox/emf.py).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "remedy"  # POWERTOOLS_SERVICE_NAME of every function: one service in logs, traces and metrics
METRICS_NAMESPACE = "Remedy/Remediation"  # the remediation dashboard's (infra/constructs/dashboards.py)

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
# ColdStart (dimensions function_name, service) per cold start. The outcome metrics are published where the
# outcome is known, each with its own dimensions (functions.core.runtime._publish_metrics, single_metric):
# an invocation that publishes none (a rejected event, a probe) is normal, not worth a warning per call.
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
warnings.filterwarnings("ignore", "No application metrics to publish")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def observed(handler: Handler) -> Handler:
    """The handler with its log context (cleared per invocation), its trace segment and its metrics flushed
    (ColdStart included): the same on every function, so a function cannot be missing one of them."""
    wrapped = metrics.log_metrics(capture_cold_start_metric=True)(handler)
    wrapped = tracer.capture_lambda_handler(wrapped)
    return logger.inject_lambda_context(clear_state=True)(wrapped)  # type: ignore[return-value]

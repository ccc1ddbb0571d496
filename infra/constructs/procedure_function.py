"""One procedure step's function: a RemedyFunction (its own role holding exactly the declared grants, its
log group, tracing on). Step Functions invokes it synchronously, so it has no asynchronous retry or on-failure
destination: the state's Retry and Catch are its error handling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.lambda_function import RemedyFunction
from infra.permissions import Statement

TIMEOUT = Duration.seconds(120)  # a Data API statement may take tens of seconds; the state waits a bit longer


class ProcedureStepFunction(RemedyFunction):
    def __init__(self, scope: Construct, construct_id: str, *, function_name: str, log_group_name: str,
                 handler: str, description: str, code: lambda_.Code, layers: Sequence[lambda_.ILayerVersion],
                 environment: Mapping[str, str], statements: Sequence[Statement], log_retention: logs.RetentionDays,
                 retain_logs: bool):
        super().__init__(
            scope, construct_id, function_name=function_name, log_group_name=log_group_name, handler=handler,
            description=description, code=code, layers=layers, environment=environment, statements=statements,
            log_retention=log_retention, retain_logs=retain_logs,
            role_description=f"{function_name}: exactly what its step declares (functions/procedures)",
            timeout=TIMEOUT, delivery=None)

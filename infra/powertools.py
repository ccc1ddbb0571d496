"""What every function of the service shares about Powertools for AWS Lambda: the public layer it runs
with and the service name it logs and publishes metrics under (the `service` dimension of EMF metrics)."""

from __future__ import annotations

from functions.core.catalog import Catalog
from infra import names
from infra.constructs.playbook_function import RUNTIME

POWERTOOLS_ACCOUNT = "017000801446"  # publisher of the public Powertools for AWS Lambda layers
# POWERTOOLS_SERVICE_NAME of every function: the playbooks' Remedy/Remediation metrics carry it as the
# `service` dimension, so the remediation dashboard names it too.
SERVICE = "remedy"


def powertools_layer_arn(catalog: Catalog, version: int) -> str:
    runtime = RUNTIME.name.replace(".", "")  # python3.14 -> python314
    return (f"arn:{names.partition_for(catalog.region)}:lambda:{catalog.region}:{POWERTOOLS_ACCOUNT}:layer:"
            f"AWSLambdaPowertoolsPythonV3-{runtime}-x86_64:{version}")

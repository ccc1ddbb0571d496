"""The CDK app: both stacks of one env, built from config/<env>.yaml, checked by cdk-nag at synthesis.

    build_app("dev").synth()                     # what `cdk synth -c env=dev` runs (see app.py)
    build_app("dev", bundling=False).synth()     # tests: no asset bundling, same templates otherwise

Settings that are not part of the catalog (the Powertools layer version, log retention, CDK feature
flags) live in cdk.json's context. The CLI passes that context itself; in-process builds read the same
file, so a test synthesizes the templates `cdk synth` would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aws_cdk import App, Aspects, Environment, Tags
from aws_cdk import aws_logs as logs

from functions.core.catalog import Catalog, catalog_path_for, load_catalog
from infra import names
from infra.checkov import CheckovSkips
from infra.nag import add_checks
from infra.stacks.monitoring import MonitoringStack
from infra.stacks.remediation import RemediationStack

ROOT = Path(__file__).resolve().parents[1]
CDK_JSON = ROOT / "cdk.json"

_RETENTION = {1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH",
              60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS",
              365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS"}


def cdk_json_context() -> dict[str, Any]:
    try:
        return dict(json.loads(CDK_JSON.read_text(encoding="utf-8")).get("context", {}))
    except FileNotFoundError:
        return {}


def _log_retention(app: App, env: str) -> logs.RetentionDays:
    by_env = app.node.try_get_context("log_retention_days") or {}
    days = int(by_env.get(env, 30)) if isinstance(by_env, dict) else int(by_env)
    if days not in _RETENTION:
        raise ValueError(f"log_retention_days={days}: CloudWatch Logs accepts {sorted(_RETENTION)}")
    return logs.RetentionDays[_RETENTION[days]]


def cli_env(default: str = "dev") -> str:
    """The env the CDK CLI was asked for (`-c env=prod`); `default` when none was given."""
    probe = App(auto_synth=False)  # reads the CLI's context; never synthesized
    return str(probe.node.try_get_context("env") or default)


def _monitoring_parts(app: App, catalog: Catalog, monitoring: MonitoringStack, where: Environment) -> list[Any]:
    """Many pipelines (infra/monitoring_split.py): a stack per group of pipelines, then the outage count's."""
    from infra.monitoring_split import split
    from infra.stacks.monitoring import MonitoringPartStack

    stacks: list[Any] = []
    for part in split(catalog)[1:]:
        name = f"{names.monitoring_stack(catalog)}-{part.name}"
        stack = MonitoringPartStack(
            app, name, catalog=catalog, part=part, env=where, stack_name=name,
            description=(f"remedy ({catalog.env}): " + ("the outage count over every pipeline group"
                                                         if part.name == "outage" else
                                                         f"alarms and dashboards of pipeline group {part.name}")),
            termination_protection=catalog.env == "prod")
        # Group rules read the platform's broker alarms; the outage count reads every group's composites.
        stack.add_stack_dependency(monitoring, "composites read the platform's alarms by ARN")
        if part.name == "outage":
            for group in stacks:
                stack.add_stack_dependency(group, "the outage count reads the group's pipeline composites")
        stacks.append(stack)
    return stacks


def build_app(env: str = "dev", *, outdir: str | None = None, bundling: bool = True,
              catalog_path: str | Path | None = None) -> App:
    catalog: Catalog = load_catalog(catalog_path or catalog_path_for(env, ROOT))
    # Context precedence: cdk.json (defaults) < CLI (-c ...) < what this call insists on.
    final: dict[str, Any] = {} if bundling else {"aws:cdk:bundling-stacks": []}
    app = App(outdir=outdir, context=cdk_json_context(), post_cli_context=final)
    add_checks(app)
    Aspects.of(app).add(CheckovSkips())  # checkov's skips, each with its reason, in the templates

    layer_version = app.node.try_get_context("powertools_layer_version")
    if layer_version is None:
        raise ValueError("context powertools_layer_version is missing (cdk.json)")
    where = Environment(account=catalog.account_id, region=catalog.region)
    remediation = RemediationStack(
        app, names.remediation_stack(catalog), catalog=catalog, env=where,
        stack_name=names.remediation_stack(catalog),
        description=f"remedy ({catalog.env}): playbook functions, their rules, the safety core's state",
        powertools_layer_version=int(layer_version), log_retention=_log_retention(app, catalog.env),
        termination_protection=catalog.env == "prod",
    )
    monitoring = MonitoringStack(
        app, names.monitoring_stack(catalog), catalog=catalog, env=where,
        stack_name=names.monitoring_stack(catalog),
        description=f"remedy ({catalog.env}): the runbook's alarms, probes and dashboards",
        powertools_layer_version=int(layer_version), log_retention=_log_retention(app, catalog.env),
        termination_protection=catalog.env == "prod",
    )
    # Alarm actions publish to the on-call topic created by the remediation stack; the Glue outcomes probe
    # parks what it could not count in its unhandled-events queue.
    monitoring.add_stack_dependency(remediation, "alarm actions publish to the on-call topic")
    for stack in (remediation, monitoring, *_monitoring_parts(app, catalog, monitoring, where)):
        Tags.of(stack).add("service", catalog.service_name)
        Tags.of(stack).add("env", catalog.env)
    # Runbook "Maintenance": the regular tasks and the backup posture, on EventBridge Scheduler.
    from infra.stacks.maintenance import MaintenanceStack, maintenance_stack_name

    maintenance = MaintenanceStack(
        app, maintenance_stack_name(catalog), catalog=catalog, env=where, stack_name=maintenance_stack_name(catalog),
        description=f"remedy ({catalog.env}): the runbook's regular maintenance tasks and backup posture, scheduled",
        powertools_layer_version=int(layer_version), log_retention=_log_retention(app, catalog.env),
        termination_protection=catalog.env == "prod",
    )
    maintenance.add_stack_dependency(remediation, "reports go to the on-call topic; the audit trail is read")
    Tags.of(maintenance).add("service", catalog.service_name)
    Tags.of(maintenance).add("env", catalog.env)
    # Runbook "Emergency Procedures" and "Scaling": Standard state machines, started by people (remedy incident).
    from infra.constructs.procedure_permissions import procedures_stack
    from infra.stacks.procedures import ProceduresStack

    procedures = ProceduresStack(
        app, procedures_stack(catalog), catalog=catalog, env=where, stack_name=procedures_stack(catalog),
        description=f"remedy ({catalog.env}): the runbook's emergency and scaling procedures (Step Functions)",
        powertools_layer_version=int(layer_version), log_retention=_log_retention(app, catalog.env),
        termination_protection=catalog.env == "prod",
    )
    procedures.add_stack_dependency(remediation, "steps write the audit trail and notify the on-call topic")
    Tags.of(procedures).add("service", catalog.service_name)
    Tags.of(procedures).add("env", catalog.env)
    return app

"""Wiring for the maintenance handlers: settings, catalog and adapters, built per invocation (the jobs run
once a day at most: nothing worth caching between invocations, and nothing stale after a re-deploy)."""

from __future__ import annotations

import os
from typing import Any

from pydantic import Field

from functions.core.catalog import load_catalog
from functions.core.observability import logger  # the playbooks' own: one service in the logs
from functions.core.settings import FunctionSettings
from functions.maintenance.jobs import Ports, run


class MaintenanceSettings(FunctionSettings):
    """The maintenance functions' environment (the template sets exactly these; REDSHIFT_* are read by the
    Redshift adapter itself)."""

    reports_bucket: str = Field(alias="REPORTS_BUCKET")
    audit_table: str | None = Field(default=None, alias="AUDIT_TABLE")
    topic_arn: str | None = Field(default=None, alias="TOPIC_ARN")
    # The doctor job: sql/redshift-grants.sql rendered for the catalog (the asset carries no sql/ directory).
    redshift_grants: str | None = Field(default=None, alias="REDSHIFT_GRANTS")


def ports_for(job: str, environ: dict[str, str] | None = None) -> Ports:
    from functions.core.adapters.clients import Clients
    from functions.core.adapters.clock import SystemClock
    from functions.core.adapters.sns import SnsNotifier
    from functions.maintenance.adapters import (
        CloudWatchAlarmHistory,
        DynamoAuditReader,
        RedshiftBackups,
        S3ReportStore,
        S3Storage,
        emit_emf,
        redshift_history,
    )

    settings = MaintenanceSettings.model_validate(dict(os.environ if environ is None else environ))
    catalog = load_catalog(settings.catalog_path)
    clients = Clients()
    ports = Ports(catalog=catalog, clock=SystemClock(), store=S3ReportStore(clients, settings.reports_bucket),
                  emit=emit_emf)
    if settings.topic_arn:
        ports.notifier = SnsNotifier(clients, settings.topic_arn)
    if job == "weekly_review":
        ports.audit = DynamoAuditReader(clients, settings.audit_table or f"{catalog.prefix}-audit")
        ports.alarms = CloudWatchAlarmHistory(clients)
    elif job == "redshift_analysis":
        ports.redshift = lambda: redshift_history(clients, catalog)
    elif job in ("doctor", "doctor_vpc"):
        from functions.doctor.adapters import context_for

        ports.doctor = context_for(catalog, clients, grants_sql=settings.redshift_grants, in_vpc=job == "doctor_vpc")
    else:
        ports.storage = S3Storage(clients)
        ports.backups = RedshiftBackups(clients)
    return ports


def handle(event: Any, job: str) -> dict[str, Any]:
    result = run(job, event, ports_for(job))
    logger.info("maintenance report", extra={"job": job, "status": result.get("status"),
                                             "period": result.get("period"), "summary": result.get("summary",
                                                                                                  result.get("reason"))})
    return result

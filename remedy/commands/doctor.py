"""`remedy doctor --env ENV`: a read-only preflight against the account in the caller's credentials.

Runs the `api` and `templates` checks of functions.doctor.checks.CHECKS (the second against the stacks it
synthesizes, as `cdk deploy` would), then shows the latest report of the daily in-VPC run (`vpc` checks: the
brokers and the cluster are private) with its age. Each finding: PASS / WARN / FAIL, what was looked at, the
fix. Exit codes: 0 nothing failed, 1 a check failed, 2 bad input (one line). `--json` for machines.
Endpoints and credentials are configuration (AWS_PROFILE, AWS_ENDPOINT_URL …), as for the AWS CLI.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from functions.doctor import WHERE_TEXT, Finding

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
STALE_HOURS = 36  # the daily run's report is older than a day and a half: it stopped running


def template_inputs(templates: dict[str, dict[str, Any]], region: str) -> tuple[list[Any], dict[str, int], str | None]:
    """From the synthesized stacks: the endpoints the in-VPC functions need, the reserved concurrency each
    function asks, and the Powertools layer version ARN the functions use."""
    from functions.doctor.checks import RequiredEndpoint
    from infra.network import required_endpoints

    endpoints = [RequiredEndpoint(e.service, e.name, e.kind, tuple(e.functions))
                 for e in required_endpoints(templates, region)]
    reserved: dict[str, int] = {}
    layer = None
    for template in templates.values():
        for logical, resource in template.get("Resources", {}).items():
            if resource.get("Type") != "AWS::Lambda::Function":
                continue
            props = resource.get("Properties", {})
            name = str(props.get("FunctionName", logical))
            if props.get("ReservedConcurrentExecutions") is not None:
                reserved[name] = int(props["ReservedConcurrentExecutions"])
            for arn in props.get("Layers", []):
                if isinstance(arn, str) and ":layer:AWSLambdaPowertoolsPython" in arn:
                    layer = arn
    return endpoints, reserved, layer


def latest_daily(clients: Any, catalog: Any, kind: str = "doctor-vpc") -> tuple[list[Finding], datetime | None, str]:
    """The newest report of a daily doctor job in the reports bucket: its findings, when, and its key."""
    from botocore.exceptions import ClientError

    from functions.maintenance import reports_bucket

    s3 = clients("s3")
    bucket = reports_bucket(catalog)
    try:
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{kind}/")
                for o in page.get("Contents", []) if o["Key"].endswith(".json")]
        if not keys:
            return [], None, ""
        key = sorted(keys)[-1]
        document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        return [Finding("private-endpoints", "WARN", f"s3://{bucket}/{kind}/", f"cannot read the daily run's "
                        f"reports ({code})", f"aws s3 ls s3://{bucket}/{kind}/ (needs s3:ListBucket and "
                        f"s3:GetObject on {kind}/*)")], None, ""
    at = datetime.fromisoformat(document["generated_at"])
    findings = [Finding(**f) for f in document.get("report", {}).get("findings", [])]
    return findings, at, f"s3://{bucket}/{key}"


def collect(catalog: Any, clients: Any, templates: dict[str, dict[str, Any]] | None, grants_sql: str,
            progress: Any = None) -> tuple[list[Finding], dict[str, Any]]:
    """Every finding `remedy doctor` prints: the api and templates checks now, the vpc ones from the daily run."""
    from functions.doctor.adapters import context_for
    from functions.doctor.checks import run_checks

    ctx = context_for(catalog, clients, grants_sql=grants_sql)
    where = {"api"}
    if templates is not None:
        ctx.required_endpoints, ctx.reserved_asked, ctx.powertools_layer = template_inputs(templates, catalog.region)
        where.add("templates")
    findings = run_checks(ctx, where, progress)
    daily, at, key = latest_daily(clients, catalog)
    meta: dict[str, Any] = {"daily_report": key or None, "daily_generated_at": at.isoformat() if at else None}
    if at is None and not daily:
        findings.append(Finding("private-endpoints", "WARN", "daily in-VPC run", "no report yet (it runs after "
                                "the first deploy, daily)", f"aws lambda invoke --function-name {catalog.prefix}-"
                                f"doctor-vpc --payload '{{\"job\": \"doctor_vpc\"}}' /dev/stdout"))
    else:
        hours = (datetime.now(UTC) - at).total_seconds() / 3600 if at else 0.0
        meta["daily_age_hours"] = round(hours, 1)
        findings += [Finding(f.check, f.status, f.subject, f"{f.detail} (daily run {hours:.0f} h ago)", f.fix)
                     for f in daily]
        if hours > STALE_HOURS:
            findings.append(Finding("private-endpoints", "WARN", "daily in-VPC run", f"latest report {hours:.0f} h "
                                    f"old ({key}): the schedule stopped running", f"aws scheduler get-schedule "
                                    f"--name {catalog.prefix}-doctor-vpc"))
    return findings, meta


def _boto_clients(catalog: Any) -> Any:
    """Clients with the caller's credentials and configuration (AWS_PROFILE, AWS_ENDPOINT_URL …)."""
    from remedy.commands.incident import _boto

    return _boto(catalog)


def doctor(env: str, as_json: bool, templates_needed: bool = True) -> int:
    from functions.core.catalog import load_catalog
    from functions.doctor.checks import CHECKS
    from remedy.cli import _catalog_for_env
    from remedy.redshift_grants import for_catalog

    catalog_path: Path = _catalog_for_env(env)
    catalog = load_catalog(catalog_path)
    templates = None
    if templates_needed:
        import infra  # noqa: F401 - quiets jsii's Node banner before aws_cdk starts it
        from infra.template import synthesized

        with err.status("synthesizing the stacks (what cdk deploy would deploy)…"):
            templates = synthesized(env, catalog_path=catalog_path).templates  # cached by its inputs' digest
    clients = _boto_clients(catalog)
    with err.status("checking…") as status:
        findings, meta = collect(catalog, clients, templates, for_catalog(catalog),
                                 progress=lambda spec: status.update(f"checking {spec.title}…"))
    failed = any(f.status == "FAIL" for f in findings)
    if as_json:
        where = {c.id: c.where for c in CHECKS}
        print(json.dumps({"env": env, "account": catalog.account_id, "region": catalog.region,
                          "status": "FAIL" if failed else "PASS", **meta,
                          "findings": [{**f.as_dict(), "where": where.get(f.check)} for f in findings]}, indent=1))
    else:
        print_findings(out, findings, meta)
    return 1 if failed else 0


def print_findings(console: Console, findings: list[Finding], meta: dict[str, Any]) -> None:
    from functions.doctor.checks import CHECKS

    style = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red"}
    for spec in CHECKS:
        mine = [f for f in findings if f.check == spec.id]
        if not mine:
            continue
        console.print(f"[bold]{spec.id}[/bold] — {escape(spec.title)} [dim]({WHERE_TEXT[spec.where]})[/dim]")
        for f in mine:
            console.print(f"  [{style[f.status]}]{f.status}[/{style[f.status]}] {escape(f.subject)}: "
                          f"{escape(f.detail)}", highlight=False)
            if f.fix and f.status != "PASS":
                console.print(f"       fix: {escape(f.fix)}", highlight=False)
    counts = {s: sum(f.status == s for f in findings) for s in ("PASS", "WARN", "FAIL")}
    console.print(f"{counts['PASS']} passed, {counts['WARN']} warnings, {counts['FAIL']} failed"
                  + (f"; in-VPC checks from {meta['daily_report']}" if meta.get("daily_report") else ""),
                  highlight=False)


def doctor_command(
    env: Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")] = "dev",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")] = False,
    sandbox: Annotated[bool, typer.Option("--sandbox", help="Check the local sandbox's emulated account (seeded "
                                                            "from the catalog, the stacks deployed) instead of "
                                                            "the account in your credentials")] = False,
) -> None:
    """Read-only preflight: does the account match the catalog, can the service work in it? (exit 1: a check failed)"""
    code = _in_the_sandbox(env, as_json) if sandbox else doctor(env, as_json)
    if code:
        raise typer.Exit(code)


def _in_the_sandbox(env: str, as_json: bool) -> int:
    """The same checks against a freshly started sandbox: what a deployed account passes. The CLI reaches it the
    way it reaches AWS, through configuration (AWS_ENDPOINT_URL and credentials)."""
    import os

    from remedy.cli import _catalog_for_env
    from sandbox.core import Sandbox

    catalog_path = _catalog_for_env(env)
    with err.status("starting the sandbox (synthesizing the stacks, seeding the data lake)…"):
        emulated = Sandbox(env, catalog_path=catalog_path).start()
    saved = {name: os.environ.get(name) for name in emulated.account.environ()}
    try:
        os.environ.update(emulated.account.environ())
        return doctor(env, as_json)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        emulated.stop()

"""`remedy doctor` against the strict sandbox: the seeded account passes every check; breaking one thing at a
time makes exactly that check FAIL, with its fix. The daily runs (maintenance jobs doctor, doctor_vpc) run the
same checks as their own least-privilege roles, keep their reports and page through their alarms."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.doctor import Finding
from remedy.commands.doctor import collect
from remedy.redshift_grants import for_catalog
from sandbox import seed_doctor
from sandbox.core import Sandbox
from sandbox.gaps import awslambda, kafka


def findings(sandbox: Sandbox) -> list[Finding]:
    found, _ = collect(sandbox.catalog, sandbox.client, sandbox.templates, for_catalog(sandbox.catalog))
    return found


def failed(found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.status == "FAIL"]


def test_the_seeded_account_passes_every_check(sandbox: Sandbox) -> None:
    found = findings(sandbox)
    assert not failed(found), [f for f in failed(found)]
    checks = {f.check for f in found if f.status == "PASS"}
    assert {"msk-cluster", "msk-topics", "consumer-lag-metrics", "glue-jobs", "s3-bucket", "redshift-cluster",
            "redshift-grants", "secrets", "on-call", "kill-switch", "alarm-routes", "network", "powertools-layer",
            "lambda-concurrency"} <= checks


def _revoke_grant(sb: Sandbox) -> None:
    from sandbox.gaps.redshift import standin

    standin().execute('REVOKE SELECT ON svv_table_info FROM "remedy"')


def _rename_job(sb: Sandbox) -> None:
    glue = sb.account.glue_backend()
    job = glue.jobs.pop("sales-batch")
    job.name = "sales-batch-v2"
    glue.jobs["sales-batch-v2"] = job


def _no_lag_metrics(sb: Sandbox) -> None:
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[sb.catalog.account_id][sb.catalog.region]
    backend.metric_data = [d for d in backend.metric_data if d.namespace != "AWS/Kafka"]


def _no_endpoint(sb: Sandbox) -> None:
    ec2 = sb.client("ec2")
    ssm = [e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"] if e["ServiceName"].endswith(".ssm")]
    ec2.delete_vpc_endpoints(VpcEndpointIds=ssm)


def _no_kill_switch(sb: Sandbox) -> None:
    sb.client("ssm").delete_parameter(Name=sb.catalog.guardrails.kill_switch_parameter)


def _brokers_off(sb: Sandbox) -> None:
    from moto.kafka.models import kafka_backends

    for cluster in kafka_backends[sb.catalog.account_id][sb.catalog.region].clusters.values():
        cluster.number_of_broker_nodes = 4


def _partitions_off(sb: Sandbox) -> None:
    arn = seed_doctor.cluster_arn(sb.catalog, sb.account)
    assert arn
    kafka.set_partitions(arn, "orders", 24)


def _no_layer(sb: Sandbox) -> None:
    awslambda.STATE.layers.clear()


def _new_account(sb: Sandbox) -> None:
    awslambda.set_concurrency_limit(10)


def _no_subscription(sb: Sandbox) -> None:
    sns = sb.client("sns")
    for sub in sns.list_subscriptions()["Subscriptions"]:
        sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])


BREAKS: dict[str, tuple[Callable[[Sandbox], None], str, str]] = {
    # name: (break it, the check that must fail, what its fix line says)
    "missing grant": (_revoke_grant, "redshift-grants", 'GRANT SELECT ON svv_table_info TO "remedy";'),
    "renamed job": (_rename_job, "glue-jobs", "glue_jobs[2].name"),
    "consumer group without lag metrics": (_no_lag_metrics, "consumer-lag-metrics", "glue_jobs[].lag_source"),
    "no VPC endpoint": (_no_endpoint, "network", "--service-name com.amazonaws.eu-west-1.ssm"),
    "kill switch deleted": (_no_kill_switch, "kill-switch", "aws ssm put-parameter --name /remedy/dev/kill-switch"),
    "broker count off": (_brokers_off, "msk-cluster", "msk.broker_count: 4"),
    "partitions off": (_partitions_off, "msk-topics", "msk.topics[0].partitions: 24"),
    "Powertools layer missing": (_no_layer, "powertools-layer", "powertools_layer_version in cdk.json"),
    "concurrency of a new account": (_new_account, "lambda-concurrency", "Concurrent executions"),
    "on call unsubscribed": (_no_subscription, "on-call", "aws sns subscribe"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_break_fails_its_check_once_with_its_fix(sandbox: Sandbox, name: str) -> None:
    breaking, check, fix = BREAKS[name]
    breaking(sandbox)
    try:
        found = failed(findings(sandbox))
    finally:
        if name == "missing grant":
            from sandbox.gaps.redshift import standin

            standin().execute('GRANT SELECT ON svv_table_info TO "remedy"')
    assert [f.check for f in found] == [check], [f.as_dict() for f in found]
    assert fix in found[0].fix, found[0].as_dict()


def test_cli_exit_codes_and_json(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from remedy.commands import doctor as command

    monkeypatch.setattr(command, "_boto_clients", lambda catalog: sandbox.client, raising=False)
    for name, value in sandbox.account.environ().items():
        monkeypatch.setenv(name, value)
    assert command.doctor("dev", as_json=True) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["status"] == "PASS" and {f["where"] for f in answer["findings"]} >= {"api", "templates", "vpc"}
    _no_kill_switch(sandbox)
    assert command.doctor("dev", as_json=False) == 1
    assert "FAIL SSM parameter /remedy/dev/kill-switch" in " ".join(capsys.readouterr().out.split())


def _run_daily(sandbox: Sandbox, job: str) -> dict[str, Any]:
    from functions.maintenance import schedule_name

    at = datetime.now(UTC).replace(microsecond=0)
    deliveries = sandbox.run_schedules(at, names=[schedule_name(sandbox.catalog, job)])
    invocation = deliveries[0].invocations[0]
    assert invocation.error is None, invocation.error
    return dict(invocation.result)


def test_daily_runs_report_page_and_show_in_the_cli(sandbox: Sandbox) -> None:
    healthy = _run_daily(sandbox, "doctor")
    assert healthy["status"] == "REPORTED" and "none failed" in healthy["summary"], healthy["summary"]
    vpc = _run_daily(sandbox, "doctor_vpc")
    assert "none failed" in vpc["summary"], vpc["text"]
    # The CLI shows the in-VPC run's findings, with their age.
    found, meta = collect(sandbox.catalog, sandbox.client, None, for_catalog(sandbox.catalog))
    assert meta["daily_report"].endswith(".json") and meta["daily_age_hours"] < 1
    assert any(f.check == "private-endpoints" and f.status == "PASS" and "daily run" in f.detail for f in found)

    _no_kill_switch(sandbox)
    cluster = sandbox.client("redshift").describe_clusters()["Clusters"][0]["Endpoint"]
    seed_doctor.BLOCKED.add((cluster["Address"], int(cluster["Port"])))
    broken = _run_daily(sandbox, "doctor")
    assert broken["summary"].startswith("1 check(s) failed: kill-switch"), broken["summary"]
    vpc = _run_daily(sandbox, "doctor_vpc")
    assert vpc["summary"].startswith("1 check(s) failed: private-endpoints"), vpc["text"]
    # the hourly period of the datapoints has ended an hour later
    changes = {e.alarm_name: e.state for e, _ in sandbox.evaluate_alarms(datetime.now(UTC) + timedelta(hours=1))}
    assert changes.get("remedy-dev/doctor/kill-switch") == "ALARM"
    assert changes.get("remedy-dev/doctor/private-endpoints") == "ALARM"
    assert "remedy-dev/doctor/glue-jobs" not in changes or changes["remedy-dev/doctor/glue-jobs"] != "ALARM"


def test_remedy_doctor_against_the_sandbox_passes_from_the_command_line() -> None:
    """A new user's first try, no AWS account: the seeded sandbox is what a deployed account looks like."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "remedy.cli", "doctor", "--env", "dev", "--sandbox", "--json"],
                          cwd=root, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert answer["status"] == "PASS"
    assert not [f for f in answer["findings"] if f["status"] == "FAIL"]

"""Procedure steps (functions/procedures): input validation, plans, decisions, summaries — with in-memory
fakes of the ports, no network."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.catalog import Catalog, parse_catalog
from functions.procedures import (
    PROCEDURES,
    STEP_FUNCTIONS,
    corruption,
    execution_name,
    outage,
    parse_execution_name,
    report,
    scaling,
    security,
)
from functions.procedures import approval as approvals
from functions.procedures.inputs import (
    InputRefused,
    default_incident_id,
    parse_principal,
    validate,
)
from functions.procedures.ports import Unavailable

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def iso(at: datetime) -> str:
    return at.isoformat()


def base(**extra: Any) -> dict[str, Any]:
    return {"incident_id": "INC-1", "approval_timeout_seconds": 600, **extra}


# -- inputs -------------------------------------------------------------------------------------------------

def test_a_valid_data_corruption_input(catalog: Catalog) -> None:
    parsed = validate("data-corruption", base(tables=["analytics.fact_sales"], prefixes=["landing/orders/2026/"],
                                              start=iso(NOW - HOUR), end=iso(NOW)), catalog, NOW)
    assert parsed.procedure == "data-corruption" and parsed.end - parsed.start == HOUR


@pytest.mark.parametrize(("procedure", "data", "message"), [
    ("data-corruption", {"tables": ["analytics.fact_sales"], "start": iso(NOW), "end": iso(NOW - HOUR)},
     "inverted time range"),
    ("data-corruption", {"tables": ["analytics.nope"], "start": iso(NOW - HOUR), "end": iso(NOW)},
     "unknown table 'analytics.nope'"),
    ("data-corruption", {"prefixes": ["raw/x/"], "start": iso(NOW - HOUR), "end": iso(NOW)}, "unknown prefix"),
    ("data-corruption", {"start": iso(NOW - HOUR), "end": iso(NOW)}, "at least one affected table"),
    ("data-corruption", {"tables": ["analytics.fact_sales"], "start": "2026-11-25T09:00:00", "end": iso(NOW)},
     "needs a time zone"),
    ("data-corruption", {"tables": ["analytics.fact_sales"], "start": iso(NOW + 3 * HOUR),
                         "end": iso(NOW + 4 * HOUR)}, "in the future"),
    ("security-incident", {"principal": "bob", "start": iso(NOW - HOUR), "end": iso(NOW)},
     "is not an IAM user or role ARN"),
    ("security-incident", {"principal": "arn:aws:iam::999999999999:user/bob", "start": iso(NOW - HOUR),
                           "end": iso(NOW)}, "is in account 999999999999"),
    ("scale-glue", {"job": "orders-stream", "workers": 50}, "above the cap guardrails.max_glue_workers"),
    ("scale-glue", {"job": "nope", "workers": 4}, "unknown Glue job"),
    ("scale-glue", {"job": "orders-stream", "workers": 4, "tables": ["x"]}, "tables: unknown field"),
    ("scale-msk", {"brokers": 60}, "above the cap guardrails.max_msk_brokers"),
    ("scale-redshift", {"nodes": 40}, "above the cap guardrails.max_redshift_nodes"),
    ("scale-redshift", {"nodes": 2, "node_type": "x;rm"}, "node_type"),
    ("restart-everything", {}, "unknown procedure"),
])
def test_bad_input_is_refused_with_one_line(catalog: Catalog, procedure: str, data: dict[str, Any],
                                            message: str) -> None:
    with pytest.raises(InputRefused) as refused:
        validate(procedure, base(**data), catalog, NOW)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_table_without_a_time_column_cannot_be_checked_over_a_range(raw_catalog: dict[str, Any]) -> None:
    raw_catalog["redshift"]["tables"][0].pop("time_column", None)
    bent = parse_catalog(raw_catalog, "bent")
    with pytest.raises(InputRefused, match="no time_column"):
        validate("data-corruption", base(tables=["analytics.fact_sales"], start=iso(NOW - HOUR), end=iso(NOW)),
                 bent, NOW)


@pytest.mark.parametrize(("text", "expected"), [
    ("arn:aws:iam::111111111111:user/etl/bob", ("user", "bob", "111111111111")),
    ("arn:aws:iam::111111111111:role/loader", ("role", "loader", "111111111111")),
    ("arn:aws:sts::111111111111:assumed-role/loader/session-1", ("role", "loader", "111111111111")),
    ("user/bob", ("user", "bob", "")),
    ("role/loader", ("role", "loader", "")),
    ("AKIAABCDEFGHIJKLMNOP", ("access_key", "AKIAABCDEFGHIJKLMNOP", "")),
    ("ASIAABCDEFGHIJKLMNOP", ("temporary_key", "ASIAABCDEFGHIJKLMNOP", "")),
])
def test_principal_formats(text: str, expected: tuple[str, str, str]) -> None:
    assert parse_principal(text) == expected


def test_the_default_incident_id_is_the_same_for_the_same_input_on_the_same_day() -> None:
    a = default_incident_id("scale-glue", {"job": "x", "workers": 4}, NOW)
    assert a == default_incident_id("scale-glue", {"workers": 4, "job": "x", "requested_by": "y"}, NOW + HOUR)
    assert a != default_incident_id("scale-glue", {"job": "x", "workers": 6}, NOW)
    assert a.startswith("scale-glue-20261125-")
    assert parse_execution_name(execution_name("scale-glue", a)) == ("scale-glue", a)


def test_every_procedure_names_its_step_functions_and_they_exist() -> None:
    for declaration in PROCEDURES.values():
        assert {"approval", "report"} <= set(declaration.step_functions)
        assert set(declaration.step_functions) <= set(STEP_FUNCTIONS)
        assert declaration.destructive and "Approval" in declaration.steps


# -- scaling ------------------------------------------------------------------------------------------------

class FakeGlue:
    def __init__(self, definition: dict[str, Any] | None = None):
        self.definition = definition or {}
        self.run_list: list[dict[str, Any]] = []
        self.started: list[tuple[str, dict[str, str]]] = []
        self.triggers: dict[str, str] = {}

    def job_definition(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self.definition)

    def job_update_fields(self) -> tuple[str, ...]:
        return ("Role", "Command", "DefaultArguments", "MaxRetries", "Timeout", "WorkerType", "NumberOfWorkers",
                "MaxCapacity", "AllocatedCapacity", "GlueVersion", "Connections", "ExecutionProperty")

    def runs(self, name: str, limit: int = 25) -> list[dict[str, Any]]:
        return [r for r in self.run_list if r["job"] == name]

    def start_run(self, name: str, arguments: dict[str, str]) -> str:
        self.started.append((name, arguments))
        run_id = f"jr_{len(self.started)}"
        self.run_list.append({"job": name, "id": run_id, "state": "RUNNING", "arguments": arguments})
        return run_id

    def trigger_state(self, name: str) -> str | None:
        return self.triggers.get(name)


GLUE_JOB = {"Name": "sales-batch", "Role": "arn:aws:iam::111111111111:role/glue", "Command": {"Name": "glueetl"},
            "DefaultArguments": {"--x": "1"}, "MaxRetries": 1, "Timeout": 120, "WorkerType": "G.1X",
            "NumberOfWorkers": 2, "MaxCapacity": 2.0, "AllocatedCapacity": 2, "GlueVersion": "4.0",
            "Connections": {"Connections": ["msk"]}, "CreatedOn": "2026-01-01T00:00:00+00:00"}


def test_the_glue_plan_carries_every_field_over_and_changes_only_the_workers(catalog: Catalog) -> None:
    inp = validate("scale-glue", base(job="sales-batch", workers=8, worker_type="G.2X"), catalog, NOW)
    plan = scaling.plan_glue(inp, FakeGlue(GLUE_JOB), catalog)
    update = plan["job_update"]
    assert update["NumberOfWorkers"] == 8 and update["WorkerType"] == "G.2X"
    for field in ("Role", "Command", "DefaultArguments", "MaxRetries", "Timeout", "GlueVersion", "Connections"):
        assert update[field] == GLUE_JOB[field], field
    assert "MaxCapacity" not in update and "AllocatedCapacity" not in update  # Glue refuses them with workers
    assert "CreatedOn" not in update  # read-only: not a JobUpdate member
    assert plan["change"] and plan["rollback_point"]["before"]["NumberOfWorkers"] == 2
    assert "NumberOfWorkers 2 -> 8" in plan["about_to"][0] and "aws glue update-job" in plan["about_to"][2]


def test_a_glue_plan_at_the_target_changes_nothing(catalog: Catalog) -> None:
    inp = validate("scale-glue", base(job="sales-batch", workers=2), catalog, NOW)
    assert scaling.plan_glue(inp, FakeGlue(GLUE_JOB), catalog)["change"] is False


class FakeClusters:
    def __init__(self, msk: dict[str, Any] | None = None, redshift: dict[str, Any] | None = None):
        self.msk, self.redshift = msk, redshift

    def msk_cluster(self, name: str) -> dict[str, Any] | None:
        return self.msk

    def redshift_cluster(self, cluster_id: str) -> dict[str, Any] | None:
        return self.redshift


MSK = {"arn": "arn:aws:kafka:eu-west-1:111111111111:cluster/retail-msk-dev/abc", "state": "ACTIVE", "brokers": 3,
       "zones": 3, "version": "K1"}


@pytest.mark.parametrize(("brokers", "cluster", "message"), [
    (4, MSK, "not a multiple of the cluster's 3 zones"),
    (3, {**MSK, "brokers": 6}, "MSK cannot remove brokers"),
    (6, {**MSK, "state": "UPDATING"}, "scale it once it is ACTIVE"),
    (6, None, "does not exist"),
])
def test_msk_plans_refuse_what_msk_cannot_do(catalog: Catalog, brokers: int, cluster: Any, message: str) -> None:
    inp = validate("scale-msk", base(brokers=brokers), catalog, NOW)
    with pytest.raises(corruption.CannotProceed, match=message):
        scaling.plan_msk(inp, FakeClusters(msk=cluster), catalog)


def test_msk_plan_says_it_cannot_be_undone(catalog: Catalog) -> None:
    plan = scaling.plan_msk(validate("scale-msk", base(brokers=6), catalog, NOW), FakeClusters(msk=MSK), catalog)
    assert plan["change"] and plan["target"] == 6 and "not reversible" in plan["about_to"][1]


def test_msk_report_says_the_new_brokers_are_not_watched_until_the_catalog_says_so(catalog: Catalog) -> None:
    plan = scaling.plan_msk(validate("scale-msk", base(brokers=6), catalog, NOW), FakeClusters(msk=MSK), catalog)
    done = scaling.summary_msk({"plan": plan, "results": {"RecordRollbackPoint": {}, "UpdateBrokerCount": {}}}, None)
    assert ("the new brokers 4..6 are NOT watched yet: set msk.broker_count: 6 in config/dev.yaml and redeploy "
            "(make deploy ENV=dev)") in done.left[-1]
    # Not changed (refused, or failed before the update): nothing to say about new brokers.
    refused = scaling.summary_msk({"plan": plan, "results": {"RecordRollbackPoint": {}}}, "UpdateBrokerCount")
    assert not any("NOT watched" in line for line in refused.left)


def test_a_procedure_input_bounds_its_polls_by_its_maximum_wait(catalog: Catalog) -> None:
    assert validate("scale-msk", base(brokers=6), catalog, NOW).max_polls == 360  # 6 h of 60 s polls
    short = validate("scale-msk", base(brokers=6, poll_seconds=30, max_wait_minutes=10), catalog, NOW)
    assert short.max_polls == 20


@pytest.mark.parametrize(("nodes", "node_type", "api", "cluster_type"), [
    (4, None, "resize", "multi-node"), (2, "ra3.4xlarge", "modify", "multi-node"), (1, None, "resize", "single-node")])
def test_redshift_plan_picks_elastic_or_classic_resize(catalog: Catalog, nodes: int, node_type: str | None, api: str,
                                                       cluster_type: str) -> None:
    inp = validate("scale-redshift", base(nodes=nodes, node_type=node_type), catalog, NOW)
    plan = scaling.plan_redshift(inp, FakeClusters(redshift={"status": "available", "node_type": "ra3.xlplus",
                                                             "nodes": 2}), catalog)
    assert plan["api"] == api and plan["request"]["ClusterType"] == cluster_type


# -- service outage -----------------------------------------------------------------------------------------

def rollback_point(at: str, procedure: str = "scale-glue", workers: int = 2) -> dict[str, Any]:
    return {"incident_id": "INC-0", "kind": "rollback_point", "at": at,
            "payload": {"procedure": procedure, "resource": "glue:sales-batch",
                        "before": {"NumberOfWorkers": workers, "WorkerType": "G.1X", "Role": "r"}}}


def test_only_our_recorded_glue_changes_are_rolled_back_to_the_first_copy(catalog: Catalog) -> None:
    audit = [rollback_point("2026-11-25T08:00:00+00:00", workers=2),
             rollback_point("2026-11-25T09:00:00+00:00", workers=6),
             rollback_point("2026-11-25T09:30:00+00:00", procedure="service-outage", workers=12)]
    current = {"sales-batch": {"NumberOfWorkers": 10, "WorkerType": "G.1X", "Role": "r"}}
    [candidate] = outage.rollback_candidates(catalog, audit, current)
    assert candidate["job_update"]["NumberOfWorkers"] == 2  # the copy from before the first change
    assert candidate["rollback_point"]["before"]["NumberOfWorkers"] == 10  # the rollback can itself be undone
    assert outage.rollback_candidates(catalog, audit, {"sales-batch": {"NumberOfWorkers": 2, "WorkerType": "G.1X",
                                                                       "Role": "r"}}) == []


class FakeOutage:
    def alarms_in_alarm(self, prefix: str) -> list[dict[str, Any]]:
        return [{"name": f"{prefix}consumer-lag/glue:orders-stream", "reason": "x", "since": ""}]

    def stacks_changed_since(self, since: datetime) -> list[dict[str, Any]]:
        raise RuntimeError("AccessDenied")

    def job_definition(self, name: str) -> dict[str, Any]:
        return {"NumberOfWorkers": 2, "WorkerType": "G.1X", "LastModifiedOn": "2026-01-01T00:00:00+00:00"}

    def audit_since(self, since: datetime) -> list[dict[str, Any]]:
        return []

    def health_events(self, since: datetime) -> list[dict[str, Any]]:
        raise Unavailable("the AWS Health API needs a Business support plan")


def test_evidence_that_cannot_be_read_is_reported_not_fatal(catalog: Catalog) -> None:
    plan = outage.assess(validate("service-outage", base(), catalog, NOW), FakeOutage(), catalog, NOW)
    text = "\n".join(plan["findings"])
    assert "alarms in ALARM: 1" in text and "could not read CloudFormation: RuntimeError: AccessDenied" in text
    assert "AWS Health: unavailable" in text and plan["rollback"]["applies"] is False


class NoSupport:
    def create_case(self, subject: str, body: str) -> str:
        raise Unavailable("the AWS Support API needs a Business support plan")


def test_escalation_says_support_is_unavailable(catalog: Catalog) -> None:
    page = outage.escalate({"incident_id": "INC-1", "plan": {"findings": ["x"]}}, catalog, NoSupport())
    assert "AWS Support case not opened: unavailable" in page["message"] and page["subject"].startswith("[remedy-dev]")


# -- data corruption ----------------------------------------------------------------------------------------

def version(key: str, minutes: int, etag: str = "", marker: bool = False, latest: bool = False) -> dict[str, Any]:
    return {"key": key, "version_id": f"v{minutes}", "modified": iso(NOW + timedelta(minutes=minutes)),
            "etag": etag, "latest": latest, "delete_marker": marker}


def test_objects_changed_in_the_range_get_their_earlier_version_back_or_are_deleted() -> None:
    versions = [version("a", -90, "good"), version("a", -10, "bad", latest=True),  # changed: back to v-90
                version("b", -10, "new", latest=True),  # created in the range: deleted
                version("c", -90, "old", latest=True),  # untouched
                version("d", -90, "x"), version("d", -10, "y"), version("d", 30, "z", latest=True)]  # changed again
    plans, notes = corruption.plan_objects(versions, "bucket", NOW - HOUR, NOW)
    assert plans == [{"bucket": "bucket", "key": "a", "action": "copy", "version_id": "v-90", "etag": "good"},
                     {"bucket": "bucket", "key": "b", "action": "delete", "version_id": "", "etag": ""}]
    assert notes == ["s3://bucket/d changed again after the range: left for a person"]


def test_quality_sql_checks_the_catalogs_expectations_over_the_range(catalog: Catalog) -> None:
    [table] = [t for t in catalog.redshift.tables if t.name == "fact_sales"]
    sql, labels = corruption.quality_sql(table, NOW - HOUR, NOW)
    assert labels == ["rows", "sale_id is null", "customer_id is null", "quantity < 0", "amount < 0",
                      "sale_id duplicated"]
    assert 'FROM "analytics"."fact_sales" WHERE "sale_date" >= TIMESTAMP \'2026-11-25 09:00:00\'' in sql


class FakeWarehouse:
    def __init__(self, tables: set[str], rows: list[list[Any]] | None = None):
        self.tables = set(tables)
        self.rows = rows or [[0, 0, 0]]
        self.transactions: list[list[str]] = []

    def snapshots(self, cluster: str) -> list[dict[str, Any]]:
        return [{"id": "rs:old", "created": iso(NOW - 5 * HOUR), "status": "available"},
                {"id": "rs:late", "created": iso(NOW - timedelta(minutes=5)), "status": "available"}]

    def query(self, sql: str) -> list[list[Any]]:
        if "information_schema" in sql:
            return [[t] for t in sorted(self.tables) if f"'{t}'" in sql]
        return self.rows

    def run_in_transaction(self, statements: list[str]) -> None:
        self.transactions.append(statements)
        for sql in statements:
            old, new = sql.split('"analytics".')[1].split(" RENAME TO ")
            self.tables.discard(old.strip('"'))
            self.tables.add(new.strip('"'))


TABLE_PLAN = {"table": "analytics.dim_customer", "schema": "analytics", "name": "dim_customer",
              "new_table": "dim_customer_restored_inc_1", "corrupt_table": "dim_customer_corrupt_inc_1"}


def test_swapping_is_one_transaction_and_a_second_swap_changes_nothing() -> None:
    warehouse = FakeWarehouse({"dim_customer", "dim_customer_restored_inc_1"})
    state = {"plan": {"tables": [TABLE_PLAN]}}
    assert corruption.swap_tables(state, warehouse)["tables"][0]["status"] == "swapped"
    assert len(warehouse.transactions) == 1 and len(warehouse.transactions[0]) == 2
    assert warehouse.tables == {"dim_customer", "dim_customer_corrupt_inc_1"}
    assert corruption.swap_tables(state, warehouse)["tables"][0]["status"] == "already swapped"
    assert len(warehouse.transactions) == 1


def test_swapping_without_the_restored_table_stops_the_run() -> None:
    with pytest.raises(corruption.CannotProceed, match="is not there to swap in"):
        corruption.swap_tables({"plan": {"tables": [TABLE_PLAN]}}, FakeWarehouse({"dim_customer"}))


def test_the_plan_restores_from_the_newest_snapshot_before_the_range(catalog: Catalog) -> None:
    glue = FakeGlue()
    glue.run_list = [{"job": "customers-stream", "id": "jr_s", "state": "RUNNING", "arguments": {}}]
    glue.triggers = {"customer-scd-batch-hourly": "ACTIVATED"}
    inp = validate("data-corruption", base(tables=["analytics.dim_customer"], prefixes=["landing/customers/"],
                                           start=iso(NOW - HOUR), end=iso(NOW)), catalog, NOW)

    class Bucket:
        def versioning(self, bucket: str) -> str:
            return "Enabled"

        def versions(self, bucket: str, prefix: str) -> list[dict[str, Any]]:
            return [version("landing/customers/x", -10, "bad", latest=True)]

    plan = corruption.assess(inp, glue, FakeWarehouse(set(), rows=[[30, 0, 30, 30]]), Bucket(), catalog)
    assert plan["tables"][0]["snapshot"] == "rs:old"  # rs:late was taken inside the range
    assert plan["stop_runs"] == [{"job": "customers-stream", "run_ids": ["jr_s"]}]
    assert plan["restart_streaming"] == ["customers-stream"] and plan["reprocess"] == ["customer-scd-batch"]
    assert plan["stop_triggers"] == [{"name": "customer-scd-batch-hourly", "job": "customer-scd-batch"}]
    assert "confirmed: 30 rows with customer_id duplicated, 30 rows with email is null" in plan["findings"][0]


def test_an_unversioned_bucket_stops_the_run_before_anything_changes(catalog: Catalog) -> None:
    inp = validate("data-corruption", base(prefixes=["landing/customers/"], start=iso(NOW - HOUR), end=iso(NOW)),
                   catalog, NOW)

    class Bucket:
        def versioning(self, bucket: str) -> str:
            return ""

    with pytest.raises(corruption.CannotProceed, match="has no versioning"):
        corruption.assess(inp, FakeGlue(), FakeWarehouse(set()), Bucket(), catalog)


def test_reprocessing_starts_one_run_per_job_once() -> None:
    glue = FakeGlue()
    state = {"incident_id": "INC-1", "start": iso(NOW - HOUR), "end": iso(NOW), "plan": {"reprocess": ["sales-batch"]}}
    first = corruption.reprocess(state, glue, start_runs=True)
    again = corruption.reprocess(state, glue, start_runs=True)  # a retried step
    assert len(glue.started) == 1 and first["runs"][0]["run_id"] == again["runs"][0]["run_id"]
    assert glue.started[0][1]["--reprocess_from"] == iso(NOW - HOUR) and not first["done"]
    glue.run_list[0]["state"] = "SUCCEEDED"
    assert corruption.reprocess(state, glue, start_runs=False)["done"]
    glue.run_list[0]["state"] = "FAILED"
    with pytest.raises(corruption.CannotProceed, match="re-processing failed"):
        corruption.reprocess(state, glue, start_runs=False)


# -- security incident --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("document", "flag"), [
    ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "administrator access"),
    ({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}]}, "wildcard actions s3:*"),
    ({"Statement": [{"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"}]}, "Resource '*'"),
    ({"Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}, "NotAction"),
])
def test_policies_with_wildcards_or_admin_are_flagged(document: dict[str, Any], flag: str) -> None:
    assert any(flag in f for f in security.policy_flags(json.dumps(document)))


def test_read_only_and_scoped_policies_are_not_flagged() -> None:
    assert security.policy_flags({"Statement": [{"Effect": "Allow", "Action": ["glue:GetJob"], "Resource": "*"},
                                                {"Effect": "Deny", "Action": "*", "Resource": "*"}]}) == []
    assert security.policy_flags({"Statement": []}, "AdministratorAccess") == [
        "AdministratorAccess: administrator access (AWS managed)"]


class FakeIdentity:
    def access_key_owner(self, access_key_id: str) -> str | None:
        return "mallory" if access_key_id.startswith("AKIA") else None

    def access_keys(self, user: str) -> list[dict[str, Any]]:
        return [{"id": "AKIAABCDEFGHIJKLMNOP", "status": "Active"}, {"id": "AKIAZZZZZZZZZZZZZZZZ", "status": "Active"}]

    def exists(self, kind: str, name: str) -> bool:
        return True

    def policies(self, kind: str, name: str) -> list[dict[str, Any]]:
        return [{"name": "quick-fix", "source": "user mallory (inline)", "document": {"Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"}]}}]


class FakeNetwork:
    def ingress(self, group_ids: list[str]) -> list[dict[str, Any]]:
        return [{"group_id": group_ids[0], "protocol": "tcp", "from_port": 5439, "to_port": 5439, "cidr": c}
                for c in ("10.0.0.0/16", "10.0.4.0/24", "0.0.0.0/0", "203.0.113.0/24")]


class FakeTrail:
    def events(self, attribute: Any, start: datetime, end: datetime, limit: int = 1000) -> list[dict[str, Any]]:
        return [{"name": "GetSecretValue", "source": "secretsmanager.amazonaws.com", "time": iso(NOW), "read_only": True,
                 "ip": "198.51.100.2", "error": ""},
                {"name": "CreateAccessKey", "source": "iam.amazonaws.com", "time": iso(NOW), "read_only": False,
                 "ip": "198.51.100.2", "error": ""},
                {"name": "DeleteTrail", "source": "cloudtrail.amazonaws.com", "time": iso(NOW), "read_only": False,
                 "ip": "198.51.100.2", "error": "AccessDenied"}]


def test_an_access_key_principal_deactivates_that_key_and_revokes_ingress_the_catalog_does_not_allow(
        catalog: Catalog) -> None:
    inp = validate("security-incident", base(principal="AKIAABCDEFGHIJKLMNOP", start=iso(NOW - HOUR), end=iso(NOW)),
                   catalog, NOW)
    plan = security.assess(inp, FakeIdentity(), FakeNetwork(), FakeTrail(), catalog)
    assert plan["principal"]["kind"] == "user" and plan["principal"]["name"] == "mallory"
    assert plan["keys"] == [{"user": "mallory", "id": "AKIAABCDEFGHIJKLMNOP"}]  # the named key, not the others
    cidrs = [i["IpPermissions"][0]["IpRanges"][0]["CidrIp"] for i in plan["ingress"]]
    assert cidrs == ["0.0.0.0/0", "203.0.113.0/24"]  # 10.0.0.0/16 and its subnet 10.0.4.0/24 are allowed
    assert plan["secret"]["id"] == catalog.redshift.admin_secret and 32 <= len(plan["secret"]["token"]) <= 64
    assert plan["deny"] == {"kind": "user", "name": "mallory", "policy_name": "remedy-revoke-older-sessions"}


def test_the_cloudtrail_review_summarises_changes_refusals_and_sensitive_calls() -> None:
    state = {"start": iso(NOW - HOUR), "end": iso(NOW), "plan": {"principal": {"kind": "user", "name": "mallory",
                                                                                "arn": "x"}}}
    review = security.review_cloudtrail(state, FakeTrail())
    assert (review["events"], review["writes"], review["errors"]) == (3, 2, {"AccessDenied": 1})
    assert review["flags"] == ["CreateAccessKey (iam.amazonaws.com)", "DeleteTrail (cloudtrail.amazonaws.com)",
                               "GetSecretValue (secretsmanager.amazonaws.com)"]
    assert review["source_ips"] == ["198.51.100.2"]


# -- report and approval ------------------------------------------------------------------------------------

class Recorder:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []
        self.messages: list[tuple[str, str]] = []
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.cards: list[dict[str, Any] | None] = []

    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None:
        self.records.append((incident_id, kind, payload))

    def publish(self, subject: str, message: str, card: dict[str, Any] | None = None) -> None:
        self.messages.append((subject, message))
        self.cards.append(card)

    def put_pending(self, item: dict[str, Any]) -> None:
        self.items[(item["incident_id"], item["key"])] = dict(item)

    def pending(self, incident_id: str) -> list[dict[str, Any]]:
        return [i for (inc, _), i in self.items.items() if inc == incident_id and i["status"] == "PENDING"]

    def close(self, incident_id: str, key: str, status: str, by: str, reason: str, at: datetime) -> bool:
        item = self.items.get((incident_id, key))
        if not item or item["status"] != "PENDING":
            return False
        item.update(status=status, answered_by=by)
        return True

    def now(self) -> datetime:
        return NOW


SCALE_STATE = {"procedure": "scale-glue", "incident_id": "INC-1", "approval_timeout_seconds": 600,
               "plan": {"job": "sales-batch", "change": True, "current": {"workers": 2, "worker_type": "G.1X"},
                        "target": {"workers": 8, "worker_type": "G.1X"}, "about_to": ["UpdateJob sales-batch: 2 -> 8"]}}


@pytest.mark.parametrize(("failure", "step", "status", "error", "cause"), [
    ({"Error": "Remedy.Rejected", "Cause": json.dumps({"by": "alice", "reason": "not now"})}, "Approval",
     "REJECTED", "Remedy.Rejected", "rejected by alice: not now"),
    ({"Error": "States.Timeout", "Cause": None}, "Approval", "APPROVAL_TIMED_OUT", "Remedy.ApprovalTimedOut",
     "nobody approved or rejected within 600 s"),
    ({"Error": "Glue.AccessDeniedException", "Cause": "no glue:UpdateJob"}, "UpdateJob", "FAILED", "Remedy.StepFailed",
     "UpdateJob failed: Glue.AccessDeniedException: no glue:UpdateJob"),
])
def test_the_failure_path_says_what_failed(failure: dict[str, Any], step: str, status: str, error: str,
                                          cause: str) -> None:
    state = {**SCALE_STATE, "failure": failure, "failed": {"step": step}}
    assert report.classify(state) == (status, error, cause, step)


def test_a_failure_report_tells_on_call_and_the_audit_trail() -> None:
    recorder = Recorder()
    state = {**SCALE_STATE, "results": {"RecordRollbackPoint": {}}, "failed": {"step": "UpdateJob"},
             "failure": {"Error": "Glue.InternalServiceException", "Cause": "boom"}}
    outcome = report.report({"mode": "failed", "state": state}, "remedy-dev", recorder, recorder, recorder, recorder)
    assert outcome["error"] == "Remedy.StepFailed"
    [(subject, message)] = recorder.messages
    assert subject == "[remedy-dev] FAILED: scale-glue INC-1 at UpdateJob"
    assert "WHAT FAILED UpdateJob failed: Glue.InternalServiceException: boom" in message
    assert "LEFT TO DO BY HAND" in message and "check by hand whether this was done" in message
    assert recorder.records[-1][1] == "procedure_outcome"


def ask(recorder: Recorder, procedure: str = "scale-glue") -> None:
    event = {"step": "Approval", "token": "tok", "execution": "arn:x", "state": {**SCALE_STATE, "procedure": procedure}}
    approvals.request_approval(approvals.request_from_event(event), "remedy-dev", recorder, recorder, recorder,
                               recorder)


def test_an_approval_question_says_what_is_about_to_happen_and_how_to_answer() -> None:
    recorder = Recorder()
    ask(recorder)
    [(subject, message)] = recorder.messages
    assert subject == "[remedy-dev] APPROVAL NEEDED: scale-glue INC-1"
    assert "UpdateJob sales-batch: 2 -> 8" in message and "remedy incident approve INC-1" in message
    assert "remedy incident reject INC-1" in message and "2026-11-25 10:10:00Z" in message  # the deadline
    # The card the Slack function draws with buttons; the answer names the procedure (functions/chat/messages.py).
    [card] = recorder.cards
    assert card is not None and card["remedy-procedure-approval"] == 1 and card["status"] == "AWAITING_APPROVAL"
    assert (card["incident_id"], card["procedure"], card["step"]) == ("INC-1", "scale-glue", "Approval")
    from functions.chat import messages

    drawn = messages.blocks(card)
    [buttons] = [b for b in drawn if b["type"] == "actions"]
    values = {json.loads(e["value"])["procedure"] for e in buttons["elements"]}
    assert [e["action_id"] for e in buttons["elements"]] == [messages.APPROVE, messages.REJECT]
    assert values == {"scale-glue"}
    assert "UpdateJob sales-batch: 2 -> 8" in json.dumps(drawn)
    assert not [b for b in messages.blocks(card, answered="Approved by <@U1>") if b["type"] == "actions"]

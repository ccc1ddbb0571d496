"""run() end to end with the Redshift performance playbook over an in-memory cluster (and, for the
error path, the real adapter over a stubbed boto3 client and a failing driver)."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from functions.core.adapters.clients import Clients
from functions.core.adapters.redshift import RedshiftAdapter, RedshiftSettings
from functions.core.catalog import Catalog, parse_catalog
from functions.core.models import Incident, OutcomeStatus, Verdict, VerificationStatus
from functions.core.playbook import Context, run
from functions.core.ports import WlmSettings
from functions.playbooks.redshift_performance import MAX_CANCELS, RedshiftPerformance, duration
from tests.unit.conftest import NOW
from tests.unit.fakes import FakeAudit, FakeBreaker, FakeKillSwitch, FakeNotifier, FixedClock
from tests.unit.fakes_redshift import FakeRedshift, RedshiftPorts, driver_error

PLAYBOOK = RedshiftPerformance()
CLUSTER = "retail-redshift-dev"
TARGET = f"redshift:{CLUSTER}"
LONG = 2 * 3600  # beyond the catalog's long_query_seconds (1800)


def incident(signal: str = "redshift-cpu", resource: str = TARGET, state: str = "ALARM") -> Incident:
    alarm = f"remedy-dev/{signal}/{resource}"
    return Incident(id=f"{alarm}@{NOW:%Y-%m-%dT%H:%M:%S.000+0000}", alarm_name=alarm, state=state,
                    previous_state="OK", reason="Threshold Crossed: 3 datapoints were greater than 80.0",
                    changed_at=NOW, account="111111111111", region="eu-west-1", playbook="redshift_performance",
                    resource=resource)


def bent(raw: dict[str, Any], **rails: Any) -> Catalog:
    data = copy.deepcopy(raw)
    data["guardrails"]["playbooks"]["redshift_performance"].update(rails)
    return parse_catalog(data, "bent")


@pytest.fixture
def redshift() -> FakeRedshift:
    return FakeRedshift(NOW)


@pytest.fixture
def ctx(catalog: Catalog, redshift: FakeRedshift, kill_switch: FakeKillSwitch, breaker: FakeBreaker,
        audit: FakeAudit, notifier: FakeNotifier, clock: FixedClock) -> Context:
    """The dev catalog as it is: redshift_performance in recommend mode."""
    return Context(catalog=catalog, ports=RedshiftPorts(redshift=redshift), kill_switch=kill_switch,
                   breaker=breaker, audit=audit, notifier=notifier, clock=clock)


@pytest.fixture
def auto(ctx: Context, raw_catalog: dict[str, Any]) -> Context:
    ctx.catalog = bent(raw_catalog, mode="auto")
    return ctx


def only_message(notifier: FakeNotifier) -> tuple[str, str]:
    assert len(notifier.published) == 1
    return notifier.published[0]


# --- stale statistics: ANALYZE exactly the stale catalog tables --------------------------------------------

def test_recommend_mode_names_the_exact_analyze_and_runs_nothing(ctx: Context, redshift: FakeRedshift,
                                                                 breaker: FakeBreaker, notifier: FakeNotifier,
                                                                 audit: FakeAudit) -> None:
    redshift.stats[("analytics", "fact_sales")] = 48.5

    outcome = run(PLAYBOOK, incident(), ctx)

    assert outcome.status is OutcomeStatus.RECOMMENDED
    assert redshift.analyzed == [] and breaker.items == {}
    (decision,) = outcome.decisions
    assert (decision.verdict, decision.command) == (Verdict.RECOMMENDED, 'ANALYZE "analytics"."fact_sales";')
    assert decision.action.params == {"tables": ["analytics.fact_sales"]}
    assert audit.kinds() == ["incident", "plan", "decision", "outcome"]
    subject, message = only_message(notifier)
    assert subject == f"[remedy-dev] RECOMMENDED: redshift_performance on {TARGET}"
    assert 'RECOMMENDED (run it yourself if you agree)\n  ANALYZE "analytics"."fact_sales";' in message
    assert "BAD svv_table_info: stats_off above 10% on analytics.fact_sales (48.50%)" in message


def test_auto_mode_analyzes_exactly_the_stale_tables_and_verifies_stats_off(auto: Context, redshift: FakeRedshift,
                                                                           breaker: FakeBreaker,
                                                                           notifier: FakeNotifier) -> None:
    redshift.stats[("analytics", "fact_sales")] = 48.5
    redshift.stats[("analytics", "dim_customer")] = 4.0  # below the threshold: left alone

    outcome = run(PLAYBOOK, incident(), auto)

    assert redshift.analyzed == [("analytics", "fact_sales")]
    assert redshift.stats[("analytics", "fact_sales")] == 0.0
    assert outcome.status is OutcomeStatus.REMEDIATED
    assert outcome.verification.status is VerificationStatus.VERIFIED
    assert outcome.verification.detail == "stats_off now analytics.fact_sales 0.00% (threshold 10%)"
    assert outcome.results[0].changed == {"tables": ["analytics.fact_sales"]}
    assert breaker.items[TARGET].last_action_at == NOW
    _, message = only_message(notifier)
    assert 'SUCCEEDED redshift.analyze_tables: ran ANALYZE "analytics"."fact_sales";' in message
    assert "VERIFIED    VERIFIED: stats_off now analytics.fact_sales 0.00%" in message


def test_every_stale_catalog_table_is_analyzed_once_worst_first(auto: Context, redshift: FakeRedshift) -> None:
    redshift.stats[("analytics", "fact_sales")] = 12.0
    redshift.stats[("analytics", "dim_customer")] = 100.0

    outcome = run(PLAYBOOK, incident(), auto)

    assert redshift.analyzed == [("analytics", "dim_customer"), ("analytics", "fact_sales")]
    (decision,) = outcome.decisions
    assert decision.command == 'ANALYZE "analytics"."dim_customer"; ANALYZE "analytics"."fact_sales";'
    assert outcome.status is OutcomeStatus.REMEDIATED


@pytest.mark.parametrize("careless_database", [False, True])
def test_a_stale_table_outside_the_catalog_is_ignored(auto: Context, redshift: FakeRedshift,
                                                      careless_database: bool) -> None:
    redshift.stats[("analytics", "scratch_copy")] = 95.0  # someone's table, not the catalog's
    redshift.stats[("public", "fact_sales")] = 80.0
    redshift.stats[("analytics", "fact_sales")] = 30.0
    redshift.ignore_table_filter = careless_database

    outcome = run(PLAYBOOK, incident(), auto)

    assert redshift.analyzed == [("analytics", "fact_sales")]
    assert outcome.plan.actions[0].params == {"tables": ["analytics.fact_sales"]}
    assert "scratch_copy" not in json.dumps(outcome.model_dump(mode="json"))


def test_an_analyze_that_leaves_stats_off_high_fails_verification_and_escalates(auto: Context,
                                                                               redshift: FakeRedshift,
                                                                               notifier: FakeNotifier) -> None:
    redshift.stats[("analytics", "fact_sales")] = 48.5
    redshift.analyze_has_no_effect = True

    outcome = run(PLAYBOOK, incident(), auto)

    assert redshift.analyzed == [("analytics", "fact_sales")]
    assert outcome.verification.status is VerificationStatus.FAILED
    assert outcome.verification.detail == "stats_off still above 10% after ANALYZE: analytics.fact_sales 48.50%"
    assert outcome.status is OutcomeStatus.ESCALATED
    assert only_message(notifier)[0].startswith("[remedy-dev] ESCALATED:")


def test_analyze_params_refuse_anything_but_catalog_shaped_identifiers(auto: Context,
                                                                       redshift: FakeRedshift) -> None:
    from functions.core.guard import Guard
    from functions.core.models import Action

    guard = Guard(auto.catalog, "redshift_performance", auto.kill_switch, auto.breaker)
    for tables in (['analytics.fact_sales"; DROP TABLE x; --'], ["fact_sales"], ["Analytics.Fact"],
                   ["analytics.fact_sales", "analytics.fact_sales"], []):
        action = Action(name="redshift.analyze_tables", target=TARGET, params={"tables": tables}, reason="r")
        decision = guard.check(action, set(), NOW)
        assert (decision.verdict, decision.rule) == (Verdict.REFUSED, "parameters"), tables


# --- long-running queries: cancel per mode -----------------------------------------------------------------

def test_a_long_query_in_recommend_mode_is_recommended_with_the_exact_sql(ctx: Context, redshift: FakeRedshift,
                                                                          notifier: FakeNotifier) -> None:
    redshift.run_query(4242, "etl_user", LONG, "SELECT c.*, s.* FROM analytics.fact_sales s JOIN x USING (id)")

    outcome = run(PLAYBOOK, incident(), ctx)

    assert outcome.status is OutcomeStatus.RECOMMENDED
    assert [q.pid for q in redshift.running] == [4242] and redshift.cancelled == []
    (decision,) = outcome.decisions
    assert decision.verdict is Verdict.RECOMMENDED
    started = NOW - timedelta(seconds=LONG)
    assert decision.command == (f"SELECT pg_cancel_backend(4242);  -- query of etl_user running since "
                                f"{started:%Y-%m-%d %H:%M:%S}Z")
    assert decision.action.target == f"{TARGET}/queries"
    _, message = only_message(notifier)
    assert "SELECT pg_cancel_backend(4242);" in message
    assert "BAD stv_recents: 1 running, 1 beyond the 30m00s limit; longest pid 4242 of etl_user for 2h00m" in message


@pytest.mark.parametrize("mode", ["approve", "auto"])
def test_a_long_query_waits_for_a_person_in_approve_and_auto(ctx: Context, raw_catalog: dict[str, Any],
                                                             redshift: FakeRedshift, notifier: FakeNotifier,
                                                             breaker: FakeBreaker, mode: str) -> None:
    ctx.catalog = bent(raw_catalog, mode=mode)
    redshift.run_query(4242, "etl_user", LONG)
    inc = incident()

    outcome = run(PLAYBOOK, inc, ctx)

    assert outcome.status is OutcomeStatus.AWAITING_APPROVAL
    assert redshift.cancelled == [] and [q.pid for q in redshift.running] == [4242]
    assert breaker.items == {}
    (decision,) = outcome.decisions
    assert (decision.verdict, decision.rule) == (Verdict.AWAITING_APPROVAL, "mode" if mode == "approve"
                                                 else "destructive")
    _, message = only_message(notifier)
    assert "WAITING FOR YOU\n  redshift.cancel_query: SELECT pg_cancel_backend(4242);" in message
    assert "to approve, run the command above yourself" in message and inc.id in message


def test_stale_tables_and_a_long_query_in_auto_analyze_now_and_ask_about_the_cancel(auto: Context,
                                                                                    redshift: FakeRedshift,
                                                                                    notifier: FakeNotifier) -> None:
    redshift.stats[("analytics", "fact_sales")] = 48.5
    redshift.run_query(4242, "etl_user", LONG)

    outcome = run(PLAYBOOK, incident(), auto)

    assert redshift.analyzed == [("analytics", "fact_sales")] and redshift.cancelled == []
    assert [(d.action.name, d.verdict) for d in outcome.decisions] == [
        ("redshift.analyze_tables", Verdict.ALLOWED), ("redshift.cancel_query", Verdict.AWAITING_APPROVAL)]
    assert outcome.status is OutcomeStatus.REMEDIATED
    _, message = only_message(notifier)
    assert "WHAT WE DID" in message and "WAITING FOR YOU" in message


def test_a_cancel_the_catalog_auto_approves_runs_and_is_verified_gone(ctx: Context, raw_catalog: dict[str, Any],
                                                                      redshift: FakeRedshift) -> None:
    ctx.catalog = bent(raw_catalog, mode="auto", auto_approve_destructive=["redshift.cancel_query"])
    redshift.run_query(4242, "etl_user", LONG)

    outcome = run(PLAYBOOK, incident(), ctx)

    assert redshift.cancelled == [4242] and redshift.running == []
    assert outcome.status is OutcomeStatus.REMEDIATED
    assert outcome.verification.detail == "pid 4242 no longer runs (stv_recents)"
    assert "cannot be resumed" in outcome.results[0].undo


def test_a_query_that_ended_before_the_cancel_is_not_an_error(ctx: Context, raw_catalog: dict[str, Any],
                                                              redshift: FakeRedshift) -> None:
    ctx.catalog = bent(raw_catalog, mode="auto", auto_approve_destructive=["redshift.cancel_query"])
    redshift.run_query(4242, "etl_user", LONG)
    original = redshift.cancel

    def ended_meanwhile(pid: int, started_at: Any) -> bool:
        redshift.running = []
        return original(pid, started_at)

    redshift.cancel = ended_meanwhile  # type: ignore[method-assign]

    outcome = run(PLAYBOOK, incident(), ctx)

    assert outcome.results[0].detail == "query pid 4242 of etl_user had already ended: nothing cancelled"
    assert outcome.verification.status is VerificationStatus.VERIFIED


def test_our_own_session_is_never_judged_or_cancelled(auto: Context, redshift: FakeRedshift) -> None:
    redshift.run_query(7, "IAM:remedy", LONG)

    outcome = run(PLAYBOOK, incident(), auto)

    assert outcome.plan.actions == []
    assert "stv_recents: no other query running" in [f.detail for f in outcome.plan.findings]


def test_at_most_a_few_cancels_longest_first_the_rest_said(ctx: Context, redshift: FakeRedshift) -> None:
    for pid in range(1, 6):
        redshift.run_query(pid, "bi_user", LONG + pid * 60)

    outcome = run(PLAYBOOK, incident(), ctx)

    assert [a.params["pid"] for a in outcome.plan.actions] == [5, 4, 3][:MAX_CANCELS]
    assert outcome.plan.recommendations == ["2 more queries run beyond the limit (pids 2, 1): review them after "
                                            "the first 3."]


# --- queue, WLM and resize: recommendations only ----------------------------------------------------------

def test_a_long_queue_nothing_explains_gets_a_resize_recommendation_only(ctx: Context, redshift: FakeRedshift,
                                                                         notifier: FakeNotifier,
                                                                         breaker: FakeBreaker) -> None:
    redshift.queue_query(1001, 900)
    redshift.queue_query(1002, 600)
    redshift.queue_query(1003, 20)

    outcome = run(PLAYBOOK, incident("redshift-queue"), ctx)

    assert outcome.status is OutcomeStatus.NO_ACTION
    assert outcome.plan.actions == [] and outcome.decisions == [] and breaker.items == {}
    (advice,) = outcome.plan.recommendations
    assert "consider resizing retail-redshift-dev from 2 to 4 x ra3.xlplus" in advice
    assert "use the scaling procedure (runbook: Scaling / Scale Redshift, with approval)" in advice
    _, message = only_message(notifier)
    assert ("BAD stv_wlm_query_state: 3 queued, 2 waiting longer than 5m00s; longest wait 15m00s (query 1001, "
            "service class 100)") in message
    assert "ok  automatic WLM (default.redshift-1.0): 1 queue(s), concurrency scaling off" in message


def test_manual_wlm_without_concurrency_scaling_is_pointed_out_before_a_resize(ctx: Context,
                                                                              redshift: FakeRedshift) -> None:
    redshift.wlm_settings = WlmSettings(parameter_group="default.redshift-1.0", auto_wlm=False, queues=3,
                                        concurrency_scaling_queues=0, max_concurrency_scaling_clusters=1)
    redshift.queue_query(1001, 900, service_class=6)

    outcome = run(PLAYBOOK, incident("redshift-queue"), ctx)

    first, second = outcome.plan.recommendations
    assert first.startswith("1 queries wait in manual WLM queues without concurrency scaling: set "
                            '"concurrency_scaling": "auto"')
    assert "consider resizing" in second


def test_at_the_node_cap_the_resize_is_a_decision_for_a_person(ctx: Context, redshift: FakeRedshift) -> None:
    redshift.nodes = ctx.catalog.guardrails.max_redshift_nodes
    redshift.queue_query(1001, 900)

    outcome = run(PLAYBOOK, incident("redshift-queue"), ctx)

    assert "already at the cap of 4 nodes (guardrails.max_redshift_nodes)" in outcome.plan.recommendations[0]


def test_a_queue_explained_by_stale_statistics_gets_no_resize_advice(ctx: Context, redshift: FakeRedshift) -> None:
    redshift.queue_query(1001, 900)
    redshift.stats[("analytics", "fact_sales")] = 48.5

    outcome = run(PLAYBOOK, incident("redshift-queue"), ctx)

    assert [a.name for a in outcome.plan.actions] == ["redshift.analyze_tables"]
    assert outcome.plan.recommendations == []


def test_high_cpu_with_nothing_to_fix_says_so(ctx: Context, redshift: FakeRedshift, notifier: FakeNotifier) -> None:
    redshift.run_query(9, "bi_user", 120)

    outcome = run(PLAYBOOK, incident(), ctx)

    assert outcome.status is OutcomeStatus.NO_ACTION
    assert "the load is the workload itself" in outcome.plan.recommendations[0]
    assert all(f.ok for f in outcome.plan.findings)


def test_unreadable_wlm_settings_are_a_finding_not_a_failure(auto: Context, redshift: FakeRedshift) -> None:
    from botocore.exceptions import ClientError

    redshift.wlm_settings = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}},
                                        "DescribeClusterParameters")
    redshift.stats[("analytics", "fact_sales")] = 48.5

    outcome = run(PLAYBOOK, incident(), auto)

    assert outcome.status is OutcomeStatus.REMEDIATED
    wlm = next(f for f in outcome.plan.findings if f.check == "WLM settings")
    assert not wlm.ok and wlm.detail == "WLM settings of parameter group default.redshift-1.0 unreadable (AccessDenied)"


def test_a_cluster_that_is_not_available_is_left_alone_without_sql(auto: Context, redshift: FakeRedshift) -> None:
    redshift.status = "resizing"
    redshift.stats[("analytics", "fact_sales")] = 48.5

    outcome = run(PLAYBOOK, incident(), auto)

    assert outcome.status is OutcomeStatus.NO_ACTION
    assert redshift.sql_calls == 0
    assert outcome.plan.recommendations == ["retail-redshift-dev is resizing: no query is analyzed or cancelled "
                                            "until it is available again; nothing was changed."]


def test_an_alarm_on_another_component_changes_nothing(auto: Context, redshift: FakeRedshift) -> None:
    redshift.stats[("analytics", "fact_sales")] = 48.5

    outcome = run(PLAYBOOK, incident(resource="table:analytics.fact_sales"), auto)

    assert outcome.status is OutcomeStatus.NO_ACTION and redshift.sql_calls == 0


def test_the_kill_switch_refuses_the_analyze(auto: Context, redshift: FakeRedshift,
                                             kill_switch: FakeKillSwitch) -> None:
    redshift.stats[("analytics", "fact_sales")] = 48.5
    kill_switch.on = True

    outcome = run(PLAYBOOK, incident(), auto)

    assert outcome.status is OutcomeStatus.REFUSED and redshift.analyzed == []


def test_a_second_cpu_alarm_within_the_cooldown_does_not_analyze_again(auto: Context, redshift: FakeRedshift,
                                                                       clock: FixedClock) -> None:
    redshift.stats[("analytics", "fact_sales")] = 48.5
    run(PLAYBOOK, incident(), auto)
    redshift.stats[("analytics", "fact_sales")] = 30.0
    clock.advance(minutes=10)

    outcome = run(PLAYBOOK, incident(), auto)

    assert redshift.analyzed == [("analytics", "fact_sales")]
    assert (outcome.decisions[0].verdict, outcome.decisions[0].rule) == (Verdict.REFUSED, "cooldown")


# --- errors: one line, never a secret ---------------------------------------------------------------------

def test_a_database_error_during_diagnosis_escalates_with_one_line(auto: Context, redshift: FakeRedshift,
                                                                   audit: FakeAudit, notifier: FakeNotifier) -> None:
    redshift.error = driver_error("reading stv_recents failed on retail-redshift-dev: permission denied")

    outcome = run(PLAYBOOK, incident(), auto)

    assert outcome.status is OutcomeStatus.ESCALATED
    assert outcome.summary == ("diagnosis failed: RedshiftError: reading stv_recents failed on retail-redshift-dev: "
                               "permission denied")
    assert audit.kinds() == ["incident", "outcome"]
    assert "ESCALATED" in only_message(notifier)[0]


# --- the service user's privileges (sql/redshift-grants.sql) ------------------------------------------------

def test_svv_table_info_refused_costs_the_statistics_check_not_the_diagnosis(ctx: Context, raw_catalog: dict[str, Any],
                                                                            redshift: FakeRedshift,
                                                                            notifier: FakeNotifier) -> None:
    # Finding 3: SVV_TABLE_INFO is superuser-visible unless granted; the diagnosis aborted on every alarm.
    ctx.catalog = bent(raw_catalog, mode="auto", auto_approve_destructive=["redshift.cancel_query"])
    redshift.refused["table_stats"] = "SELECT on svv_table_info"
    redshift.run_query(4242, "etl_user", LONG)

    outcome = run(PLAYBOOK, incident(), ctx)

    assert redshift.cancelled == [4242]  # the rest of the diagnosis ran, and acted
    assert outcome.status is OutcomeStatus.REMEDIATED
    stats = next(f for f in outcome.plan.findings if f.check == "table statistics")
    assert not stats.ok and "lacks SELECT on svv_table_info: run sql/redshift-grants.sql" in stats.detail
    _, message = only_message(notifier)
    assert "table statistics not checked: the service user IAM:remedy lacks SELECT on svv_table_info: run " \
           "sql/redshift-grants.sql" in message


def test_a_cancel_the_database_refuses_fails_naming_the_missing_role(ctx: Context, raw_catalog: dict[str, Any],
                                                                     redshift: FakeRedshift) -> None:
    # Finding 4: without sys:operator a user cancels only its own queries.
    ctx.catalog = bent(raw_catalog, mode="auto", auto_approve_destructive=["redshift.cancel_query"])
    redshift.refused["cancel"] = "the role sys:operator (to cancel another user's query)"
    redshift.run_query(4242, "etl_user", LONG)

    outcome = run(PLAYBOOK, incident(), ctx)

    assert redshift.running and outcome.results[0].status.value == "FAILED"
    assert "lacks the role sys:operator (to cancel another user's query): run sql/redshift-grants.sql" in \
           outcome.results[0].detail


# --- ANALYZE within the invocation's time (finding 9) ------------------------------------------------------

def test_analyze_stops_before_the_deadline_and_says_which_tables_are_left(auto: Context, redshift: FakeRedshift,
                                                                          notifier: FakeNotifier) -> None:
    redshift.stats[("analytics", "fact_sales")] = 60.0
    redshift.stats[("analytics", "dim_customer")] = 40.0
    redshift.time_left = 30.0  # a 60 s function, half gone
    redshift.analyze_seconds[("analytics", "fact_sales")] = 35.0  # a slow table: would outlive the function

    outcome = run(PLAYBOOK, incident(), auto)

    assert redshift.analyzed == [] and redshift.time_left >= 10  # stopped in time for the report
    changed = outcome.results[0].changed
    assert changed == {"tables": [], "left": ["analytics.fact_sales", "analytics.dim_customer"]}
    assert "left for the next run" in outcome.results[0].detail
    assert outcome.verification.status is VerificationStatus.INCONCLUSIVE
    assert "analytics.dim_customer" in only_message(notifier)[1]


def test_analyze_does_what_fits_and_leaves_the_rest(auto: Context, redshift: FakeRedshift) -> None:
    redshift.stats[("analytics", "fact_sales")] = 60.0
    redshift.stats[("analytics", "dim_customer")] = 40.0
    redshift.time_left = 25.0
    redshift.analyze_seconds[("analytics", "fact_sales")] = 14.0  # fits the 15 s it gets; 11 s are left

    outcome = run(PLAYBOOK, incident(), auto)

    assert redshift.analyzed == [("analytics", "fact_sales")]
    assert outcome.results[0].changed == {"tables": ["analytics.fact_sales"], "left": ["analytics.dim_customer"]}
    assert outcome.verification.status is VerificationStatus.VERIFIED
    assert outcome.verification.detail.endswith("not analyzed in this run (time ran out): analytics.dim_customer")


PASSWORD = "AmazonRedshift-temporary-Pa55word+/xyz"


def test_a_connector_failure_never_puts_the_password_in_the_audit_or_the_notification(
        catalog: Catalog, kill_switch: FakeKillSwitch, breaker: FakeBreaker, audit: FakeAudit,
        notifier: FakeNotifier, clock: FixedClock) -> None:
    client = boto3.client("redshift", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_response("describe_clusters", {"Clusters": [{
        "ClusterIdentifier": CLUSTER, "ClusterStatus": "available", "NodeType": "ra3.xlplus", "NumberOfNodes": 2,
        "Endpoint": {"Address": "retail-redshift-dev.abc.eu-west-1.redshift.amazonaws.com", "Port": 5439},
        "ClusterParameterGroups": [{"ParameterGroupName": "default.redshift-1.0"}]}]},
        {"ClusterIdentifier": CLUSTER})
    stub.add_response("describe_cluster_parameters", {"Parameters": []},
                      {"ParameterGroupName": "default.redshift-1.0"})
    stub.add_response("get_cluster_credentials", {"DbUser": "IAM:remedy", "DbPassword": PASSWORD,
                                                  "Expiration": NOW + timedelta(minutes=15)})
    seen: dict[str, Any] = {}

    def refusing_connect(**kwargs: Any) -> Any:
        seen.update(kwargs)
        # Drivers echo what they were given more often than one would like.
        raise ConnectionRefusedError(f"could not connect: user={kwargs['user']} password={kwargs['password']}\n"
                                     "  second line of a traceback-ish message")

    adapter = RedshiftAdapter(Clients(overrides={"redshift": client}), catalog.redshift, RedshiftSettings(),
                              connect=refusing_connect, now=lambda: NOW)
    ctx = Context(catalog=catalog, ports=RedshiftPorts(redshift=adapter), kill_switch=kill_switch,  # type: ignore[arg-type]
                  breaker=breaker, audit=audit, notifier=notifier, clock=clock)
    with stub:
        outcome = run(PLAYBOOK, incident(), ctx)

    assert seen["password"] == PASSWORD and seen["ssl"] is True  # it was used, and only there
    assert outcome.status is OutcomeStatus.ESCALATED
    assert outcome.summary == ("diagnosis failed: RedshiftError: cannot connect to retail-redshift-dev at "
                               "retail-redshift-dev.abc.eu-west-1.redshift.amazonaws.com:5439 as IAM:remedy: "
                               "could not connect: user=IAM:remedy password=***")
    assert "\n" not in outcome.summary
    everything = json.dumps(audit.records, default=str) + json.dumps(notifier.published) + repr(outcome)
    assert PASSWORD not in everything
    assert PASSWORD not in repr(adapter.credentials())
    stub.assert_no_pending_responses()


def test_duration_reads_like_a_person_would_say_it() -> None:
    assert [duration(s) for s in (5, 65, 1800, 7260)] == ["5s", "1m05s", "30m00s", "2h01m"]

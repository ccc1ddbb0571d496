"""Scale (issue 16): the synthetic catalog generator, the outage count in tiers of composites, and the checks of
synthesized templates against AWS's limits (remedy/scale.py, infra/outage.py)."""

from __future__ import annotations

import itertools
import random
from pathlib import Path
from typing import Any

import pytest

from functions.core.catalog import load_catalog, parse_catalog
from functions.core.naming import OUTAGE_COMPONENT, OUTAGE_SIGNAL, PIPELINE_SIGNAL, alarm_name
from functions.maintenance.weekly import PLATFORM, pipelines
from infra.outage import TIER_SIGNAL, rule_characters, splits
from infra.signals import MAX_RULE_ALARMS, MAX_RULE_CHARACTERS, CompositeSpec, service_composite_specs
from remedy.scale import (
    ALARM_RULE_CHARACTERS,
    CFN_RESOURCES,
    DASHBOARD_WIDGETS,
    EVENT_PATTERN_CHARACTERS,
    LimitExceeded,
    assert_within_limits,
    check_limits,
    monthly_cost,
    synthetic_catalog,
    write_synthetic_catalog,
)
from sandbox.alarms import evaluate_rule


@pytest.fixture(scope="module")
def catalogs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Any]:
    folder = tmp_path_factory.mktemp("scale")
    return {n: load_catalog(write_synthetic_catalog(n, folder / f"c{n}.yaml")) for n in (1, 2, 3, 50, 200)}


# -- the generator ----------------------------------------------------------------------------------------------

def test_n_pipelines_each_a_topic_stream_landing_batch_and_table(catalogs: dict[int, Any]) -> None:
    for n, catalog in catalogs.items():
        groups = {name: members for name, members in pipelines(catalog).items() if name != PLATFORM}
        assert len(groups) == n == len(catalog.msk.topics) == len(catalog.redshift.tables)
        assert len(catalog.glue_jobs) == 2 * n and len(catalog.s3.landing_prefixes) == n
        for members in groups.values():  # every pipeline complete and its own (lineage from topic to table)
            assert sorted(m.split(":", 1)[0] for m in members) == ["glue", "glue", "s3", "table", "topic"]
        shared = pipelines(catalog)[PLATFORM]  # the clusters and the bucket's zones, nothing of a pipeline
        assert {f"msk:{catalog.msk.cluster_name}", f"redshift:{catalog.redshift.cluster_id}"} <= shared
        assert not {c for c in shared if c.split(":", 1)[0] in ("glue", "topic", "table")}


def test_both_kinds_of_the_template_are_copied_and_names_are_unique(catalogs: dict[int, Any]) -> None:
    catalog = catalogs[3]
    streams = [j for j in catalog.glue_jobs if j.streaming]
    assert [j.lag_source for j in streams] == ["checkpoint", "msk", "checkpoint"]
    assert streams[0].checkpoint_location.endswith("/p000-orders-stream/checkpoint/")
    assert len({j.role_name for j in catalog.glue_jobs}) == len(catalog.glue_jobs)
    batch = next(j for j in catalog.glue_jobs if j.name == "p002-sales-batch")
    assert (batch.reads_prefix, batch.loads_table) == ("landing/p002-orders/", "analytics.p002_fact_sales")


def test_the_generator_refuses_nothing_to_generate() -> None:
    with pytest.raises(ValueError, match="at least one"):
        synthetic_catalog(0)
    parse_catalog(synthetic_catalog(7), "seven")  # valid as any catalog


# -- the outage count in tiers ----------------------------------------------------------------------------------

def test_splits_are_every_way_to_share_j_among_capped_children() -> None:
    assert list(splits(2, [1, 1, 1])) == [(1, 1, 0), (1, 0, 1), (0, 1, 1)]
    assert list(splits(2, [2, 2])) == [(2, 0), (1, 1), (0, 2)]
    assert list(splits(3, [1, 1])) == []


def _settle(specs: list[CompositeSpec], faulty: set[str], catalog: Any) -> dict[str, str]:
    """What CloudWatch does: each composite re-evaluated from the states it reads until nothing changes. The
    rule text is rendered as CDK renders it and evaluated by the sandbox's evaluator (sandbox/alarms.py)."""
    states = {s.name: ("ALARM" if s.name in faulty else "OK") for s in specs if s.signal == PIPELINE_SIGNAL}

    def arn(name: str) -> str:
        return f"arn:aws:cloudwatch:{catalog.region}:{catalog.account_id}:alarm:{name}"

    rules = {s.name: " OR ".join("(" + " AND ".join(f'ALARM("{arn(a)}")' for a in t) + ")" for t in s.terms)
             for s in specs if s.terms}
    for _ in range(len(rules) + 1):
        changed = False
        for name, rule in rules.items():
            state = "ALARM" if evaluate_rule(rule, states) else "OK"
            changed |= states.get(name) != state
            states[name] = state
        if not changed:
            break
    return states


@pytest.mark.parametrize("n", [50, 200])
def test_the_tiered_outage_is_exactly_k_or_more_pipelines_down(catalogs: dict[int, Any], n: int) -> None:
    catalog = catalogs[n]
    specs = service_composite_specs(catalog)
    outage = alarm_name(catalog.prefix, OUTAGE_SIGNAL, OUTAGE_COMPONENT)
    leaves = [s.name for s in specs if s.signal == PIPELINE_SIGNAL]
    assert len(leaves) == n and specs[-1].name == outage and specs[-1].pages
    assert all(not s.pages for s in specs if s.signal == TIER_SIGNAL)
    k = catalog.thresholds.outage_pipelines
    rng = random.Random(n)  # a fixed sample: every count 0..k+1, spread over different groups
    for count in [0, 1, k - 1, k, k + 1, n]:
        for _ in range(6):
            faulty = set(rng.sample(leaves, min(count, n)))
            states = _settle(specs, faulty, catalog)
            assert (states[outage] == "ALARM") == (len(faulty) >= k), (count, sorted(faulty))
    # the pairs at the edges of two groups (a pipeline of each) are counted too
    for a, b in itertools.pairwise([leaves[0], leaves[len(leaves) // 2], leaves[-1]]):
        assert _settle(specs, {a, b}, catalog)[outage] == "ALARM"


def test_a_threshold_of_three_counts_three(catalogs: dict[int, Any]) -> None:
    import copy

    base = catalogs[50]
    three = base.model_copy(update={"thresholds": base.thresholds.model_copy(update={"outage_pipelines": 3})})
    specs = service_composite_specs(three)
    outage = alarm_name(three.prefix, OUTAGE_SIGNAL, OUTAGE_COMPONENT)
    leaves = [s.name for s in specs if s.signal == PIPELINE_SIGNAL]
    rng = random.Random(3)
    for count in (2, 3):
        for _ in range(8):
            faulty = set(rng.sample(leaves, count))
            assert (_settle(specs, faulty, three)[outage] == "ALARM") == (count >= 3)
    assert copy.deepcopy(specs) == specs


def test_every_tier_rule_is_within_cloudwatchs_limits(catalogs: dict[int, Any]) -> None:
    for n in (50, 200):
        catalog = catalogs[n]
        tiered = [s for s in service_composite_specs(catalog) if s.terms]
        assert tiered
        assert max(rule_characters(catalog, s.terms) for s in tiered) <= MAX_RULE_CHARACTERS
        assert max(len(s.alarms) for s in tiered) <= MAX_RULE_ALARMS
        assert all(len(s.description) <= 1024 for s in tiered)
    assert len([s for s in service_composite_specs(catalogs[200]) if s.terms]) < 60  # ~53: priced in make bench


def test_two_pipelines_keep_the_flat_rule(catalogs: dict[int, Any]) -> None:
    [outage] = [s for s in service_composite_specs(catalogs[2]) if s.signal == OUTAGE_SIGNAL]
    assert outage.terms == () and outage.at_least == 2 and len(outage.alarms) == 2


# -- the limit checks ---------------------------------------------------------------------------------------------

def _composite(rule: Any) -> dict[str, Any]:
    return {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {"AlarmName": "x", "AlarmRule": rule}}


def test_a_template_within_every_limit_passes() -> None:
    template = {"Resources": {"A": _composite('ALARM("a") OR ALARM("b")'),
                              "R": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["x"]}}}}}
    measures = assert_within_limits({"stack": template})
    assert {m.limit for m in measures} >= {CFN_RESOURCES, ALARM_RULE_CHARACTERS, EVENT_PATTERN_CHARACTERS}
    assert not any(m.over for m in measures)


def test_an_oversized_input_fails_naming_the_limit() -> None:
    rule = {"Fn::Join": ["", [part for i in range(120) for part in
                              ([' OR ALARM("'] if i else ['ALARM("']) + [{"Fn::GetAtt": [f"Alarm{i}", "Arn"]}, '")']]]}
    too_many = {f"R{i}": {"Type": "AWS::SNS::Topic", "Properties": {}} for i in range(501)}
    widgets = '{"widgets": [' + ",".join('{"type": "text"}' for _ in range(501)) + "]}"
    templates = {"big": {"Resources": {**too_many, "C": _composite(rule),
                                       "D": {"Type": "AWS::CloudWatch::Dashboard",
                                             "Properties": {"DashboardBody": widgets}},
                                       "E": {"Type": "AWS::Events::Rule",
                                             "Properties": {"EventPattern": {"detail": {"jobName": ["j" * 40] * 60}}}}}}}
    with pytest.raises(LimitExceeded) as raised:
        assert_within_limits(templates)
    over = {m.limit for m in raised.value.breaches}
    assert over == {CFN_RESOURCES, ALARM_RULE_CHARACTERS, DASHBOARD_WIDGETS, EVENT_PATTERN_CHARACTERS,
                    *(m.limit for m in check_limits(templates) if m.limit.name.endswith("in one composite rule"))}
    message = str(raised.value)
    assert "CloudFormation resources per stack: 504 of 500" in message and "OVER THE LIMIT" in message
    assert "CloudWatch composite alarm rule length" in message and "EventBridge event pattern size" in message


def test_the_monthly_cost_reads_the_dated_price_table() -> None:
    template = {"Resources": {
        "A": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Namespace": "Remedy", "MetricName": "Lag"}},
        "M": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Metrics": [
            {"Id": "a", "MetricStat": {"Metric": {"Namespace": "AWS/Kafka", "MetricName": "X"}}},
            {"Id": "b", "MetricStat": {"Metric": {"Namespace": "AWS/Kafka", "MetricName": "Y"}}},
            {"Id": "e", "Expression": "a + b"}]}},
        "C": _composite('ALARM("a")'),
        "D": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {"DashboardBody": "{}"}},
        "S": {"Type": "AWS::Events::Rule", "Properties": {"ScheduleExpression": "rate(5 minutes)"}}}}
    cost = monthly_cost({"s": template})
    items = cost["items"]
    assert items["alarm metrics (standard resolution)"]["count"] == 3  # one + two metrics
    assert items["composite alarms"]["count"] == 1 and items["dashboards"]["count"] == 1
    assert items["custom metrics (the probes')"]["count"] == 1  # AWS/ metrics are the services' own
    assert items["probe invocations (scheduled)"]["count"] == 8640  # every 5 minutes for 30 days
    assert cost["region"] and cost["prices_as_of"] and cost["source"].startswith("https://")
    assert cost["total_usd"] == round(sum(i["usd"] for i in items.values()), 2)


def test_written_catalog_is_marked_synthetic(tmp_path: Path) -> None:
    path = write_synthetic_catalog(2, tmp_path / "c.yaml")
    assert path.read_text(encoding="utf-8").startswith("# Synthetic catalog: 2 pipelines")

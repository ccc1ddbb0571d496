"""The safe batch re-run rule, and the Glue actions that carry it: an unsafe re-run is not a valid action."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

import functions.actions  # noqa: F401 - registers every action
from functions.core.actions import REGISTRY, describe, execute
from functions.core.models import Action, ActionStatus
from functions.playbooks._rerun import RerunFacts, bookmark_enabled, refusal, why_safe
from tests.unit.glue_fakes import FakeGlueRuns, GluePorts

RUN = "jr_" + "a" * 64


def facts(**changes: Any) -> RerunFacts:
    base: dict[str, Any] = {"job": "sales-batch", "loads": "analytics.fact_sales", "write_mode": "overwrite_partition",
                            "partition_argument": "--partition", "partition": "2026/11/25/09", "bookmark": False,
                            "plain_retry": False}
    return RerunFacts(**{**base, **changes})


@pytest.mark.parametrize(("changes", "safe"), [
    ({}, True),  # overwrite_partition with the partition: replaces it
    ({"partition": None}, False),  # overwrite without a partition, no bookmark: scope unknown
    ({"partition": None, "bookmark": True, "plain_retry": True}, True),  # bookmark + plain retry
    ({"partition": None, "bookmark": True}, False),  # bookmark, but not a plain retry
    ({"write_mode": "append"}, False),  # append without bookmark
    ({"write_mode": "append", "bookmark": True}, False),  # append, a re-run of a loaded partition
    ({"write_mode": "append", "bookmark": True, "plain_retry": True}, True),
    ({"write_mode": "append", "plain_retry": True}, False),  # a retry, but nothing protects it
])
def test_the_rule(changes: dict[str, Any], safe: bool) -> None:
    assert (refusal(facts(**changes)) is None) is safe


def test_the_refusals_say_why() -> None:
    assert refusal(facts(write_mode="append")) == (
        "sales-batch appends to analytics.fact_sales without a job bookmark: a re-run would load partition "
        "2026/11/25/09 into analytics.fact_sales a second time")
    assert refusal(facts(write_mode="append", bookmark=True)) == (
        "sales-batch appends to analytics.fact_sales: its bookmark protects only a plain retry of a failed run, "
        "and this re-run would load partition 2026/11/25/09 into analytics.fact_sales a second time")
    assert refusal(facts(partition=None)) == (
        "sales-batch overwrites partitions of analytics.fact_sales but the run has no --partition argument and no "
        "job bookmark: the re-run's scope is unknown and could load what analytics.fact_sales already holds a "
        "second time")
    assert why_safe(facts()) == ("overwrites partition 2026/11/25/09 of analytics.fact_sales: a re-run replaces "
                                 "it, never adds to it")


@pytest.mark.parametrize(("defaults", "run_args", "enabled"), [
    ({"--job-bookmark-option": "job-bookmark-enable"}, {}, True),
    ({"--job-bookmark-option": "job-bookmark-enable"}, {"--job-bookmark-option": "job-bookmark-disable"}, False),
    ({}, {"--job-bookmark-option": "job-bookmark-enable"}, True),
    ({"--job-bookmark-option": "job-bookmark-pause"}, {}, False),  # pause does not make a retry exact
    ({}, {}, False),
])
def test_bookmark_enabled(defaults: dict[str, str], run_args: dict[str, str], enabled: bool) -> None:
    assert bookmark_enabled(defaults, run_args) is enabled


@pytest.mark.parametrize("partition", ["dt=2026-11-25", "dt=2026-11-25/hr=10", "2026/11/25", "2026/11/25/10"])
def test_partitions_of_both_layouts_are_accepted(partition: str) -> None:
    assert facts(partition=partition).partition == partition


@pytest.mark.parametrize("partition", ["2026/11/25/10; rm -rf /", "dt=$(id)", "dt=2026-11-25 --x", "../x",
                                       "dt='a'", "2026/11/25/10/../../x", "dt=2026-11-25\n", ""])
def test_partitions_with_metacharacters_are_rejected(partition: str) -> None:
    with pytest.raises(ValidationError):
        facts(partition=partition)
    with pytest.raises(ValidationError):
        REGISTRY["glue.rerun_partition"].params.model_validate(
            {"job_name": "sales-batch", "partition": partition, "rerun": facts().model_dump()})


# --- the actions ------------------------------------------------------------------------------------------

def rerun_action(**params: Any) -> Action:
    base = {"job_name": "sales-batch", "partition": "2026/11/25/09", "rerun": facts().model_dump()}
    return Action(name="glue.rerun_partition", target="glue:sales-batch", params={**base, **params},
                  reason="test")


def restart_action(**params: Any) -> Action:
    base = {"job_name": "sales-batch", "retry_of": RUN, "arguments": {"--partition": "2026/11/25/09"},
            "rerun": facts(plain_retry=True).model_dump()}
    return Action(name="glue.restart_job", target="glue:sales-batch", params={**base, **params}, reason="test")


def test_a_partition_rerun_is_destructive_and_a_retry_is_not() -> None:
    assert REGISTRY["glue.rerun_partition"].destructive is True
    assert REGISTRY["glue.restart_job"].destructive is False
    for name in ("glue.rerun_partition", "glue.restart_job"):
        assert REGISTRY[name].iam_actions == ("glue:StartJobRun",)
        assert REGISTRY[name].resource_kind == "glue_job"


def test_the_partition_rerun_command_and_run() -> None:
    action = rerun_action()
    assert describe(action) == ("aws glue start-job-run --job-name sales-batch --arguments "
                                "'{\"--job-bookmark-option\":\"job-bookmark-disable\",\"--partition\":\"2026/11/25/09\"}'")
    glue = FakeGlueRuns()
    glue.define("sales-batch")

    result = execute(action, GluePorts(glue=glue))

    assert result.status is ActionStatus.SUCCEEDED
    (run,) = glue.started("sales-batch")
    assert run.arguments == {"--partition": "2026/11/25/09", "--job-bookmark-option": "job-bookmark-disable"}
    assert result.changed["partition"] == "2026/11/25/09"


def test_the_retry_command_carries_type_workers_and_arguments() -> None:
    action = restart_action(worker_type="G.2X", to_workers=4)
    assert describe(action) == ("aws glue start-job-run --job-name sales-batch --worker-type G.2X "
                                "--number-of-workers 4 --arguments '{\"--partition\":\"2026/11/25/09\"}'")


def test_an_unsafe_rerun_is_not_a_valid_action() -> None:
    result = execute(rerun_action(rerun=facts(write_mode="append").model_dump()), GluePorts(glue=FakeGlueRuns()))
    assert result.status is ActionStatus.FAILED
    assert result.detail.startswith("invalid parameters: unsafe re-run: sales-batch appends to analytics.fact_sales")


@pytest.mark.parametrize(("action", "message"), [
    (rerun_action(rerun=facts(partition="2026/11/25/08").model_dump()), "do not describe the arguments"),
    (rerun_action(rerun=facts(job="customer-scd-batch").model_dump()), "describe customer-scd-batch"),
    (rerun_action(rerun=facts(plain_retry=True).model_dump()), "do not describe the arguments"),
    (restart_action(arguments={}), "do not describe the arguments"),
    (restart_action(arguments={"--partition": "2026/11/25/09", "--conf": "spark.x=1 --y"}), "String should match"),
    (restart_action(arguments={"--partition;id": "x"}), "String should match"),
    (restart_action(retry_of="jr_1; rm"), "String should match"),
    (restart_action(worker_type="G.16X"), "Input should be"),
])
def test_facts_that_do_not_match_the_run_are_refused(action: Action, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        REGISTRY[action.name].params.model_validate(action.params)

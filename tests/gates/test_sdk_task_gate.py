"""aws-sdk task gate: every `arn:aws:states:::aws-sdk:<service>:<action>` task's Parameters fit botocore's
input shape and its ResultSelector paths exist in the output shape (infra.gates.check_sdk_tasks)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from infra import gates
from tests.infra.helpers import Synth

pytestmark = pytest.mark.infra


def _sdk_tasks(synth: Synth) -> list[str]:
    return [f"{w}/{name}" for s, t in synth.templates.items() for w, d in gates.state_machines(s, t)
            for name, state in gates.all_states(d["States"]) if str(state.get("Resource", "")).startswith(gates.SDK_PREFIX)]


def test_every_aws_sdk_task_fits_botocore_model(synth: Synth) -> None:
    assert _sdk_tasks(synth), "no aws-sdk task found: the gate would check nothing"
    found = gates.sdk_findings(synth.templates, synth.catalog.region, synth.catalog.account_id)
    assert found == [], "\n".join(found)


def _machine(task: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "End": True, **task}}}


def test_an_unknown_parameter_fails_the_gate_with_a_line_naming_it(synth: Synth) -> None:
    templates = copy.deepcopy(synth.templates)
    stack = f"{synth.catalog.prefix}-procedures"
    template = templates[stack]
    where, definition, task, state = next(
        (w, d, n, s) for w, d in gates.state_machines(stack, template) for n, s in gates.all_states(d["States"])
        if str(s.get("Resource", "")).startswith(gates.SDK_PREFIX))
    state.setdefault("Parameters", {})["NoSuchMember"] = "x"
    logical = where.split(" ", 1)[1]
    template["Resources"][logical]["Properties"]["DefinitionString"] = json.dumps(definition)
    found = gates.sdk_findings(templates)
    assert any(f.startswith(f"{stack} {logical}/{task}: ") and "Parameters.NoSuchMember: no such member" in f
               for f in found), found


def test_parameters_are_checked_for_members_required_types_and_enums() -> None:
    found = gates.check_sdk_tasks("m", _machine({
        "Resource": "arn:aws:states:::aws-sdk:glue:startJobRun",
        "Parameters": {"JobNam.$": "$.job", "NumberOfWorkers": "4", "WorkerType": "G.9X",
                       "Arguments": {"--k": 1, "--d.$": "$.d"}}}))
    assert len(found) == 5, found
    assert found[0].startswith("m/T: StartJobRun Parameters.JobNam: no such member of StartJobRunRequest (members: ")
    assert found[1] == "m/T: StartJobRun Parameters.NumberOfWorkers is str '4', expected integer"
    assert found[2].startswith("m/T: StartJobRun Parameters.WorkerType is 'G.9X', not one of WorkerType's values [")
    assert found[3] == "m/T: StartJobRun Parameters.Arguments.--k is int 1, expected string"
    assert found[4] == "m/T: StartJobRun Parameters: required member JobName of StartJobRunRequest is missing"


def test_dynamic_values_and_nested_maps_pass() -> None:
    assert gates.check_sdk_tasks("m", _machine({
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
        "Parameters": {"TableName": "t", "Item": {"pk": {"S.$": "$.id"}, "n": {"N": "1"}}}})) == []


def test_result_selector_paths_must_exist_in_the_output_shape() -> None:
    found = gates.check_sdk_tasks("m", _machine({
        "Resource": "arn:aws:states:::aws-sdk:kafka:describeClusterV2",
        "Parameters": {"ClusterArn.$": "$.arn"},
        "ResultSelector": {"state.$": "$.ClusterInfo.State", "version.$": "$.ClusterInfo.CurrentVersion",
                           "brokers.$": "$.ClusterInfo.Provisioned.NumberOfBrokerNodes",
                           "bad.$": "$.ClusterInfo.Status", "deep.$": "$.ClusterInfo.State.Name",
                           "fmt.$": "States.Format('{}', $.ClusterInfo.Nope)", "ctx.$": "$$.Execution.Id"}}))
    assert len(found) == 3, found
    assert found[0].startswith("m/T: DescribeClusterV2 ResultSelector $.ClusterInfo.Status: $.ClusterInfo "
                               "(Cluster) has no member Status (members: ")
    assert found[1] == ("m/T: DescribeClusterV2 ResultSelector $.ClusterInfo.State.Name: $.ClusterInfo.State is a "
                        "string, it has no member Name")
    assert found[2].startswith("m/T: DescribeClusterV2 ResultSelector $.ClusterInfo.Nope: ")


def test_unknown_operations_and_services_are_named() -> None:
    assert gates.check_sdk_tasks("m", _machine({"Resource": "arn:aws:states:::aws-sdk:glue:getJobz"})) == [
        "m/T: glue:getJobz is not an operation of botocore's glue"]
    assert gates.check_sdk_tasks("m", _machine({"Resource": "arn:aws:states:::aws-sdk:gluey:getJob"})) == [
        "m/T: gluey:getJob is not an operation of botocore's gluey (no such service)"]


def test_step_functions_service_names_map_to_botocore() -> None:
    # Step Functions names services as the AWS SDK for Java 2.x (service id, lowercased, spaces removed).
    assert gates.botocore_service("sfn") == "stepfunctions"
    assert gates.botocore_service("dynamodb") == "dynamodb"
    assert gates.botocore_service("cloudwatchlogs") == "logs"
    assert gates.operation_model("sfn", "startSyncExecution").name == "StartSyncExecution"

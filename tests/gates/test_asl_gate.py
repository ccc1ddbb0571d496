"""ASL gate: every state machine definition of every env passes statelint (infra.gates.check_asl)."""

from __future__ import annotations

import copy
import json

import pytest

from infra import gates
from tests.infra.helpers import Synth

pytestmark = pytest.mark.infra


def test_every_state_machine_passes_statelint(synth: Synth) -> None:
    found = gates.asl_findings(synth.templates, synth.catalog.region, synth.catalog.account_id)
    machines = [w for s, t in synth.templates.items() for w, _ in gates.state_machines(s, t)]
    assert machines, "no state machine found: the gate would check nothing"
    assert found == [], "\n".join(found)


def test_an_invalid_definition_fails_the_gate_with_a_line_naming_it(synth: Synth) -> None:
    templates = copy.deepcopy(synth.templates)
    stack = f"{synth.catalog.prefix}-procedures"
    template = templates[stack]
    where, definition = next(gates.state_machines(stack, template))
    logical = where.split(" ", 1)[1]
    definition["StartAt"] = "NoSuchState"
    template["Resources"][logical]["Properties"]["DefinitionString"] = json.dumps(definition)
    found = gates.asl_findings(templates)
    assert any(f.startswith(f"{stack} {logical}: ") and "NoSuchState" in f for f in found), found


def test_integer_backoff_rate_is_accepted_as_aws_does() -> None:
    definition = {"StartAt": "T", "States": {"T": {
        "Type": "Task", "Resource": "arn:aws:states:::aws-sdk:glue:getJob", "Parameters": {"JobName": "j"},
        "Retry": [{"ErrorEquals": ["States.ALL"], "BackoffRate": 2, "MaxAttempts": 2}], "End": True}}}
    assert gates.check_asl("m", definition) == []
    assert gates.check_asl("m", {"StartAt": "T", "States": {"T": {"Type": "Pass"}}}) == [
        'm: State Machine.States.T does not have required field "Next"',
        "m: No terminal state found in machine at State Machine.States"]

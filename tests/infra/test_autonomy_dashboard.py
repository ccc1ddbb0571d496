"""Earned autonomy on the remediation dashboard (issue 14): a dashboard is fixed at deploy time, so the effective
mode is a metric the runtime publishes (EffectiveMode, EMF, functions.core.runtime.publish_mode) and the dashboard
graphs it per playbook, in the namespace and dimensions the runtime writes."""

from __future__ import annotations

import json

import pytest

from functions.core.observability import METRICS_NAMESPACE, SERVICE
from infra.constructs.dashboards import playbook_names
from tests.infra.helpers import Synth, props, text

pytestmark = pytest.mark.infra


def test_the_remediation_dashboard_graphs_each_playbooks_effective_mode(synth: Synth) -> None:
    board = next(json.loads(text(d["DashboardBody"])) for d in props(synth.monitoring, "AWS::CloudWatch::Dashboard")
                 if d["DashboardName"] == f"{synth.catalog.prefix}-remediation")
    graphed = {}
    for widget in board["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            names = [m for m in metric if isinstance(m, str)]
            if "EffectiveMode" in names:
                graphed[names[names.index("Playbook") + 1]] = (widget["type"], names[0], names)
    assert set(graphed) == set(playbook_names())
    for kind, namespace, names in graphed.values():
        assert (kind, namespace) == ("metric", METRICS_NAMESPACE)
        assert names[names.index("service") + 1] == SERVICE

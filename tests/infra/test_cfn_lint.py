"""cfn-lint on the synthesized templates: errors fail; warnings only where the reason is written here."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from tests.infra.helpers import Synth

pytestmark = pytest.mark.infra

IGNORED = {
    # CDK's Function adds DependsOn its role although the Role GetAtt already orders them: redundant, harmless.
    "W3005",
}


def test_templates_pass_cfn_lint(synth: Synth) -> None:
    for stack, template in synth.templates.items():
        matches = lint(json.dumps(template), config=ManualArgs(regions=[synth.catalog.region],
                                                               ignore_checks=sorted(IGNORED)))
        found = [f"{m.rule.id} {m.message} ({m.path_string if hasattr(m, 'path_string') else m.linenumber})"
                 for m in matches]
        assert found == [], f"{stack}: {found}"

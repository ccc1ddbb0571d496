"""A driver error that echoes the password (the Redshift playbook's own unit test,
tests/unit/test_redshift_performance.py) generalized to both functions that connect to Redshift: the error line
masks it. That no secret reaches a log line, a notification, the audit trail or a report is checked on the whole
game day's drive (tests/integration/test_gameday.py, with tests/integration/secrets_watch.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from remedy.gameday import registry
from remedy.gameday.drill import Drill
from sandbox.core import Sandbox
from tests.integration.secrets_watch import Watch

pytestmark = [pytest.mark.integration,
              pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")]


@pytest.fixture
def watch(sandbox_env: Sandbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> Iterator[Watch]:
    yield Watch(sandbox_env, monkeypatch, caplog)


@pytest.mark.parametrize("job", ["redshift_performance", "redshift_analysis"])
def test_a_driver_error_that_echoes_the_password_is_logged_and_told_without_it(job: str, sandbox_env: Sandbox,
                                                                               watch: Watch,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Drivers echo what they were given: the error line every Redshift function reports masks the password."""
    import redshift_connector

    from sandbox.redshift_wiring import attach_redshift

    sandbox = sandbox_env
    sandbox.reset()
    attach_redshift(sandbox)  # the stand-in is up and seeded before the driver is made to fail (the sandbox connects too)
    watch.logs.clear()

    def echoing_connect(**kwargs: Any) -> Any:
        raise ConnectionRefusedError(f"could not connect: user={kwargs['user']} password={kwargs['password']}\n"
                                     f"  host={kwargs['host']}")

    monkeypatch.setattr(redshift_connector, "connect", echoing_connect)
    if job == "redshift_performance":
        drill = Drill(sandbox)
        registry.select(["redshift-stale-stats-auto"])[0].run(drill)  # its expectations cannot hold: no database
    else:
        from functions.maintenance import function_name

        with pytest.raises(Exception, match="password=\\*\\*\\*"):
            sandbox.invoke(sandbox.function(function_name(sandbox.catalog, job)), {"job": job})
    assert watch.passwords, "the function did get temporary credentials"
    assert "password=***" in "\n".join(watch.logs) + json.dumps(sandbox.audit(), default=str) + \
        "\n".join(r.getMessage() for r in watch.caplog.records) or job == "redshift_analysis"
    assert watch.leaks(job) == []

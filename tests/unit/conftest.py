"""Unit tier: no network (sockets disabled), in-memory fakes of the ports, the real dev catalog."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pytest_socket import disable_socket, enable_socket

from functions.core.catalog import Catalog, load_catalog, parse_catalog
from functions.core.models import Incident
from tests.unit.fakes import (
    FakeAudit,
    FakeBreaker,
    FakeGlue,
    FakeKillSwitch,
    FakeNotifier,
    FakePorts,
    FixedClock,
)

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "tests" / "events"
DEV_YAML = ROOT / "config" / "dev.yaml"
NOW = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
LAG_ALARM = "remedy-dev/consumer-lag/glue:orders-stream"


@pytest.fixture(autouse=True)
def _no_network() -> Iterator[None]:
    disable_socket()
    yield
    enable_socket()


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def dev_data() -> dict[str, Any]:
    return yaml.safe_load(DEV_YAML.read_text(encoding="utf-8"))


@pytest.fixture
def raw_catalog(dev_data: dict[str, Any]) -> dict[str, Any]:
    """A private copy of the dev catalog's data, to break or bend in one test."""
    return copy.deepcopy(dev_data)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(DEV_YAML)


def bent_catalog(data: dict[str, Any], **guardrails: Any) -> Catalog:
    """The dev catalog with some playbook guardrails changed (still validated)."""
    data = copy.deepcopy(data)
    data["guardrails"]["playbooks"]["msk_consumer_lag"].update(guardrails)
    return parse_catalog(data, "bent")


def lag_incident(state: str = "ALARM", at: datetime = NOW, resource: str = "glue:orders-stream") -> Incident:
    alarm = f"remedy-dev/consumer-lag/{resource}"
    return Incident(id=f"{alarm}@{at:%Y-%m-%dT%H:%M:%S.000+0000}", alarm_name=alarm, state=state,
                    previous_state="OK" if state == "ALARM" else "ALARM", reason="Threshold Crossed",
                    changed_at=at, account="111111111111", region="eu-west-1", playbook="msk_consumer_lag",
                    resource=resource)


@pytest.fixture
def glue() -> FakeGlue:
    fake = FakeGlue()
    fake.add_job("orders-stream", workers=2)
    fake.add_job("customers-stream", workers=2)
    return fake


@pytest.fixture
def ports(glue: FakeGlue) -> FakePorts:
    return FakePorts(glue=glue)


@pytest.fixture
def kill_switch() -> FakeKillSwitch:
    return FakeKillSwitch(on=False)


@pytest.fixture
def breaker() -> FakeBreaker:
    return FakeBreaker()


@pytest.fixture
def audit() -> FakeAudit:
    return FakeAudit()


@pytest.fixture
def notifier() -> FakeNotifier:
    return FakeNotifier()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)

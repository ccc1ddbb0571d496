"""Procedure steps under AWS faults (found by the fault matrix, remedy.faults): a failure report whose SNS or
DynamoDB half is refused still does the other half, then fails (the run ends Remedy.ReportFailed); a service
outage whose AWS Support case cannot be opened still pages on call; a security incident whose CloudTrail, IAM
or ingress review cannot be read still contains what it can and asks for the rest, the review left by hand."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.catalog import Catalog
from functions.procedures import outage, report, security
from functions.procedures.inputs import validate
from tests.unit.test_procedures import (
    HOUR,
    NOW,
    SCALE_STATE,
    FakeIdentity,
    FakeTrail,
    Recorder,
    base,
    iso,
)


class Refused(Exception):
    pass


class RefusingNotifier(Recorder):
    def publish(self, subject: str, message: str, card: dict[str, Any] | None = None) -> None:
        raise Refused("AuthorizationError: not authorized to perform SNS:Publish")


class RefusingAudit(Recorder):
    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None:
        raise Refused("ThrottlingException: rate exceeded")


def failed_event() -> dict[str, Any]:
    state = {**SCALE_STATE, "failed": {"step": "Approval"},
             "failure": {"Error": "Sns.ThrottledException", "Cause": "rate exceeded"}}
    return {"mode": "failed", "state": state}


def test_a_report_that_cannot_be_sent_is_still_recorded() -> None:
    recorder, notifier = Recorder(), RefusingNotifier()
    with pytest.raises(Refused):
        report.report(failed_event(), "remedy-dev", recorder, notifier, recorder, recorder)
    [(incident, kind, payload)] = recorder.records
    assert (incident, kind, payload["status"]) == ("INC-1", "procedure_outcome", "FAILED")
    assert payload["not_notified"].startswith("AuthorizationError")


def test_a_report_that_cannot_be_recorded_is_still_sent() -> None:
    recorder, audit = Recorder(), RefusingAudit()
    with pytest.raises(Refused):
        report.report(failed_event(), "remedy-dev", audit, recorder, recorder, recorder)
    [(subject, _message)] = recorder.messages
    assert subject == "[remedy-dev] FAILED: scale-glue INC-1 at Approval"


class ThrottledSupport:
    def create_case(self, subject: str, body: str) -> str:
        raise Refused("ThrottlingException: rate exceeded")


def test_an_outage_pages_even_when_support_refuses_the_case(catalog: Catalog) -> None:
    page = outage.escalate({"incident_id": "INC-1", "plan": {"findings": ["x"]}}, catalog, ThrottledSupport())
    assert "AWS Support case not opened: Refused: ThrottlingException: rate exceeded; open one by hand" in page[
        "message"]
    assert page["subject"] == "[remedy-dev] PAGE: service outage INC-1"


class Unreadable:
    def events(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        raise Refused("AccessDeniedException: not authorized to perform cloudtrail:LookupEvents")

    def policies(self, kind: str, name: str) -> list[dict[str, Any]]:
        raise Refused("Throttling: rate exceeded")


SECURITY_STATE = {"plan": {"principal": {"kind": "user", "name": "etl-contractor"}},
                  "start": "2026-11-25T08:00:00+00:00", "end": "2026-11-25T10:00:00+00:00"}


def test_a_review_that_cannot_be_read_is_said_not_fatal() -> None:
    trail = security.review_cloudtrail(SECURITY_STATE, Unreadable())
    assert trail["summary"].startswith("could not be read (Refused: AccessDeniedException") and trail["events"] == 0
    policies = security.review_policies(SECURITY_STATE, Unreadable())
    assert policies["summary"] == ("could not be read (Refused: Throttling: rate exceeded): review the user's "
                                   "policies by hand") and policies["policies"] == []


class UnreadableNetwork:
    def ingress(self, group_ids: list[str]) -> list[dict[str, Any]]:
        raise Refused("RequestLimitExceeded: slow down")


def test_ingress_that_cannot_be_read_does_not_stop_the_keys_from_being_contained(catalog: Catalog) -> None:
    inp = validate("security-incident", base(principal="AKIAABCDEFGHIJKLMNOP", start=iso(NOW - HOUR), end=iso(NOW)),
                   catalog, NOW)
    plan = security.assess(inp, FakeIdentity(), UnreadableNetwork(), FakeTrail(), catalog)
    assert plan["keys"] == [{"user": "mallory", "id": "AKIAABCDEFGHIJKLMNOP"}] and plan["ingress"] == []
    assert any(f.startswith("ingress the catalog does not allow: could not be read (Refused: RequestLimitExceeded")
               for f in plan["findings"])

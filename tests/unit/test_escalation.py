"""Escalation decisions (half window, lapse, once only) over an in-memory approvals store, and the incident
timeline and review draft rendered from audit records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from functions.core.escalation import LAPSE, REMIND, due, sweep_playbook, sweep_procedures
from remedy import review

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=60)


class Store:
    """Approvals as the breaker table keeps them: the reminder and the lapse are conditional writes."""

    def __init__(self, approval: dict[str, Any]) -> None:
        self.item = dict(approval, status="PENDING", reminded_at="")

    def waiting(self, playbook: str) -> list[dict[str, Any]]:
        return [dict(self.item)] if self.item["status"] == "PENDING" and self.item["playbook"] == playbook else []

    def remind(self, approval_id: str, at: datetime) -> bool:
        if self.item["status"] != "PENDING" or self.item["reminded_at"]:
            return False
        self.item["reminded_at"] = at.isoformat()
        return True

    def expire(self, approval_id: str, at: datetime) -> bool:
        if self.item["status"] != "PENDING" or datetime.fromisoformat(self.item["expires_at"]) > at:
            return False
        self.item["status"] = "EXPIRED"
        return True


class Inbox:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def publish(self, subject: str, message: str) -> None:
        self.sent.append((subject, message))


class Audit:
    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None:
        self.records.append((incident_id, kind, payload))


def approval() -> dict[str, Any]:
    incident = {"id": "remedy-dev/consumer-lag/glue:orders-stream@2026-12-02T03:00:00Z",
                "alarm_name": "remedy-dev/consumer-lag/glue:orders-stream", "state": "ALARM", "changed_at": T0,
                "account": "111111111111", "region": "eu-west-1", "playbook": "msk_consumer_lag",
                "resource": "glue:orders-stream"}
    return {"approval_id": "ap-0123456789", "incident": incident, "playbook": "msk_consumer_lag",
            "action": {"name": "scale_glue_workers", "target": "glue:orders-stream", "params": {"workers": 4},
                       "reason": "lag rising"},
            "reason": "mode approve", "command": "remedy ... 4 workers", "requested_at": T0.isoformat(),
            "expires_at": (T0 + WINDOW).isoformat()}


def test_due_reminds_from_half_the_window_once_and_lapses_at_its_end() -> None:
    assert due(T0, T0 + WINDOW, False, T0 + timedelta(minutes=29, seconds=59)) is None
    assert due(T0, T0 + WINDOW, False, T0 + timedelta(minutes=30)) == REMIND
    assert due(T0, T0 + WINDOW, True, T0 + timedelta(minutes=45)) is None
    assert due(T0, T0 + WINDOW, True, T0 + WINDOW) == LAPSE
    assert due(T0, T0 + WINDOW, False, T0 + WINDOW + timedelta(minutes=5)) == LAPSE  # never reminded: lapses


def test_sweep_reminds_once_then_lapses_once_and_pages_only_the_lapse() -> None:
    store, audit, on_call, pager = Store(approval()), Audit(), Inbox(), Inbox()

    def sweep(minutes: int) -> list[dict[str, Any]]:
        return sweep_playbook("msk_consumer_lag", T0 + timedelta(minutes=minutes), store, audit, on_call, pager,
                              "remedy-dev", "dev")

    assert sweep(10) == [] and on_call.sent == []
    assert sweep(31) == [{"approval_id": "ap-0123456789", "status": "REMINDED"}]
    assert sweep(36) == [] and len(on_call.sent) == 1
    subject, message = on_call.sent[0]
    assert subject == "[remedy-dev] REMINDER: APPROVAL NEEDED: msk_consumer_lag on glue:orders-stream"
    assert "29 min left" in message and "remedy incident approve ap-0123456789 --env dev" in message
    assert pager.sent == []
    assert sweep(61) == [{"approval_id": "ap-0123456789", "status": "LAPSED"}]
    assert sweep(66) == []
    assert on_call.sent[1] == pager.sent[0] and "NOTHING WAS DONE" in pager.sent[0][1]
    assert [kind for _, kind, _ in audit.records] == ["approval_reminded", "approval_lapsed"]


def test_sweep_of_another_playbook_touches_nothing() -> None:
    store, audit, on_call = Store(approval()), Audit(), Inbox()
    assert sweep_playbook("data_quality", T0 + WINDOW, store, audit, on_call, on_call, "p", "dev") == []
    assert store.item["status"] == "PENDING" and audit.records == []


def test_procedure_approvals_are_reminded_once_at_half_their_window() -> None:
    item = {"incident_id": "data-corruption-1", "key": "data-corruption#Approval", "procedure": "data-corruption",
            "step": "Approval", "status": "PENDING", "requested_at": T0.isoformat(),
            "deadline": (T0 + WINDOW).isoformat(), "about_to": ["restore analytics.fact_sales"]}
    reminded: set[str] = set()

    def remind(incident: str, key: str, at: datetime) -> bool:
        if key in reminded:
            return False
        reminded.add(key)
        return True

    audit, on_call = Audit(), Inbox()
    assert sweep_procedures([item], T0 + timedelta(minutes=20), remind, audit, on_call, "p") == []
    assert len(sweep_procedures([item], T0 + timedelta(minutes=31), remind, audit, on_call, "p")) == 1
    assert sweep_procedures([item], T0 + timedelta(minutes=40), remind, audit, on_call, "p") == []
    assert "restore analytics.fact_sales" in on_call.sent[0][1] and "REMINDER" in on_call.sent[0][0]


RECORDS = [
    {"kind": "incident", "at": "2026-12-02T03:00:05Z", "payload": {
        "alarm_name": "remedy-dev/consumer-lag/glue:orders-stream", "previous_state": "OK", "state": "ALARM",
        "changed_at": "2026-12-02T03:00:00+00:00", "reason": "Threshold crossed"}},
    {"kind": "plan", "at": "2026-12-02T03:00:06Z", "payload": {
        "findings": [{"detail": "orders-stream runs 2 workers, lag rising", "ok": False}],
        "actions": [{"name": "scale_glue_workers", "target": "glue:orders-stream"}], "recommendations": []}},
    {"kind": "decision", "at": "2026-12-02T03:00:07Z", "payload": {
        "action": {"name": "scale_glue_workers", "target": "glue:orders-stream"}, "verdict": "AWAITING_APPROVAL",
        "rule": "mode", "reason": "mode approve"}},
    {"kind": "approval", "at": "2026-12-02T03:04:00Z", "payload": {
        "decision": "APPROVED", "by": "alice", "principal": "arn:aws:iam::111111111111:user/alice", "via": "slack",
        "reason": "month-end", "action": {"name": "scale_glue_workers", "target": "glue:orders-stream"}}},
    {"kind": "action", "at": "2026-12-02T03:04:02Z", "payload": {
        "action": {"name": "scale_glue_workers", "target": "glue:orders-stream"}, "status": "SUCCEEDED",
        "detail": "2 -> 4 workers"}},
    {"kind": "verification", "at": "2026-12-02T03:20:00Z", "payload": {
        "status": "VERIFIED", "detail": "lag alarm OK", "checked_at": "2026-12-02T03:19:30+00:00"}},
    {"kind": "outcome", "at": "2026-12-02T03:20:01Z", "payload": {"status": "REMEDIATED", "summary": "verified"}},
]


def test_timeline_orders_every_phase_and_names_the_verified_approver() -> None:
    lines = review.timeline(list(reversed(RECORDS)))
    assert [line.phase for line in lines] == ["alarm", "diagnosis", "guard", "approval", "action", "verification",
                                              "outcome"]
    assert lines[0].text == "remedy-dev/consumer-lag/glue:orders-stream: OK -> ALARM  (Threshold crossed)"
    assert lines[3].text == ("APPROVED scale_glue_workers by arn:aws:iam::111111111111:user/alice via slack "
                             "(verified) (month-end)")


def test_time_to_first_action_and_to_recovery_are_measured_from_the_alarm() -> None:
    m = review.measures(RECORDS)
    assert review.duration(m["time_to_first_action"]) == "4 min 02 s"
    assert review.duration(m["time_to_recovery"]) == "19 min 30 s"
    assert review.duration(None) == "-"


def test_report_is_a_markdown_draft_with_the_timeline_and_the_decisions() -> None:
    text = review.report("inc-1", RECORDS)
    assert text.startswith("# Post-incident review: inc-1\n")
    assert "- **Recovered:** 2026-12-02 03:19:30Z (time to recovery: 19 min 30 s)" in text
    assert "| 2026-12-02 03:04:02 | action | scale_glue_workers on glue:orders-stream: SUCCEEDED 2 -> 4 workers |" in text
    assert "## Decisions by people" in text and "## Root cause" in text and text.count("TODO") >= 3

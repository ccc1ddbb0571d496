"""The one answer path's rules (functions/answers): allow-lists, the two-person rule, dedupe and expiry, over
in-memory ports; the events it accepts (the Slack contract, the signed URL request)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.answers import SlackAnswerEvent, parse_slack_answer
from functions.answers.rules import Identity, chat_allowed, check, dedupe_key, expired, iam_allowed
from functions.answers.service import AnswerPorts, Question, TokenGone, answer
from functions.core.catalog import Approvers, catalog_path_for, load_catalog

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ACCOUNT = "111111111111"
ALICE = f"arn:aws:sts::{ACCOUNT}:assumed-role/OnCall/alice"
BOB = f"arn:aws:sts::{ACCOUNT}:assumed-role/OnCall/bob"
DAVE = f"arn:aws:sts::{ACCOUNT}:assumed-role/Analyst/dave"
ON_CALL = Approvers(iam=[f"arn:aws:sts::{ACCOUNT}:assumed-role/OnCall/*"], chat=["T0001/U0ALICE"])


def iam(arn: str) -> Identity:
    return Identity(principal=arn, via="iam")


@pytest.mark.parametrize(("pattern", "arn", "allowed"), [
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/OnCall/*", ALICE, True),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/OnCall/*", DAVE, False),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/OnCall/alice", BOB, False),
    (f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/alice", True),
    (f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/alice2", False),  # whole ARN, not prefix
    ("arn:aws:sts::*:assumed-role/OnCall/*", ALICE, True),
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/oncall/*", ALICE, False),  # case-sensitive
    (f"arn:aws:sts::{ACCOUNT}:assumed-role/OnCall/a?ice", ALICE, True),
])
def test_iam_patterns_match_the_whole_verified_arn(pattern: str, arn: str, allowed: bool) -> None:
    assert iam_allowed([pattern], arn) is allowed


@pytest.mark.parametrize(("entries", "principal", "allowed"), [
    (["U0ALICE"], "slack:T0001/U0ALICE", True),
    (["T0001/U0ALICE"], "slack:T0002/U0ALICE", False),  # the same user id in another workspace
    (["T0001/*"], "slack:T0001/U0BOB", True),
    (["U0ALICE"], "U0ALICE", False),  # not a verified Slack principal
])
def test_chat_entries(entries: list[str], principal: str, allowed: bool) -> None:
    assert chat_allowed(entries, principal) is allowed


def test_a_slack_user_group_is_refused_by_the_catalog_in_one_line() -> None:
    with pytest.raises(ValueError, match="is a Slack user group: groups are not matched"):
        Approvers(chat=["T0001/S0ONCALL"])


def test_an_iam_caller_is_not_allowed_by_a_chat_entry_nor_the_reverse() -> None:
    approvers = Approvers(iam=[ALICE], chat=["U0ALICE"])
    assert check(approvers, Identity("slack:T0001/U0BOB", "slack"), "", False, "x", "w").rule == "allow-list"
    assert check(Approvers(chat=["*"]), iam(ALICE), "", False, "x", "w").rule == "allow-list"


def test_nobody_is_allowed_by_an_empty_list() -> None:
    refusal = check(Approvers(), iam(ALICE), "", False, "scale-glue INC-1", "procedures.approvers.default")
    assert refusal is not None and refusal.rule == "allow-list"
    assert refusal.message == (f"{ALICE} may not answer scale-glue INC-1: not among the IAM principals of "
                               f"procedures.approvers.default in the catalog; nothing was done")


def test_two_person_refuses_the_requester_where_asked() -> None:
    assert check(ON_CALL, iam(ALICE), ALICE, True, "x", "w").rule == "two-person"
    assert check(ON_CALL, iam(BOB), ALICE, True, "x", "w") is None
    assert check(ON_CALL, iam(ALICE), ALICE, False, "x", "w") is None  # default off (playbooks)
    assert check(ON_CALL.model_copy(update={"two_person": True}), iam(ALICE), ALICE, False, "x", "w").rule == \
        "two-person"
    assert check(ON_CALL.model_copy(update={"two_person": False}), iam(ALICE), ALICE, True, "x", "w") is None
    assert check(ON_CALL, iam(ALICE), "alarm remedy-dev/outage", True, "x", "w") is None


def test_expiry_and_dedupe_keys() -> None:
    assert expired((NOW - timedelta(seconds=1)).isoformat(), NOW)
    assert not expired((NOW + timedelta(seconds=1)).isoformat(), NOW)
    assert not expired(None, NOW)
    assert dedupe_key(iam(ALICE), "k") == dedupe_key(iam(ALICE), "k")
    assert dedupe_key(iam(ALICE), "k") != dedupe_key(iam(BOB), "k")  # nobody replays another's answer


def test_the_slack_contract_is_exactly_the_documented_event() -> None:
    event = {"remedy-answer": {"approval": "ap-0123456789", "decision": "approve", "reason": "ok", "procedure": None,
                               "via": "slack", "principal": "slack:T0001/U0ALICE", "display": "Alice",
                               "dedupe": "1700000000.123:U0ALICE"}}
    assert parse_slack_answer(event) == SlackAnswerEvent(**event["remedy-answer"])
    for bad, field in (({"via": "iam"}, "via"), ({"principal": "U0ALICE"}, "principal"), ({"extra": 1}, "extra"),
                       ({"decision": "maybe"}, "decision")):
        with pytest.raises(ValueError, match=f"remedy-answer: {field}"):
            parse_slack_answer({"remedy-answer": {**event["remedy-answer"], **bad}})


# -- the service over in-memory ports -----------------------------------------------------------------------

class Fakes:
    def __init__(self) -> None:
        self.claims: dict[str, dict[str, Any]] = {}
        self.approvals: dict[str, dict[str, Any]] = {}
        self.invoked: list[tuple[str, dict[str, Any]]] = []
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.tokens: dict[tuple[str, str], str] = {}
        self.sent: list[tuple[str, Any]] = []
        self.records: list[tuple[str, str, dict[str, Any]]] = []
        self.gone = False
        self.at = NOW

    # dedupe
    def claim(self, key: str, now: datetime, keep_seconds: int) -> dict[str, Any] | None:
        if key in self.claims:
            return self.claims[key]
        self.claims[key] = {}
        return None

    def finish(self, key: str, result: dict[str, Any]) -> None:
        self.claims[key] = {"result": result}

    def release(self, key: str) -> None:
        self.claims.pop(key, None)

    # playbooks
    def get(self, approval_id: str) -> dict[str, Any] | None:
        return self.approvals.get(approval_id)

    def of_incident(self, incident_id: str) -> list[dict[str, Any]]:
        return [a for a in self.approvals.values() if a["incident"]["id"] == incident_id]

    def invoke(self, playbook: str, event: dict[str, Any]) -> dict[str, Any]:
        self.invoked.append((playbook, event))
        answer = event["remedy-approval"]
        status = "APPROVED" if answer["decision"] == "approve" else "REJECTED"
        self.approvals[answer["approval_id"]]["status"] = status
        return {"answer": status, "outcome": {"status": "ACTED" if status == "APPROVED" else "REJECTED",
                                              "summary": "done"}}

    # procedures
    def pending(self, incident_id: str) -> list[dict[str, Any]]:
        return [i for i in self.items.values() if i["incident_id"] == incident_id and i["status"] == "PENDING"]

    def token(self, incident_id: str, key: str) -> str | None:
        return self.tokens.get((incident_id, key))

    def close(self, incident_id: str, key: str, status: str, by: str, reason: str, at: datetime) -> bool:
        item = self.items[(incident_id, key)]
        if item["status"] != "PENDING":
            return False
        item.update(status=status, answered_by=by, answered_at=at.isoformat())
        return True

    def extend(self, incident_id: str, key: str, deadline: datetime) -> None:
        self.items[(incident_id, key)]["deadline"] = deadline.isoformat()

    def send_success(self, token: str, output: dict[str, Any]) -> None:
        if self.gone:
            raise TokenGone("TaskTimedOut")
        self.sent.append(("success", output))

    def send_failure(self, token: str, error: str, cause: str) -> None:
        self.sent.append(("failure", (error, json.loads(cause))))

    def send_heartbeat(self, token: str) -> None:
        self.sent.append(("heartbeat", token))

    def record(self, incident_id: str, kind: str, payload: dict[str, Any]) -> None:
        self.records.append((incident_id, kind, payload))

    def now(self) -> datetime:
        return self.at

    def ports(self) -> AnswerPorts:
        procedures = type("Procedures", (), {"items": lambda _, i: [x for x in self.items.values()
                                                                     if x["incident_id"] == i],
                                             "token": lambda _, i, k: self.token(i, k),
                                             "close": lambda _, *a: self.close(*a),
                                             "extend": lambda _, *a: self.extend(*a)})()
        return AnswerPorts(dedupe=self, playbooks=self, procedures=procedures, callback=self, audit=self, clock=self)


@pytest.fixture
def catalog() -> Any:
    base = load_catalog(catalog_path_for("dev"))
    playbooks = {name: rails.model_copy(update={"approvers": ON_CALL}) for name, rails in
                 base.guardrails.playbooks.items()}
    procedures = base.procedures.model_copy(update={"approvers": {"default": ON_CALL}})
    return base.model_copy(update={"guardrails": base.guardrails.model_copy(update={"playbooks": playbooks}),
                                   "procedures": procedures})


def playbook_question(fakes: Fakes, requested_by: str = "") -> str:
    fakes.approvals["ap-0123456789"] = {
        "approval_id": "ap-0123456789", "playbook": "msk_consumer_lag", "status": "PENDING",
        "incident": {"id": "INC-LAG"}, "action": {"name": "glue.scale_streaming_job"}, "requested_by": requested_by,
        "requested_at": NOW.isoformat()}
    return "ap-0123456789"


def procedure_question(fakes: Fakes, requested_by: str = "") -> None:
    fakes.items[("INC-1", "scale-glue#Approval")] = {
        "incident_id": "INC-1", "key": "scale-glue#Approval", "procedure": "scale-glue", "step": "Approval",
        "status": "PENDING", "execution": "arn:x", "about_to": ["UpdateJob"], "requested_by": requested_by,
        "requested_at": NOW.isoformat(), "deadline": (NOW + timedelta(minutes=10)).isoformat()}
    fakes.tokens[("INC-1", "scale-glue#Approval")] = "tok"


def q(approval: str, decision: str = "approve", dedupe: str = "d1", procedure: str | None = None) -> Question:
    return Question(approval, decision, "because", procedure, dedupe)  # type: ignore[arg-type]


def test_a_playbook_approval_is_passed_on_with_the_verified_identity(catalog: Any) -> None:
    fakes = Fakes()
    ident = playbook_question(fakes)
    result = answer(q(ident), Identity(ALICE, "iam", "alice"), catalog, fakes.ports())
    assert (result.outcome, result.incident_id, result.by) == ("APPROVED", "INC-LAG", f"alice ({ALICE})")
    [(playbook, event)] = fakes.invoked
    assert playbook == "msk_consumer_lag"
    assert event["remedy-approval"] | {} == {"approval_id": ident, "decision": "approve", "by": f"alice ({ALICE})",
                                             "reason": "because", "principal": ALICE, "via": "iam"}
    assert next(r[1:] for r in fakes.records)[0] == "answer"
    assert fakes.records[0][2]["principal"] == ALICE and fakes.records[0][2]["verified"] is True


def test_not_on_the_allow_list_is_refused_audited_and_nothing_is_invoked(catalog: Any) -> None:
    fakes = Fakes()
    ident = playbook_question(fakes)
    result = answer(q(ident), iam(DAVE), catalog, fakes.ports())
    assert (result.outcome, result.rule) == ("REFUSED", "allow-list")
    assert result.message.startswith(f"{DAVE} may not answer {ident} (glue.scale_streaming_job): not among the IAM "
                                     f"principals of guardrails.playbooks.msk_consumer_lag.approvers")
    assert fakes.invoked == []
    [(incident, kind, payload)] = fakes.records
    assert (incident, kind, payload["outcome"], payload["rule"], payload["principal"]) == (
        "INC-LAG", "answer", "REFUSED", "allow-list", DAVE)


def test_the_same_answer_twice_acts_once_and_returns_the_first_outcome(catalog: Any) -> None:
    fakes = Fakes()
    ident = playbook_question(fakes)
    first = answer(q(ident, dedupe="click-1"), iam(ALICE), catalog, fakes.ports())
    again = answer(q(ident, dedupe="click-1"), iam(ALICE), catalog, fakes.ports())
    assert again == first and len(fakes.invoked) == 1
    other = answer(q(ident, dedupe="click-2"), iam(BOB), catalog, fakes.ports())  # a different answer
    assert other.outcome == "ALREADY_ANSWERED" and len(fakes.invoked) == 1


def test_a_failed_answer_releases_its_dedupe_claim(catalog: Any) -> None:
    fakes = Fakes()
    ident = playbook_question(fakes)
    fakes.invoke = lambda *_: (_ for _ in ()).throw(RuntimeError("boom"))  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        answer(q(ident), iam(ALICE), catalog, fakes.ports())
    assert fakes.claims == {}


def test_a_procedure_approval_sends_the_token_and_records_who(catalog: Any) -> None:
    fakes = Fakes()
    procedure_question(fakes, requested_by=BOB)
    result = answer(q("INC-1"), iam(ALICE), catalog, fakes.ports())
    assert (result.outcome, result.procedure) == ("APPROVED", "scale-glue")
    [(kind, output)] = fakes.sent
    assert kind == "success" and output["principal"] == ALICE and output["via"] == "iam"
    assert fakes.items[("INC-1", "scale-glue#Approval")]["status"] == "APPROVED"
    approval = next(r for r in fakes.records if r[1] == "approval")[2]
    assert (approval["principal"], approval["verified"], approval["decision"]) == (ALICE, True, "APPROVED")


def test_a_procedure_is_two_person_by_default(catalog: Any) -> None:
    fakes = Fakes()
    procedure_question(fakes, requested_by=ALICE)
    result = answer(q("INC-1"), iam(ALICE), catalog, fakes.ports())
    assert (result.outcome, result.rule) == ("REFUSED", "two-person")
    assert fakes.sent == []
    assert answer(q("INC-1", decision="reject", dedupe="d2"), iam(BOB), catalog, fakes.ports()).outcome == "REJECTED"
    assert fakes.sent[0][1][0] == "Remedy.Rejected"


def test_expired_late_and_unknown_questions(catalog: Any) -> None:
    fakes = Fakes()
    procedure_question(fakes)
    fakes.at = NOW + timedelta(minutes=11)
    assert answer(q("INC-1"), iam(ALICE), catalog, fakes.ports()).outcome == "EXPIRED"
    assert fakes.sent == []
    fakes = Fakes()
    procedure_question(fakes)
    fakes.gone = True
    assert answer(q("INC-1"), iam(ALICE), catalog, fakes.ports()).outcome == "EXPIRED"
    assert answer(q("INC-404"), iam(ALICE), catalog, Fakes().ports()).outcome == "NOT_FOUND"
    assert answer(q("ap-9999999999"), iam(ALICE), catalog, Fakes().ports()).outcome == "NOT_FOUND"


def test_extend_moves_the_deadline_within_the_day(catalog: Any) -> None:
    fakes = Fakes()
    procedure_question(fakes)
    fakes.at = NOW + timedelta(minutes=5)
    result = answer(q("INC-1", decision="extend"), iam(ALICE), catalog, fakes.ports())
    assert result.outcome == "EXTENDED" and fakes.sent == [("heartbeat", "tok")]
    assert fakes.items[("INC-1", "scale-glue#Approval")]["deadline"] == (NOW + timedelta(minutes=15)).isoformat()

"""On call in Slack, end to end in the sandbox: a lag incident in approve mode posts a message with buttons (SNS ->
the Slack function -> the Slack stand-in), a signed click reaches the Slack function's public function URL, is
acknowledged, answered by the lazy listener through the answer function (allow-list, idempotency, audit), the
playbook acts, the message shows the approver, and the verification closes the incident on the same message.
The signature is the only gate: forged, replayed (old timestamp) and unsigned requests are refused and audited;
a user not on the allow-list is refused by the answer function and audited; a double click acts once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from remedy.gameday.drill import Drill
from sandbox import lambda_async
from sandbox.catalog_variant import catalog_variant
from sandbox.core import Sandbox
from sandbox.slack_standin import SlackStandIn, post, standin

pytestmark = pytest.mark.integration

JOB = "orders-stream"
RISING = [800, 6_000, 14_000, 21_000, 30_000]
DRAINING = [9_000, 4_000, 1_200, 300, 40]
ALICE, MALLORY = "U0ALICE01", "U0MALLORY"


def _approvers(data: dict[str, Any]) -> None:
    team = data["notifications"]["slack"]["team_id"]
    rails = data["guardrails"]["playbooks"]["msk_consumer_lag"]
    rails.update(mode="approve", approvers={"chat": [f"{team}/{ALICE}"]})


@pytest.fixture
def prod_mode(sandbox: Sandbox) -> Iterator[Sandbox]:
    with catalog_variant(sandbox, edit=_approvers):
        found = standin(sandbox.catalog)
        assert found is not None
        found.clear()
        yield sandbox


def slack_of(sandbox: Sandbox) -> SlackStandIn:
    found = standin(sandbox.catalog)
    assert found is not None
    return found


def url(sandbox: Sandbox) -> str:
    spec = sandbox.function(f"{sandbox.catalog.prefix}-slack")
    return sandbox.deployment.function_urls[spec.arn]["url"]


def asked(d: Drill) -> Any:
    """The lag incident waits for approval: its message in the channel, with the two buttons."""
    d.consumer_lag(JOB, RISING)
    d.fire()
    assert d.outcomes[-1]["status"] == "AWAITING_APPROVAL"
    lambda_async.drain(d.sandbox)  # SNS -> the Slack function, asynchronously
    (message,) = [m for m in slack_of(d.sandbox).top_level() if "remedy_approve" in texts(m.blocks)]
    return message


def click(sandbox: Sandbox, message: Any, user: str = ALICE, action: str = "remedy_approve", **kw: Any) -> int:
    headers, body = slack_of(sandbox).interaction(message, action, user, **kw)
    status, _ = post(url(sandbox), headers, body)
    lambda_async.drain(sandbox)  # the lazy listener, then the notifications the answer caused
    return status


def texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(b) for b in blocks)


def refusals(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [r["payload"] for r in sandbox.audit() if r["kind"] == "chat_refused"]


def test_a_signed_click_approves_acts_and_the_message_shows_the_approver_then_the_recovery(prod_mode: Sandbox) -> None:
    d = Drill(prod_mode)
    message = asked(d)
    assert '"action_id": "remedy_approve"' in texts(message.blocks)
    assert "What will be done once approved" in texts(message.blocks)

    assert click(prod_mode, message, reason="month-end volume") == 200

    assert message.updates >= 1
    shown = texts(message.blocks)
    assert f"<@{ALICE}>" in shown and "month-end volume" in shown
    assert "remedy_approve" not in shown  # answered: no buttons any more
    approvals = [r["payload"] for r in prod_mode.audit() if r["kind"] == "approval"]
    assert approvals and approvals[-1]["decision"] == "APPROVED"
    assert f"slack:{prod_mode.catalog.notifications.slack.team_id}/{ALICE}" in json.dumps(approvals[-1])

    # Verification: the lag drains, the scheduled checks close the window: the same message says so.
    d.advance(5)
    d.tick("msk_consumer_lag-checks")
    d.consumer_lag(JOB, DRAINING)
    d.fire()
    d.advance(5)
    d.tick("msk_consumer_lag-checks")
    assert d.audit("outcome")[-1]["payload"]["status"] == "REMEDIATED"
    lambda_async.drain(prod_mode)
    assert len([m for m in slack_of(prod_mode).top_level() if "What fired" in texts(m.blocks)]) == 1  # one message
    assert "REMEDIATED" in texts(message.blocks), texts(message.blocks)
    assert f"<@{ALICE}>" in texts(message.blocks)  # who answered stays on it
    assert any("REMEDIATED" in r.text for r in slack_of(prod_mode).replies(message.ts))


def test_a_forged_signature_is_refused_audited_and_nothing_is_answered(prod_mode: Sandbox) -> None:
    d = Drill(prod_mode)
    message = asked(d)

    assert click(prod_mode, message, secret="not-the-signing-secret") == 401

    assert message.updates == 0
    assert not [r for r in prod_mode.audit() if r["kind"] == "approval"]
    (refused,) = refusals(prod_mode)
    assert "does not match the signing secret" in refused["reason"]
    assert refused["claimed"]["principal"].endswith(ALICE) and refused["verified"] is False


def test_a_replayed_request_older_than_five_minutes_is_refused_and_audited(prod_mode: Sandbox) -> None:
    d = Drill(prod_mode)
    message = asked(d)

    assert click(prod_mode, message, timestamp=int(time.time()) - 6 * 60) == 401

    assert message.updates == 0
    assert not [r for r in prod_mode.audit() if r["kind"] == "approval"]
    (refused,) = refusals(prod_mode)
    assert "more than five minutes" in refused["reason"]


def test_an_unsigned_request_cannot_ask_for_the_lazy_listener_alone(prod_mode: Sandbox) -> None:
    d = Drill(prod_mode)
    message = asked(d)
    headers, body = slack_of(prod_mode).interaction(message, "remedy_approve", ALICE, secret="forged")
    headers.update({"x-slack-bolt-lazy-only": "1", "x-slack-bolt-lazy-function-name": "answer"})

    status, _ = post(url(prod_mode), headers, body)
    lambda_async.drain(prod_mode)

    assert status == 401
    assert not [r for r in prod_mode.audit() if r["kind"] == "approval"]


def test_a_user_not_on_the_list_is_refused_by_the_answer_function_and_audited(prod_mode: Sandbox) -> None:
    d = Drill(prod_mode)
    message = asked(d)

    assert click(prod_mode, message, user=MALLORY) == 200  # signed by Slack: acknowledged, then refused

    assert message.updates == 0  # still waiting for someone who may answer
    (told,) = slack_of(prod_mode).ephemeral
    assert told["user"] == MALLORY and told["text"].startswith("REFUSED")
    assert MALLORY in json.dumps([r for r in prod_mode.audit() if "REFUSED" in json.dumps(r["payload"])])
    assert not [r for r in prod_mode.audit() if r["kind"] == "approval" and r["payload"].get("decision") == "APPROVED"]


def test_a_double_click_acts_once(prod_mode: Sandbox) -> None:
    d = Drill(prod_mode)
    message = asked(d)
    first = slack_of(prod_mode).interaction(message, "remedy_approve", ALICE)
    second = slack_of(prod_mode).interaction(message, "remedy_approve", ALICE)

    assert post(url(prod_mode), *first)[0] == 200
    assert post(url(prod_mode), *second)[0] == 200
    lambda_async.drain(prod_mode)

    approved = [r for r in prod_mode.audit() if r["kind"] == "approval" and r["payload"].get("decision") == "APPROVED"]
    assert len(approved) == 1
    assert len([r for r in prod_mode.audit() if r["kind"] == "action"]) == 1


def test_a_procedure_approval_has_the_same_buttons_and_a_signed_click_answers_it(sandbox: Sandbox) -> None:
    """A procedure's task-token approval in Slack: the question drawn with the reason field and Approve / Reject,
    the click answered by the answer function with the procedure named (allow-list procedures.approvers, the
    two-person rule: the run was started by the CLI's caller, not by Alice), the run goes on, the message shows
    who answered."""
    from remedy.gameday.scenarios.procedures import settle, start

    slack = slack_of(sandbox)
    slack.clear()
    ident = "T-SLACK-PROC-1"
    start(sandbox, "scale-redshift", ident, nodes=4)
    assert settle(sandbox, "scale-redshift", ident)["waiting"]
    lambda_async.drain(sandbox)  # SNS -> the Slack function
    (message,) = [m for m in slack.top_level() if "remedy_approve" in texts(m.blocks)]
    shown = texts(message.blocks)
    assert f"AWAITING_APPROVAL: scale-redshift {ident}" in shown and "What will be done once approved" in shown
    assert '\\"procedure\\": \\"scale-redshift\\"' in shown  # the buttons' value names the procedure

    assert click(sandbox, message, reason="quarter close") == 200

    ended = settle(sandbox, "scale-redshift", ident, timeout=60, until_end=True)
    assert ended["status"] == "SUCCEEDED", ended
    shown = texts(message.blocks)
    assert f"<@{ALICE}>" in shown and "quarter close" in shown and "remedy_approve" not in shown
    (answer,) = [r["payload"] for r in sandbox.audit(ident) if r["kind"] == "approval"]
    assert (answer["procedure"], answer["decision"], answer["via"]) == ("scale-redshift", "APPROVED", "slack")
    assert answer["principal"] == f"slack:{sandbox.catalog.notifications.slack.team_id}/{ALICE}"


def test_sns_carries_text_for_people_and_amazon_q_custom_notifications(prod_mode: Sandbox) -> None:
    from functions.core.notify import amazon_q

    d = Drill(prod_mode)
    asked(d)
    (note,) = d.notifications()
    assert "WAITING FOR YOU" in note["message"]  # e-mail and the other text subscribers: the text, as before
    card = json.loads(json.loads(_last_published(prod_mode))["lambda"])
    chatbot = amazon_q(note["subject"], note["message"], card)
    assert (chatbot["version"], chatbot["source"]) == ("1.0", "custom")
    assert chatbot["content"]["textType"] == "client-markdown" and len(chatbot["content"]["title"]) <= 250
    assert chatbot["metadata"]["threadId"] == card["incident_id"]
    assert any("remedy incident approve ap-" in step for step in chatbot["content"]["nextSteps"])


def _last_published(sandbox: Sandbox) -> str:
    from moto.sns.models import sns_backends

    backend = sns_backends[sandbox.catalog.account_id][sandbox.catalog.region]
    topic = backend.topics[f"arn:aws:sns:{sandbox.catalog.region}:{sandbox.catalog.account_id}:"
                           f"{sandbox.catalog.notifications.on_call_topic}"]
    return str(topic.sent_notifications[-1][1])

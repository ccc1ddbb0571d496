"""The Slack app: Bolt for Python on Lambda (slack_bolt.adapter.aws_lambda), and the notifications it posts.

Interactions (Slack → function URL, public: Slack cannot sign with SigV4):
- Bolt checks `x-slack-signature` and `x-slack-request-timestamp` against the signing secret (HMAC-SHA256 of
  v0:<timestamp>:<body>; more than five minutes old = refused) before any listener runs: the only gate. Its
  401 is audited by the handler (who claimed to click what, and why it was refused).
- A click on Approve / Reject is acknowledged at once (`ack`, inside Slack's three seconds) and answered by a
  lazy listener: Bolt's Lambda runner invokes this function again asynchronously with the same signed request
  (verified again), and that invocation asks the answer function (functions/answers: allow-list, two-person,
  idempotency, audit) with the Slack identity Slack signed: principal slack:<team>/<user>.
- The outcome is shown in place: APPROVED / REJECTED redraw the message with who answered; anything else
  (not on the list, answered before, expired) is told to the clicker alone (an ephemeral message).

Notifications (SNS → this function): the card of each outcome (functions.core.notify.card) becomes a message in
the catalog's channel; later notifications of the same incident redraw that message (chat.update) and add a
line in its thread, so the message shows who answered and then the verified outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from functions.chat import messages
from functions.core.ports import AuditPort, Clock

SLACK_API_URL = "https://slack.com/api/"  # slack_sdk's own default; SLACK_API_URL overrides it (configuration)


class AnswerPort(Protocol):
    def ask(self, event: dict[str, Any]) -> dict[str, Any]: ...


class MessagesPort(Protocol):
    def get(self, incident_id: str) -> dict[str, Any] | None: ...

    def put(self, incident_id: str, channel: str, ts: str, card: dict[str, Any], answered: str,
            notifications: list[str], now: datetime) -> None: ...


@dataclass
class SlackConfig:
    signing_secret: str
    bot_token: str
    team_id: str
    channel_id: str
    api_url: str = SLACK_API_URL


@dataclass
class Deps:
    answers: AnswerPort
    messages: MessagesPort
    audit: AuditPort
    clock: Clock


def web_client(config: SlackConfig) -> Any:
    from slack_sdk import WebClient

    return WebClient(token=config.bot_token, base_url=config.api_url, timeout=10)


def build_app(config: SlackConfig, deps: Deps) -> Any:
    """The Bolt app with its two listeners (Approve, Reject), each acknowledged at once and answered lazily."""
    from slack_bolt import App

    app = App(signing_secret=config.signing_secret, client=web_client(config),  # the client holds the token
              process_before_response=True,  # on Lambda the response is the acknowledgement: nothing runs after
              token_verification_enabled=False)  # auth.test at the first request, not at every cold start

    def acknowledge(ack: Any) -> None:
        ack()

    def answer(body: dict[str, Any], client: Any) -> None:
        answer_click(body, client, config, deps)

    for action_id in (messages.APPROVE, messages.REJECT):
        app.action(action_id)(ack=acknowledge, lazy=[answer])
    return app


def answer_click(body: dict[str, Any], client: Any, config: SlackConfig, deps: Deps) -> dict[str, Any]:
    """One signed click: asked of the answer function, shown in Slack. Returns what the answer function said."""
    click = messages.click(body)
    event = {"remedy-answer": {"approval": click.approval, "decision": click.decision, "reason": click.reason,
                               "procedure": click.procedure, "via": "slack", "principal": click.principal,
                               "display": click.user_name[:128], "dedupe": click.dedupe}}
    try:
        result = deps.answers.ask(event)
    except Exception as error:  # the answer was not given: say so to the person, never silently
        client.chat_postEphemeral(channel=click.channel, user=click.user_id,
                                  text=f"Your answer could not be given ({type(error).__name__}); nothing was done. "
                                       f"Try again, or `remedy incident {click.decision} {click.approval}`.")
        raise
    outcome = result.get("outcome")
    if outcome in ("APPROVED", "REJECTED"):
        line = messages.answered_line(click, result)
        stored = deps.messages.get(click.incident_id)  # read after answering: a newer card may be there already
        if stored is not None:
            client.chat_update(channel=stored["channel"], ts=stored["ts"], text=messages.fallback_text(stored["card"]),
                               blocks=messages.blocks(stored["card"], answered=line))
            deps.messages.put(click.incident_id, stored["channel"], stored["ts"], stored["card"], line,
                              stored["notifications"], deps.clock.now())
    else:
        client.chat_postEphemeral(channel=click.channel, user=click.user_id,
                                  text=f"{outcome}: {result.get('message', '')}")
    return result


def post_notification(record: dict[str, Any], client: Any, config: SlackConfig, deps: Deps) -> str:
    """One SNS record of the on-call topic, shown in the channel. Returns what was done (logged)."""
    sns = record["Sns"]
    message_id = str(sns.get("MessageId", ""))
    try:
        data = json.loads(sns.get("Message") or "")
    except ValueError:
        data = None
    if isinstance(data, dict) and "AlarmName" in data and "NewStateValue" in data:  # a CloudWatch alarm action
        text = f"{data['NewStateValue']}: {data['AlarmName']}\n{data.get('NewStateReason', '')}"
        client.chat_postMessage(channel=config.channel_id, text=text[:150],
                                blocks=messages.plain_blocks(str(sns.get("Subject") or data["AlarmName"]), text))
        return f"posted alarm {data['AlarmName']}"
    if not isinstance(data, dict) or not messages.is_card(data):
        subject = str((data or {}).get("subject") if isinstance(data, dict) else "") or str(sns.get("Subject") or "")
        text = str(data.get("text")) if isinstance(data, dict) and "text" in data else str(sns.get("Message") or "")
        client.chat_postMessage(channel=config.channel_id, text=subject or text[:150],
                                blocks=messages.plain_blocks(subject or "remedy", text))
        return "posted (text)"
    card = data
    incident_id = str(card["incident_id"])
    stored = deps.messages.get(incident_id)
    now = deps.clock.now()
    if stored is None:
        posted = client.chat_postMessage(channel=config.channel_id, text=messages.fallback_text(card),
                                         blocks=messages.blocks(card))
        deps.messages.put(incident_id, str(posted["channel"]), str(posted["ts"]), card, "", [message_id], now)
        return f"posted {incident_id}"
    if message_id in stored["notifications"]:
        return f"duplicate {message_id} of {incident_id}"  # SNS delivers at least once
    client.chat_update(channel=stored["channel"], ts=stored["ts"], text=messages.fallback_text(card),
                       blocks=messages.blocks(card, answered=stored["answered"]))
    verification = card.get("verification") or {}
    client.chat_postMessage(channel=stored["channel"], thread_ts=stored["ts"],
                            text=f"{card['status']}: {card['summary']}"
                                 + (f" (verification {verification['status']})" if verification else ""))
    deps.messages.put(incident_id, stored["channel"], stored["ts"], card, stored["answered"],
                      [*stored["notifications"], message_id], now)
    return f"updated {incident_id}"

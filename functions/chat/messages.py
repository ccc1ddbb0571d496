"""Slack messages from notification cards (functions.core.notify.card), and the answers read back from clicks.

A message says what fired, what was found, what will be done (or was done, and how it was verified), and while
an action waits for a person: a reason field and Approve / Reject buttons. Each button's value names the
question (the approval id) and the incident. The message of an incident is drawn again, in place, on every
later notification of that incident (answered, acted, verified) and when someone answered in Slack.
Block Kit limits respected here (Slack's reference: a section's text ≤ 3000 characters, a header's ≤ 150, a
button's value ≤ 2000, at most 50 blocks in a message).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PLAYBOOK_CARD = "remedy-notification"  # functions.core.notify.card
PROCEDURE_CARD = "remedy-procedure-approval"  # functions.procedures.approval.question_card
APPROVE = "remedy_approve"  # action_id of the buttons: the Bolt listeners match on them
REJECT = "remedy_reject"
REASON_BLOCK = "remedy_reason"  # the input block's block_id and the element's action_id
REASON_ELEMENT = "reason"
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
ICONS = {"AWAITING_APPROVAL": ":raised_hand:", "ACTED": ":hourglass_flowing_sand:", "REMEDIATED": ":white_check_mark:",
         "RECOVERED": ":white_check_mark:", "ESCALATED": ":rotating_light:", "REJECTED": ":no_entry_sign:",
         "REFUSED": ":no_entry:", "RECOMMENDED": ":bulb:", "NO_ACTION": ":information_source:"}


@dataclass(frozen=True)
class Click:
    """One Approve / Reject click, as Slack signed it."""

    decision: str  # approve | reject
    approval: str
    incident_id: str
    team_id: str
    user_id: str
    user_name: str
    reason: str
    channel: str
    message_ts: str
    action_ts: str
    procedure: str | None = None  # a procedure's question: which procedure (the incident may have several)

    @property
    def principal(self) -> str:
        return f"slack:{self.team_id}/{self.user_id}"

    @property
    def dedupe(self) -> str:
        """The same interaction delivered twice (a retry, a replay) has the same key; two clicks do not."""
        return f"slack:{self.team_id}/{self.user_id}/{self.message_ts}/{self.action_ts}"


def _text(kind: str, text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    return {"type": kind, "text": text if len(text) <= limit else text[:limit - 1] + "…"}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _text("mrkdwn", text)}


def _lines(title: str, lines: list[str]) -> dict[str, Any] | None:
    return _section(f"*{title}*\n" + "\n".join(lines)) if lines else None


def is_card(data: Any) -> bool:
    """A notification this app draws itself: a playbook's outcome card or a procedure's approval question."""
    return isinstance(data, dict) and bool(data.get(PLAYBOOK_CARD) or data.get(PROCEDURE_CARD))


def blocks(card: dict[str, Any], answered: str = "") -> list[dict[str, Any]]:
    """The message for `card`; `answered`: who answered in Slack and what came of it (shown instead of the
    buttons once the question is answered)."""
    if card.get(PROCEDURE_CARD):
        return procedure_blocks(card, answered)
    fired = card["fired"]
    status = card["status"]
    header = f"{status}: {card['playbook']} on {card['resource']}"
    out: list[dict[str, Any] | None] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:HEADER_LIMIT], "emoji": True}},
        _section(f"{ICONS.get(status, '')} *What fired*  `{fired['alarm']}`: {fired.get('from') or '?'} → "
                 f"{fired['to']} at {fired['at'][:19].replace('T', ' ')}Z"
                 + (f"\n{fired['reason']}" if fired.get("reason") else "")),
        _lines("What we found", [f"{'•' if f['ok'] else ':warning:'} {f['detail']}" for f in card["found"]]
               + [f"_note_ {n}" for n in card["notes"]]),
    ]
    if card.get("answer"):
        out.append(_section(f"*Answer*  {card['answer']}"))
    waiting = [w for w in card["waiting"] if w.get("approval_id")]
    if waiting:
        out.append(_lines("What will be done once approved", [
            f"`{w['action']}` on `{w['target']}`: {w['reason']} (until {str(w['expires_at'])[11:16]}Z)"
            for w in waiting]))
    out.append(_lines("What we did", [f"`{d['action']}` {d['status']}: {d['detail']}" for d in card["done"]]))
    verification = card.get("verification")
    if verification:
        until = f" (watching until {card['watching_until'][11:16]}Z)" if card.get("watching_until") else ""
        out.append(_section(f"*Verified*  {verification['status']}: {verification['detail']}{until}"))
    out.append(_lines("Recommended (run it yourself if you agree)", [f"`{c}`" for c in card["recommended"]]))
    out.append(_lines("Not done", card["not_done"]))
    out.append(_lines("How to undo", card["undo"]))
    if answered:
        out.append(_section(answered))
    elif waiting and status == "AWAITING_APPROVAL":
        out += _question(waiting[0], card["incident_id"])
    out.append({"type": "context", "elements": [_text("mrkdwn", f"incident `{card['incident_id']}` · "
                                                                 f"env {card['env']} · audit table "
                                                                 f"{card['prefix']}-audit")]})
    return [b for b in out if b is not None][:50]


def procedure_blocks(card: dict[str, Any], answered: str = "") -> list[dict[str, Any]]:
    """A procedure's approval question (functions.procedures.approval.question_card): what it is about to do,
    until when, and the same reason field and buttons as a playbook's; the answer names the procedure."""
    procedure, incident = card["procedure"], card["incident_id"]
    header = f"{card['status']}: {procedure} {incident}"
    out: list[dict[str, Any] | None] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:HEADER_LIMIT], "emoji": True}},
        _section(f"{ICONS.get(card['status'], '')} *Waiting for you*  `{procedure}` before `{card['step']}`, "
                 f"until {str(card['deadline'])[:16].replace('T', ' ')}Z; unanswered, the procedure stops in its "
                 f"failure path and nothing below is done"
                 + (f"\nstarted by {card['requested_by']}" if card.get("requested_by") else "")),
        _lines("What will be done once approved", [f"• {line}" for line in card["about_to"]]),
    ]
    if answered:
        out.append(_section(answered))
    elif card["status"] == "AWAITING_APPROVAL":
        value = json.dumps({"approval": incident, "incident": incident, "procedure": procedure})
        out += _buttons(value, f"`{procedure}` {incident}: what will be done above")
    out.append({"type": "context", "elements": [_text("mrkdwn", f"incident `{incident}` · audit table "
                                                                 f"{card['prefix']}-audit")]})
    return [b for b in out if b is not None][:50]


def _question(waiting: dict[str, Any], incident_id: str) -> list[dict[str, Any]]:
    value = json.dumps({"approval": waiting["approval_id"], "incident": incident_id})
    return _buttons(value, f"`{waiting['action']}` on `{waiting['target']}`")


def _buttons(value: str, what: str) -> list[dict[str, Any]]:
    """The reason field and the Approve / Reject buttons; each button's value names the question."""
    return [
        {"type": "input", "block_id": REASON_BLOCK, "optional": True,
         "label": {"type": "plain_text", "text": "Reason (recorded with your answer)"},
         "element": {"type": "plain_text_input", "action_id": REASON_ELEMENT, "max_length": 1024}},
        {"type": "actions", "block_id": "remedy_answer", "elements": [
            {"type": "button", "action_id": APPROVE, "style": "primary", "value": value,
             "text": {"type": "plain_text", "text": "Approve"},
             "confirm": {"title": {"type": "plain_text", "text": "Approve this action?"},
                         "text": _text("mrkdwn", what),
                         "confirm": {"type": "plain_text", "text": "Approve"},
                         "deny": {"type": "plain_text", "text": "Cancel"}}},
            {"type": "button", "action_id": REJECT, "style": "danger", "value": value,
             "text": {"type": "plain_text", "text": "Reject"}}]},
    ]


def fallback_text(card: dict[str, Any]) -> str:
    """The message's `text` (notifications, screen readers): one line."""
    if card.get(PROCEDURE_CARD):
        return f"{card['status']}: {card['procedure']} (incident {card['incident_id']})"
    return f"{card['status']}: {card['playbook']} on {card['resource']} (incident {card['incident_id']})"


def plain_blocks(subject: str, text: str) -> list[dict[str, Any]]:
    """A notification that carries no card (maintenance reports, procedures): its text, as written."""
    return [{"type": "header", "text": {"type": "plain_text", "text": subject[:HEADER_LIMIT]}},
            _section(f"```{text[:SECTION_LIMIT - 6]}```")]


def click(body: dict[str, Any]) -> Click:
    """The answer in a block_actions payload Bolt verified; ValueError when it is not one of ours."""
    action = (body.get("actions") or [{}])[0]
    decision = {APPROVE: "approve", REJECT: "reject"}.get(action.get("action_id", ""))
    if decision is None:
        raise ValueError(f"not an answer button: {action.get('action_id')!r}")
    try:
        value = json.loads(action.get("value") or "")
        approval, incident = str(value["approval"]), str(value["incident"])
        procedure = str(value["procedure"]) if value.get("procedure") else None
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValueError("the button carries no question") from None
    state = (body.get("state") or {}).get("values") or {}
    reason = ((state.get(REASON_BLOCK) or {}).get(REASON_ELEMENT) or {}).get("value") or ""
    user = body.get("user") or {}
    container = body.get("container") or {}
    return Click(decision=decision, approval=approval, incident_id=incident,
                 team_id=str((body.get("team") or {}).get("id") or user.get("team_id") or ""),
                 user_id=str(user.get("id") or ""), user_name=str(user.get("username") or user.get("name") or ""),
                 reason=reason.strip(), channel=str((body.get("channel") or {}).get("id")
                                                    or container.get("channel_id") or ""),
                 message_ts=str(container.get("message_ts") or (body.get("message") or {}).get("ts") or ""),
                 action_ts=str(action.get("action_ts") or ""), procedure=procedure)


def answered_line(click: Click, result: dict[str, Any]) -> str:
    """What the message shows once the answer function has answered the click."""
    outcome = result.get("outcome", "")
    verb = {"APPROVED": ":white_check_mark: *Approved*", "REJECTED": ":no_entry_sign: *Rejected*"}.get(
        outcome, f"*{outcome}*")
    reason = f" ({click.reason})" if click.reason else ""
    return f"{verb} by <@{click.user_id}>{reason} — {result.get('message', '')}"

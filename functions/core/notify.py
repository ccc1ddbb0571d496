"""The notification a person on call reads in ten seconds: what fired, what was found, what was done
or awaits them, and how to undo it. Plain text: it lands in e-mail, chat and SMS alike."""

from __future__ import annotations

from typing import Any

from functions.core.catalog import Catalog
from functions.core.models import ActionStatus, Outcome, OutcomeStatus, Verdict

SUBJECT_LIMIT = 100  # SNS rejects longer subjects


def render(outcome: Outcome, catalog: Catalog) -> tuple[str, str]:
    incident = outcome.incident
    subject = f"[{catalog.prefix}] {outcome.status.value}: {incident.playbook} on {incident.resource}"
    lines = [
        f"WHAT FIRED  {incident.alarm_name}: {incident.previous_state or '?'} -> {incident.state} "
        f"at {incident.changed_at:%Y-%m-%d %H:%M:%S}Z",
        f"            {incident.reason}" if incident.reason else "",
        f"ANSWER      {outcome.answer}" if outcome.answer else "",
        "WHAT WE FOUND",
        *[f"  {'ok ' if f.ok else 'BAD'} {f.detail}" for f in outcome.plan.findings],
        *[f"  note {text}" for text in outcome.plan.recommendations],
    ]
    done = [r for r in outcome.results]
    if done:
        lines.append("WHAT WE DID")
        lines += [f"  {r.status.value} {r.action.name}: {r.detail}" for r in done]
        lines.append(f"VERIFIED    {outcome.verification.status.value}: {outcome.verification.detail}")
        window = outcome.follow_up
        if window is not None and outcome.status is OutcomeStatus.ACTED:
            lines.append(f"            checked again until {window.due_by:%H:%M}Z (verification window, acted at "
                         f"{window.acted_at:%H:%M}Z): you hear the verdict; not back by then -> escalated to you")
    waiting = [d for d in outcome.decisions if d.verdict is Verdict.AWAITING_APPROVAL]
    if waiting:
        lines.append("WAITING FOR YOU")
        for decision in waiting:
            lines.append(f"  {decision.action.name}: {decision.command}  ({decision.reason})")
            asked = next((p for p in outcome.pending if p.action == decision.action), None)
            if asked is None:  # nothing recorded to answer: the person runs the command
                lines.append("    to approve, run the command above yourself; to reject, do nothing")
                continue
            # The playbook carries it out once approved (functions.core.approvals): these commands answer it.
            lines.append(f"    approve: remedy incident approve {asked.approval_id} --env {catalog.env} "
                         f"--reason TEXT   (until {asked.expires_at:%Y-%m-%d %H:%M}Z)")
            lines.append(f"    reject:  remedy incident reject {asked.approval_id} --env {catalog.env} "
                         f"--reason TEXT")
    recommended = [d for d in outcome.decisions if d.verdict is Verdict.RECOMMENDED]
    if recommended:
        lines.append("RECOMMENDED (run it yourself if you agree)")
        lines += [f"  {d.command}" for d in recommended]
    refused = [d for d in outcome.decisions if d.verdict in (Verdict.REFUSED, Verdict.OBSERVED, Verdict.DRY_RUN)]
    if refused:
        lines.append("NOT DONE")
        lines += [f"  {d.action.name}: {d.verdict.value} by {d.rule}: {d.reason}" for d in refused]
    undo = [r.undo for r in done if r.status is ActionStatus.SUCCEEDED and r.undo]
    if undo:
        lines.append("HOW TO UNDO")
        lines += [f"  {text}" for text in undo]
    lines.append(f"INCIDENT    {incident.id}  (every decision in the audit table {catalog.prefix}-audit)")
    return subject[:SUBJECT_LIMIT], "\n".join(line for line in lines if line)


# -- the same notification for machines ------------------------------------------------------------------------
# The on-call topic has people (e-mail: the text above), the Slack function (a `lambda` subscription: the card
# below, from which it draws a message with buttons) and possibly Amazon Q Developer in chat applications (an
# `https` subscription: its custom notification format). One SNS publish with MessageStructure=json carries all
# three (SNS developer guide, "Amazon SNS message publishing": per-protocol messages, `default` required).

CARD_VERSION = 1


def card(outcome: Outcome, catalog: Catalog) -> dict[str, Any]:
    """The notification as data: what render() says, field by field (the Slack function draws it)."""
    incident = outcome.incident
    done = list(outcome.results)
    window = outcome.follow_up
    waiting = []
    for decision in (d for d in outcome.decisions if d.verdict is Verdict.AWAITING_APPROVAL):
        asked = next((p for p in outcome.pending if p.action == decision.action), None)
        waiting.append({"action": decision.action.name, "target": decision.action.target,
                        "reason": decision.reason, "command": decision.command,
                        "approval_id": asked.approval_id if asked else None,
                        "expires_at": asked.expires_at.isoformat() if asked else None})
    return {
        "remedy-notification": CARD_VERSION, "env": catalog.env, "prefix": catalog.prefix,
        "incident_id": incident.id, "playbook": incident.playbook, "resource": incident.resource,
        "status": outcome.status.value, "summary": outcome.summary,
        "fired": {"alarm": incident.alarm_name, "from": incident.previous_state, "to": incident.state,
                  "at": incident.changed_at.isoformat(), "reason": incident.reason},
        "answer": outcome.answer,
        "found": [{"ok": f.ok, "detail": f.detail} for f in outcome.plan.findings],
        "notes": list(outcome.plan.recommendations),
        "done": [{"status": r.status.value, "action": r.action.name, "detail": r.detail} for r in done],
        "verification": ({"status": outcome.verification.status.value, "detail": outcome.verification.detail}
                         if done or window is not None else None),
        "watching_until": (window.due_by.isoformat()
                           if window is not None and outcome.status is OutcomeStatus.ACTED else None),
        "waiting": waiting,
        "recommended": [d.command for d in outcome.decisions if d.verdict is Verdict.RECOMMENDED],
        "not_done": [f"{d.action.name}: {d.verdict.value} by {d.rule}: {d.reason}" for d in outcome.decisions
                     if d.verdict in (Verdict.REFUSED, Verdict.OBSERVED, Verdict.DRY_RUN)],
        "undo": [r.undo for r in done if r.status is ActionStatus.SUCCEEDED and r.undo],
    }


def notification(outcome: Outcome, catalog: Catalog) -> tuple[str, str, dict[str, Any]]:
    """(subject, text, card): what a notifier publishes for one outcome."""
    subject, text = render(outcome, catalog)
    return subject, text, card(outcome, catalog)


AMAZON_Q_DESCRIPTION_LIMIT = 8000  # Amazon Q Developer in chat applications: content.description
AMAZON_Q_TITLE_LIMIT = 250


def amazon_q(subject: str, text: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """Amazon Q Developer in chat applications' custom notification (version 1.0, source custom): the title, the
    text as a code block (it keeps its columns in Slack and Teams), the incident as thread id so that later
    notifications of the same incident are threaded under the first."""
    body = f"```\n{text}\n```"
    if len(body) > AMAZON_Q_DESCRIPTION_LIMIT:
        body = body[:AMAZON_Q_DESCRIPTION_LIMIT - 8] + "\n…\n```"
    message: dict[str, Any] = {"version": "1.0", "source": "custom",
                               "content": {"textType": "client-markdown", "title": subject[:AMAZON_Q_TITLE_LIMIT],
                                           "description": body}}
    if data and data.get("remedy-procedure-approval"):  # a procedure's question (functions.procedures.approval)
        incident = data["incident_id"]
        message["content"]["nextSteps"] = [f"approve: `remedy incident approve {incident} --reason TEXT`",
                                           f"reject: `remedy incident reject {incident} --reason TEXT`"]
        message["metadata"] = {"threadId": incident, "summary": subject[:AMAZON_Q_TITLE_LIMIT],
                               "enableCustomActions": False}
    elif data:
        waiting = [w for w in data.get("waiting", []) if w.get("approval_id")]
        steps = [f"approve: `remedy incident approve {w['approval_id']} --env {data['env']} --reason TEXT`"
                 for w in waiting] + [f"reject: `remedy incident reject {w['approval_id']} --env {data['env']}`"
                                      for w in waiting]
        if steps:
            message["content"]["nextSteps"] = steps
        message["content"]["keywords"] = [data["status"], data["playbook"], data["env"]]
        message["metadata"] = {"threadId": data["incident_id"], "summary": subject[:AMAZON_Q_TITLE_LIMIT],
                               "relatedResources": [data["resource"], data["fired"]["alarm"]],
                               "additionalContext": {"incident": data["incident_id"], "status": data["status"]},
                               "enableCustomActions": False}
    return message


def sns_message(subject: str, text: str, data: dict[str, Any] | None) -> str:
    """The Message of a MessageStructure=json publish: text for people, the card for the Slack function, the
    custom notification for Amazon Q Developer in chat applications."""
    import json

    return json.dumps({"default": text, "email": text, "email-json": text, "sms": subject,
                       "lambda": json.dumps(data if data is not None else {"subject": subject, "text": text}),
                       "https": json.dumps(amazon_q(subject, text, data))})

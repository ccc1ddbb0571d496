"""The notification a person on call reads in ten seconds: what fired, what was found, what was done
or awaits them, and how to undo it. Plain text: it lands in e-mail, chat and SMS alike."""

from __future__ import annotations

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

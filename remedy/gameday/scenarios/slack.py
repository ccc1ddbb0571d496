"""On call in Slack (issue 13): a lag incident in approve mode (prod's mode) is approved from a signed Slack
interaction, acts, and its one message shows the approver and then the verified recovery; a forged and a replayed
interaction and a user not on the allow-list are refused and audited, and nothing is done.

Slack is the sandbox's stand-in (sandbox/slack_standin.py: the Web API the function calls, recorded); the clicks
are block_actions requests signed as Slack signs them, posted to the Slack function's public function URL."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from remedy.gameday.scenarios.consumer_lag import JOB, RISING

SECTION = "On call: approvals in Slack"
LAG_CHECKS = "msk_consumer_lag-checks"
DRAINING = [9_000, 4_000, 1_200, 300, 40]
ALICE, MALLORY = "U0ALICE01", "U0MALLORY"


@contextmanager
def _prod_mode(d: Drill) -> Iterator[Any]:
    """Approve mode with alice (a Slack user id of the catalog's workspace) on the playbook's allow-list."""
    from sandbox.catalog_variant import catalog_variant
    from sandbox.slack_standin import standin

    def edit(data: dict[str, Any]) -> None:
        team = data["notifications"]["slack"]["team_id"]
        data["guardrails"]["playbooks"]["msk_consumer_lag"].update(mode="approve",
                                                                   approvers={"chat": [f"{team}/{ALICE}"]})

    slack = standin(d.catalog)
    if slack is None:
        raise RuntimeError(f"the {d.catalog.env} catalog has no notifications.slack section")
    with catalog_variant(d.sandbox, edit=edit):
        slack.clear()
        d.say("inject", f"msk_consumer_lag in approve mode; approvers.chat: {slack.team_id}/{ALICE}")
        yield slack


def _blocks(message: Any) -> str:
    return "\n".join(json.dumps(b) for b in message.blocks)


def _asked(d: Drill, slack: Any) -> Any:
    from sandbox import lambda_async

    d.consumer_lag(JOB, RISING)
    d.fire()
    lambda_async.drain(d.sandbox)
    asking = [m for m in slack.top_level() if "remedy_approve" in _blocks(m)]
    d.expect("the Slack message says what fired, what was found, what will be done, with Approve / Reject",
             len(asking) == 1 and "What will be done once approved" in _blocks(asking[0]),
             f"{len(slack.top_level())} message(s) in the channel")
    return asking[0] if asking else None


def _click(d: Drill, slack: Any, message: Any, user: str, **kw: Any) -> int:
    from sandbox import lambda_async
    from sandbox.slack_standin import post

    spec = d.sandbox.function(f"{d.catalog.prefix}-slack")
    url = d.sandbox.deployment.function_urls[spec.arn]["url"]
    headers, body = slack.interaction(message, "remedy_approve", user, **kw)
    status, _ = post(url, headers, body)
    lambda_async.drain(d.sandbox)
    return status


def _approvals(d: Drill) -> list[dict[str, Any]]:
    return [r["payload"] for r in d.audit("approval")]


@scenario("slack-approval-verified", "Prod mode: the lag scale-up is approved from a signed Slack click; the "
                                     "message shows the approver, then the verified recovery", SECTION)
def slack_approval_verified(d: Drill) -> None:
    with _prod_mode(d) as slack:
        message = _asked(d, slack)
        if message is None:
            return
        status = _click(d, slack, message, ALICE, reason="month-end volume")
        d.say("slack", f"alice clicks Approve (signed by Slack): HTTP {status}")
        approved = [a for a in _approvals(d) if a.get("decision") == "APPROVED"]
        d.expect("the answer function approved it for the Slack identity Slack signed",
                 len(approved) == 1 and f"/{ALICE}" in json.dumps(approved[0]),
                 approved[0].get("text", "") if approved else "no approval recorded")
        d.expect("the playbook acted: the scale-up ran once", len(d.audit("action")) == 1)
        d.expect("the message was updated in place with the approver and no buttons",
                 f"<@{ALICE}>" in _blocks(message) and "remedy_approve" not in _blocks(message))
        d.advance(5)
        d.tick(LAG_CHECKS)
        d.consumer_lag(JOB, DRAINING)
        d.fire()
        d.advance(5)
        d.tick(LAG_CHECKS)
        from sandbox import lambda_async

        lambda_async.drain(d.sandbox)
        d.expect("verification closed the incident: REMEDIATED",
                 bool(d.audit("outcome")) and d.audit("outcome")[-1]["payload"]["status"] == "REMEDIATED")
        d.expect("the same message now shows the verified recovery, the approver still on it",
                 "REMEDIATED" in _blocks(message) and f"<@{ALICE}>" in _blocks(message)
                 and len([m for m in slack.top_level() if "What fired" in _blocks(m)]) == 1)


@scenario("slack-refusals", "A forged and a replayed Slack interaction and a user not on the allow-list are "
                            "refused and audited; nothing is done", SECTION)
def slack_refusals(d: Drill) -> None:
    with _prod_mode(d) as slack:
        message = _asked(d, slack)
        if message is None:
            return
        forged = _click(d, slack, message, ALICE, secret="not-the-signing-secret")  # noqa: S106 (a forgery's key)
        replayed = _click(d, slack, message, ALICE, timestamp=int(time.time()) - 6 * 60)
        refused = [r["payload"] for r in d.audit("chat_refused")]
        d.expect("a forged signature is refused (401) and audited", forged == 401 and any(
            "does not match the signing secret" in r["reason"] for r in refused))
        d.expect("a request older than five minutes is refused (401) and audited", replayed == 401 and any(
            "more than five minutes" in r["reason"] for r in refused))
        status = _click(d, slack, message, MALLORY)
        d.say("slack", f"mallory (not on approvers.chat) clicks Approve: HTTP {status}")
        told = [e for e in slack.ephemeral if e["user"] == MALLORY]
        audited = [r for r in d.audit() if MALLORY in json.dumps(r["payload"]) and "REFUSED" in json.dumps(r)]
        d.expect("an approver not on the list is refused, told so, and audited",
                 bool(told) and told[0]["text"].startswith("REFUSED") and bool(audited),
                 told[0]["text"] if told else "nothing said to mallory")
        d.expect("nothing was approved and nothing was done",
                 not [a for a in _approvals(d) if a.get("decision") == "APPROVED"] and not d.audit("action")
                 and message.updates == 0)

"""The notification: read in ten seconds, subject within SNS's 100 characters."""

from __future__ import annotations

import functions.actions  # noqa: F401 - registers every action
from functions.core.actions import describe
from functions.core.catalog import Catalog
from functions.core.models import (
    Action,
    ActionResult,
    ActionStatus,
    Decision,
    Finding,
    Outcome,
    OutcomeStatus,
    Plan,
    Verdict,
    Verification,
    VerificationStatus,
)
from functions.core.notify import SUBJECT_LIMIT, render
from tests.unit.conftest import lag_incident

RESTART = Action(name="glue.restart_streaming_job", target="glue:orders-stream",
                 params={"job_name": "orders-stream"}, reason="not running")


def outcome_with(status: OutcomeStatus, verdict: Verdict, rule: str = "mode", resource: str = "glue:orders-stream",
                 results: list[ActionResult] | None = None) -> Outcome:
    incident = lag_incident(resource=resource)
    decision = Decision(action=RESTART, verdict=verdict, rule=rule, reason=f"because of {rule}",
                        command=describe(RESTART))
    plan = Plan(playbook="msk_consumer_lag", actions=[RESTART],
                findings=[Finding(check="streaming job running", ok=False, detail="orders-stream is not running")])
    return Outcome(incident=incident, plan=plan, decisions=[decision], results=results or [], status=status,
                   summary="s")


def test_the_subject_stays_within_the_sns_limit_for_long_names(catalog: Catalog) -> None:
    long_job = "glue:" + "orders-stream-of-the-east-european-region-with-a-very-long-descriptive-name" * 2
    subject, _ = render(outcome_with(OutcomeStatus.AWAITING_APPROVAL, Verdict.AWAITING_APPROVAL,
                                     resource=long_job), catalog)

    assert len(subject) == SUBJECT_LIMIT == 100
    assert subject.startswith("[remedy-dev] AWAITING_APPROVAL: msk_consumer_lag on glue:orders-stream-of")
    assert "\n" not in subject


def test_a_short_subject_is_whole(catalog: Catalog) -> None:
    subject, _ = render(outcome_with(OutcomeStatus.REFUSED, Verdict.REFUSED, "cooldown"), catalog)

    assert subject == "[remedy-dev] REFUSED: msk_consumer_lag on glue:orders-stream"


def test_awaiting_approval_says_how_to_approve_and_what_would_run(catalog: Catalog) -> None:
    outcome = outcome_with(OutcomeStatus.AWAITING_APPROVAL, Verdict.AWAITING_APPROVAL)

    _, message = render(outcome, catalog)

    assert ("WAITING FOR YOU\n  glue.restart_streaming_job: aws glue start-job-run --job-name orders-stream"
            in message)
    assert "to approve, run the command above yourself" in message and outcome.incident.id in message
    assert "WHAT WE DID" not in message


def test_a_recommendation_carries_the_exact_command(catalog: Catalog) -> None:
    _, message = render(outcome_with(OutcomeStatus.RECOMMENDED, Verdict.RECOMMENDED), catalog)

    assert ("RECOMMENDED (run it yourself if you agree)\n  aws glue start-job-run --job-name orders-stream"
            in message)


def test_refusals_name_their_rule(catalog: Catalog) -> None:
    _, message = render(outcome_with(OutcomeStatus.REFUSED, Verdict.REFUSED, "budget"), catalog)

    assert "NOT DONE\n  glue.restart_streaming_job: REFUSED by budget: because of budget" in message
    assert "BAD orders-stream is not running" in message


def test_what_was_done_comes_with_its_verification_and_undo(catalog: Catalog) -> None:
    done = ActionResult(action=RESTART, status=ActionStatus.SUCCEEDED, detail="started run jr_1",
                        undo="aws glue batch-stop-job-run --job-name orders-stream --job-run-ids jr_1")
    outcome = outcome_with(OutcomeStatus.ACTED, Verdict.ALLOWED, "ok", results=[done]).model_copy(
        update={"verification": Verification(status=VerificationStatus.INCONCLUSIVE, detail="run jr_1 RUNNING")})

    _, message = render(outcome, catalog)

    lines = message.splitlines()
    assert lines[0].startswith("WHAT FIRED  remedy-dev/consumer-lag/glue:orders-stream: OK -> ALARM at ")
    assert "WHAT WE DID\n  SUCCEEDED glue.restart_streaming_job: started run jr_1" in message
    assert "VERIFIED    INCONCLUSIVE: run jr_1 RUNNING" in message
    assert "HOW TO UNDO\n  aws glue batch-stop-job-run --job-name orders-stream --job-run-ids jr_1" in message
    assert lines[-1] == f"INCIDENT    {outcome.incident.id}  (every decision in the audit table remedy-dev-audit)"
    assert "" not in lines

"""One answer path for every question the service asks a person: a playbook's action awaiting approval (ap-…
ids, functions/core/approvals.py) and a procedure's approval (a Step Functions task token,
functions/procedures/approval.py). Both get the same identity, allow-list, two-person, idempotency, expiry and
audit rules (functions/answers/rules.py, service.py), in one function (functions/handlers/answer.py), whose role
is the only one allowed to invoke the playbooks' functions with an answer and to call SendTaskSuccess /
SendTaskFailure / SendTaskHeartbeat.

Who answers is never what the request says, it is what AWS or the chat platform verified:

- `remedy incident approve|reject` signs an HTTPS request (SigV4, service `lambda`) to the answer function's URL,
  whose AuthType is AWS_IAM: Lambda checks the signature and the caller's lambda:InvokeFunctionUrl permission,
  and hands the function the caller's identity in `requestContext.authorizer.iam` (userArn, callerId,
  accountId). That userArn is the principal (`via: "iam"`).
- The Slack function verifies Slack's request signature and invokes this function directly with the event
  below (`via: "slack"`, principal `slack:<team_id>/<user_id>`). Only the Slack function's role may invoke the
  answer function directly (IAM, infra); a direct invocation is how nobody else can claim a Slack identity.

This module holds the contract both sides build on (pydantic models, no AWS).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ANSWER_EVENT = "remedy-answer"  # the key of the event the Slack function sends (direct invocation)


def answer_function_name(prefix: str) -> str:
    """<service>-<env>-answer: the function the Slack function invokes (its role's one grant on it)."""
    return f"{prefix}-answer"

# What a question is named by: an approval id (ap-…, a playbook's) or an incident id (a procedure's, or a
# playbook incident with one action waiting). The same shape the CLI accepts.
# Playbook incident ids name the alarm and its state change (remedy-dev/lag/glue:orders-stream@2026-…T…+00:00).
QUESTION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:#@/+=-]{0,299}$"
# slack:<team id>/<user id>: Slack's workspace ids start with T (E for an Enterprise Grid org), user ids with U or W.
SLACK_PRINCIPAL_PATTERN = r"^slack:[TE][A-Z0-9]{2,20}/[UW][A-Z0-9]{2,20}$"

Outcome = Literal[
    "APPROVED",  # approved: the playbook's action was carried out (see detail.outcome) or the procedure goes on
    "REJECTED",  # rejected: nothing was done; the procedure took its failure path
    "EXTENDED",  # (CLI only) the procedure's answer window started again
    "REFUSED",  # this person may not answer this question (rule names which rule): nothing was done
    "ALREADY_ANSWERED",  # somebody answered first (message says who and what): nothing more was done
    "EXPIRED",  # the answer window had passed: nothing was done
    "NOT_FOUND",  # no such question (or nothing waits for that incident)
    "INVALID",  # the request itself is malformed (message says which field)
    "DONE",  # a setting (CliSettingBody: snooze, freeze, mode) was carried out
]


class SlackAnswerEvent(BaseModel):
    """`{"remedy-answer": {...}}`: an answer given in Slack, with the identity the Slack function verified
    (Slack's request signature, within five minutes). Sent by a direct invocation (RequestResponse) of the
    answer function; only the Slack function's role may make it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approval: str = Field(pattern=QUESTION_PATTERN)  # ap-… id, or the incident id
    decision: Literal["approve", "reject"]
    reason: str = Field(default="", max_length=1024)
    procedure: str | None = Field(default=None, max_length=64)  # which procedure, when one incident has several
    via: Literal["slack"]
    principal: str = Field(pattern=SLACK_PRINCIPAL_PATTERN)  # slack:<team_id>/<user_id>, as Slack signed it
    display: str = Field(default="", max_length=128)  # Slack's display name: shown next to the principal only
    dedupe: str = Field(min_length=1, max_length=256)  # the same interaction delivered twice acts once


class CliAnswerBody(BaseModel):
    """The JSON body `remedy incident approve|reject|extend` posts to the function URL. Carries no identity:
    the principal is the signed caller (requestContext.authorizer.iam.userArn)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approval: str = Field(pattern=QUESTION_PATTERN)
    decision: Literal["approve", "reject", "extend"]
    reason: str = Field(default="", max_length=1024)
    procedure: str | None = Field(default=None, max_length=64)
    display: str = Field(default="", max_length=128)  # the former --by: a name shown next to the verified ARN
    dedupe: str = Field(min_length=1, max_length=256)


class CliSettingBody(BaseModel):
    """The JSON body `remedy snooze|freeze|mode` posts to the same signed URL (functions/answers/settings.py):
    settings that need a verified identity too. Carries no identity either."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["snooze", "snooze_cancel", "freeze", "freeze_cancel", "mode"]
    target: str = Field(default="", max_length=300)  # resource | freeze id | PLAYBOOK[.ACTION]
    minutes: int | None = Field(default=None, ge=1, le=14 * 24 * 60)
    mode: Literal["observe", "recommend", "approve", "auto"] | None = None
    reason: str = Field(default="", max_length=300)
    name: str = Field(default="", max_length=40)  # an ad-hoc freeze's name


class AnswerResult(BaseModel):
    """What the answer function returns (to the Slack function, which shows it; as the function URL's JSON body to
    the CLI). `message` is one line a person reads; `by` is the verified principal (and display name)."""

    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    message: str
    incident_id: str | None = None
    approval: str
    by: str = ""
    rule: str | None = None  # REFUSED: the rule that refused (allow-list, two-person, …)
    procedure: str | None = None  # a procedure's name, or "playbook <name>"
    detail: dict[str, Any] = {}  # the playbook's outcome (status, summary, verification …), the procedure's step


def parse_slack_answer(event: Any) -> SlackAnswerEvent:
    """The Slack function's event, validated; ValueError with one line naming the field otherwise."""
    try:
        return SlackAnswerEvent.model_validate(event[ANSWER_EVENT])
    except (ValidationError, KeyError, TypeError) as error:
        raise ValueError(_first_error(error, ANSWER_EVENT)) from None


def _first_error(error: Exception, where: str) -> str:
    if isinstance(error, ValidationError):
        detail = error.errors()[0]
        path = ".".join(str(p) for p in detail["loc"]) or where
        return f"{where}: {path}: {detail['msg']}"
    return f"{where}: missing"

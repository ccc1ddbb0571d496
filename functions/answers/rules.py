"""Who may answer what: the catalog's allow-lists (IAM principal patterns, Slack ids), the two-person rule, the
answer window and the dedupe key. Pure functions over verified identities: no AWS, no I/O."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

ALLOW_LIST = "allow-list"
TWO_PERSON = "two-person"
# Slack's replay window: a request older than five minutes is refused by the Slack side; a retried delivery
# within it returns the first answer's outcome (the dedupe record lives a little longer than that).
DEDUPE_SECONDS = 15 * 60


@dataclass(frozen=True)
class Identity:
    """A principal as AWS (via "iam": the signed caller's ARN) or Slack (via "slack": slack:<team>/<user>)
    verified it, never as a request claimed it. `display` is only shown next to it."""

    principal: str
    via: Literal["iam", "slack"]
    display: str = ""

    @property
    def shown(self) -> str:
        return f"{self.display} ({self.principal})" if self.display else self.principal


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str


def _glob(pattern: str, value: str) -> bool:
    """IAM-style: `*` any run of characters, `?` one; everything else literal, case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def iam_allowed(patterns: list[str], principal_arn: str) -> bool:
    return any(_glob(p, principal_arn) for p in patterns)


def chat_allowed(entries: list[str], principal: str) -> bool:
    """`principal` is slack:<team>/<user>. An entry is a user id (U…/W…), team/user or team/* (user groups are
    refused by the catalog: nothing resolves their members)."""
    if not principal.startswith("slack:") or "/" not in principal:
        return False
    team, _, user = principal.removeprefix("slack:").partition("/")
    for entry in entries:
        owner, _, who = entry.rpartition("/")
        if owner and owner != team:
            continue
        if who in ("*", user):
            return True
    return False


def allowed(approvers: Any, identity: Identity) -> bool:
    if identity.via == "iam":
        return iam_allowed(list(approvers.iam), identity.principal)
    return chat_allowed(list(approvers.chat), identity.principal)


def same_person(requester: str, identity: Identity) -> bool:
    """The requester as recorded (an IAM ARN, slack:<team>/<user>, or "alarm …" for an alarm) is the answerer.
    Identities of different kinds are different people as far as anything here can verify."""
    return bool(requester) and requester.strip() == identity.principal


def check(approvers: Any, identity: Identity, requester: str, two_person_default: bool, what: str,
          where: str) -> Refusal | None:
    """None when `identity` may answer `what`; else the rule that refuses, in one line."""
    if not allowed(approvers, identity):
        kind = "IAM principals" if identity.via == "iam" else "chat users"
        return Refusal(ALLOW_LIST, f"{identity.principal} may not answer {what}: not among the {kind} of "
                                   f"{where} in the catalog; nothing was done")
    two_person = approvers.two_person if approvers.two_person is not None else two_person_default
    if two_person and same_person(requester, identity):
        return Refusal(TWO_PERSON, f"{identity.principal} started {what} and may not approve it too (two-person "
                                   f"rule, {where}.two_person): another approver must answer; nothing "
                                   f"was done")
    return None


def expired(deadline: datetime | str | None, now: datetime) -> bool:
    if deadline is None or deadline == "":
        return False
    when = datetime.fromisoformat(deadline) if isinstance(deadline, str) else deadline
    return now >= when


def dedupe_key(identity: Identity, dedupe: str) -> str:
    """Per principal: one person's retried request returns its first outcome; nobody else can claim that
    outcome (or block an answer) by reusing the key."""
    return hashlib.sha256(f"{identity.via}\0{identity.principal}\0{dedupe}".encode()).hexdigest()

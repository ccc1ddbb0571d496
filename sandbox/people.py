"""People at the CLI in the sandbox: each one an assumed-role session with a key pair of its own, evaluated by IAM
against the policies their role holds (sandbox.iam.person), and verified by their SigV4 signature at the answer
function's URL (sandbox.function_url_auth). Not the admin key: the sandbox itself has no identity to answer with.

    alice = responder(sandbox, "alice")                       # OnCall role, the templates' <prefix>-responder
    incident.approve(sandbox.client, catalog, ident, credentials=alice)
"""

from __future__ import annotations

from typing import Any

from sandbox import iam

ON_CALL_ROLE = "OnCall"  # config/dev.yaml allows arn:aws:sts::<account>:assumed-role/OnCall/* to answer
ANALYST_ROLE = "Analyst"  # holds the responder policy too, but the catalog does not list it


def responder(sandbox: Any, session: str, role: str = ON_CALL_ROLE) -> dict[str, str]:
    """Credentials of `session` in `role`, holding the templates' <prefix>-responder managed policy."""
    return iam.person(sandbox.deployment, sandbox.catalog.account_id, role, session,
                      (f"{sandbox.catalog.prefix}-responder",))


def arn(sandbox: Any, session: str, role: str = ON_CALL_ROLE) -> str:
    return f"arn:aws:sts::{sandbox.catalog.account_id}:assumed-role/{role}/{session}"


def shown(sandbox: Any, session: str, role: str = ON_CALL_ROLE) -> str:
    """How an answer by `session` (display name = session) is recorded: the name and the verified ARN."""
    return f"{session} ({arn(sandbox, session, role)})"


def answering(sandbox: Any, session: str, role: str = ON_CALL_ROLE) -> dict[str, Any]:
    """The keyword arguments of remedy.commands.incident.approve|reject|extend for `session` answering."""
    return {"credentials": responder(sandbox, session, role), "display": session}

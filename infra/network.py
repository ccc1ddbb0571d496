"""The AWS APIs the service's in-VPC functions call, and so the VPC endpoints (or NAT path) their subnets need.

A function placed in the catalog's private subnets (the Redshift playbook, the Redshift analysis job) reaches
AWS's public API endpoints only through interface/gateway VPC endpoints or a NAT gateway: without one every call
times out, on the first real alarm. The list is derived from the synthesized templates (each in-VPC function's
role says which services it calls), so a new call in such a function adds its endpoint here by itself.

Not counted: what the Lambda service does for the function with its role, outside the function's network —
delivering logs (logs:CreateLogStream / PutLogEvents), sending a failed asynchronous event to the on-failure
destination, and managing its network interfaces (ec2:*NetworkInterface*, ec2:Describe*): AWS Lambda developer
guide, "Giving Lambda functions access to resources in an Amazon VPC", "Execution role permissions for VPC" and
"Asynchronous invocation: destinations". X-Ray is counted: the function's own SDK subsegments leave through the
X-Ray daemon in its execution environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# IAM prefix -> the endpoint's service name suffix (com.amazonaws.<region>.<suffix>) where it differs.
_ENDPOINT_NAME = {"cloudwatch": "monitoring", "states": "states"}
# Services reached through a gateway endpoint (a route in the subnets' route tables), not an interface endpoint.
_GATEWAY = {"dynamodb", "s3"}
# Actions Lambda itself performs with the execution role (see the module's docstring).
_DONE_BY_LAMBDA = {"logs:createlogstream", "logs:putlogevents", "logs:createloggroup"}
_DONE_BY_LAMBDA_SIDS = {"OnFailureDestination"}  # infra.permissions, maintenance_permissions: the async destination


@dataclass
class Endpoint:
    service: str  # the IAM prefix, e.g. "redshift"
    name: str  # com.amazonaws.<region>.<service>
    kind: str  # Interface | Gateway
    functions: list[str] = field(default_factory=list)  # the in-VPC functions that call it


def _statements(template: dict[str, Any], role_logical: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") != "AWS::IAM::Policy":
            continue
        roles = resource["Properties"].get("Roles", [])
        if any(isinstance(r, dict) and r.get("Ref") == role_logical for r in roles):
            found.extend(resource["Properties"]["PolicyDocument"].get("Statement", []))
    return found


def _services(statements: list[dict[str, Any]]) -> set[str]:
    services = set()
    for statement in statements:
        if statement.get("Effect", "Allow") != "Allow" or statement.get("Sid") in _DONE_BY_LAMBDA_SIDS:
            continue
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            prefix = action.split(":", 1)[0].lower()
            # kafka-cluster:* is authorised by the MSK brokers themselves, reached in the VPC: no API endpoint.
            if prefix in ("ec2", "kafka-cluster") or action.lower() in _DONE_BY_LAMBDA:
                continue
            services.add(prefix)
    return services


def required_endpoints(templates: dict[str, dict[str, Any]], region: str) -> list[Endpoint]:
    """Every endpoint an in-VPC function of these templates needs, with the functions that need it."""
    endpoints: dict[str, Endpoint] = {}
    for template in templates.values():
        for resource in template.get("Resources", {}).values():
            props = resource.get("Properties", {})
            if resource.get("Type") != "AWS::Lambda::Function" or not props.get("VpcConfig"):
                continue
            role = props.get("Role", {})
            role_logical = role.get("Fn::GetAtt", [""])[0] if isinstance(role, dict) else ""
            function = str(props.get("FunctionName", role_logical))
            for service in _services(_statements(template, role_logical)):
                suffix = _ENDPOINT_NAME.get(service, service)
                endpoint = endpoints.setdefault(service, Endpoint(
                    service, f"com.amazonaws.{region}.{suffix}", "Gateway" if service in _GATEWAY else "Interface"))
                endpoint.functions.append(function)
    return sorted(endpoints.values(), key=lambda e: (e.kind, e.name))

"""EC2 networking: security groups and subnets of a Glue connection (NetworkPort)."""

from __future__ import annotations

from typing import Any

from functions.core.adapters.clients import Clients
from functions.core.ports import SecurityGroup, SgRule


def _rules(permissions: list[dict[str, Any]]) -> tuple[SgRule, ...]:
    return tuple(SgRule(protocol=str(p.get("IpProtocol", "-1")), from_port=p.get("FromPort"), to_port=p.get("ToPort"),
                        groups=tuple(g["GroupId"] for g in p.get("UserIdGroupPairs", []) if g.get("GroupId")),
                        cidrs=tuple(r["CidrIp"] for r in p.get("IpRanges", []) if r.get("CidrIp")))
                 for p in permissions)


class Ec2NetworkAdapter:
    def __init__(self, clients: Clients):
        self._clients = clients

    def security_groups(self, ids: list[str]) -> dict[str, SecurityGroup]:
        groups = self._clients("ec2").describe_security_groups(GroupIds=ids)["SecurityGroups"]
        return {g["GroupId"]: SecurityGroup(id=g["GroupId"], ingress=_rules(g.get("IpPermissions", [])),
                                            egress=_rules(g.get("IpPermissionsEgress", [])))
                for g in groups}

    def subnet_cidr(self, subnet_id: str) -> str | None:
        subnets = self._clients("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"]
        return str(subnets[0]["CidrBlock"]) if subnets else None

"""Runbook "Emergency Procedures / Security Incident": rotate credentials immediately, review CloudTrail,
check IAM policies, revoke unauthorized access, update security groups if needed.

Containment does not wait for a person: the Redshift admin secret is rotated and the principal's access keys
are deactivated at once (both reversible; waiting is the greater risk). What cuts off more than the suspect
waits for approval: a deny-all inline policy on the principal that applies to every session issued before
the revocation (aws:TokenIssueTime: live role sessions and console sessions stop working; new sessions,
after the cause is fixed, do not), and revoking security group ingress the catalog does not allow on the
Redshift and MSK groups.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections import Counter
from typing import Any

from functions.core.catalog import Catalog
from functions.core.errors import error_line
from functions.procedures.corruption import CannotProceed
from functions.procedures.inputs import SecurityIncidentInput, parse_principal
from functions.procedures.ports import IdentityPort, NetworkPort, TrailPort
from functions.procedures.summary import Summary

DENY_POLICY = "remedy-revoke-older-sessions"
OPEN = {"0.0.0.0/0", "::/0"}
ADMIN_MANAGED = {"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"}
SENSITIVE = {
    "CreateAccessKey", "CreateUser", "CreateLoginProfile", "UpdateLoginProfile", "AttachUserPolicy",
    "PutUserPolicy", "AttachRolePolicy", "PutRolePolicy", "UpdateAssumeRolePolicy", "AddUserToGroup",
    "AuthorizeSecurityGroupIngress", "GetSecretValue", "PutBucketPolicy", "DeleteBucketPolicy", "StopLogging",
    "DeleteTrail", "UpdateTrail", "ConsoleLogin", "AssumeRole", "GetClusterCredentials", "ModifyCluster",
    "CreateSnapshotCopyGrant", "ModifyClusterSnapshot",
}
READ_PREFIXES = ("Get", "List", "Describe", "Lookup", "Head", "Select", "Scan", "Query", "BatchGet")


def _role_from_arn(arn: str) -> str | None:
    match = re.search(r":assumed-role/([\w+=,.@-]+)/", arn) or re.search(r":role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$", arn)
    return match.group(1) if match else None


def _allowed(cidr: str, allowed: list[str]) -> bool:
    if cidr in OPEN:
        return False
    try:
        network = ipaddress.ip_network(cidr, strict=False)
        return any(network.version == ipaddress.ip_network(a, strict=False).version
                   and network.subnet_of(ipaddress.ip_network(a, strict=False)) for a in allowed)  # type: ignore[arg-type]
    except ValueError:
        return False


def _permission(rule: dict[str, Any]) -> dict[str, Any]:
    """The IpPermissions entry that revokes exactly this one rule (RevokeSecurityGroupIngress)."""
    permission: dict[str, Any] = {"IpProtocol": rule["protocol"]}
    if rule["protocol"] != "-1":
        permission["FromPort"], permission["ToPort"] = rule["from_port"], rule["to_port"]
    if ":" in rule["cidr"]:
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule["cidr"]}]
    else:
        permission["IpRanges"] = [{"CidrIp": rule["cidr"]}]
    return permission


def _ports(rule: dict[str, Any]) -> str:
    if rule["protocol"] == "-1":
        return "all traffic"
    return f"{rule['protocol']} {rule['from_port']}" + (f"-{rule['to_port']}" if rule["to_port"] != rule["from_port"]
                                                        else "")


def resolve_principal(inp: SecurityIncidentInput, identity: IdentityPort, trail: TrailPort,
                      catalog: Catalog) -> dict[str, Any]:
    kind, name, _account = parse_principal(inp.principal)
    keys: list[str] = []
    if kind == "access_key":
        owner = identity.access_key_owner(name)
        if owner is None:
            raise CannotProceed(f"access key {name} belongs to no user of account {catalog.account_id}")
        kind, keys, key_name, name = "user", [name], name, owner
        del key_name
    elif kind == "temporary_key":
        events = trail.events(("AccessKeyId", name), inp.start, inp.end, limit=50)
        roles = [r for r in (_role_from_arn(e.get("identity_arn", "")) for e in events) if r]
        if not roles:
            raise CannotProceed(f"temporary key {name}: CloudTrail names no role for it in the window")
        kind, name = "role", roles[0]
    if not identity.exists(kind, name):
        raise CannotProceed(f"{kind} {name} does not exist in account {catalog.account_id}")
    if kind == "user" and not keys:
        keys = [k["id"] for k in identity.access_keys(name) if k["status"] == "Active"]
    elif kind == "user":
        keys = [k["id"] for k in identity.access_keys(name) if k["id"] in keys and k["status"] == "Active"]
    arn = f"arn:aws:iam::{catalog.account_id}:{kind}/{name}"
    return {"kind": kind, "name": name, "arn": arn, "keys": [{"user": name, "id": k} for k in keys]}


def assess(inp: SecurityIncidentInput, identity: IdentityPort, network: NetworkPort, trail: TrailPort,
           catalog: Catalog) -> dict[str, Any]:
    principal = resolve_principal(inp, identity, trail, catalog)
    groups = [*catalog.redshift.security_group_ids, *catalog.msk.security_group_ids]
    allowed = list(catalog.procedures.allowed_ingress_cidrs)
    try:
        rules, unread = (network.ingress(groups) if groups else []), ""
    except Exception as error:  # the keys are contained all the same; the ingress is then reviewed by hand
        rules, unread = [], f"could not be read ({error_line(error)}): review it by hand"
    offending = [r for r in rules if not _allowed(r["cidr"], allowed)]
    ingress = [{"GroupId": r["group_id"], "IpPermissions": [_permission(r)],
                "text": f"{r['group_id']}: {_ports(r)} from {r['cidr']}"} for r in offending]
    secret = catalog.redshift.admin_secret
    token = f"remedy-{re.sub(r'[^A-Za-z0-9-]', '-', inp.incident_id)}-rotation".ljust(32, "0")[:64]
    keys = principal["keys"]
    about_to = [
        f"attach inline policy {DENY_POLICY} to {principal['kind']} {principal['name']}: deny every action to "
        f"sessions issued before the revocation (aws:TokenIssueTime): live sessions end",
        *[f"revoke ingress {i['text']} (not in the catalog's allowed CIDRs: {', '.join(allowed) or 'none'})"
          for i in ingress],
    ]
    findings = [
        f"principal: {principal['kind']} {principal['name']} ({inp.principal})",
        f"access keys deactivated at once: {', '.join(k['id'] for k in keys) or 'none active'}",
        f"Redshift admin secret: {secret or 'none in the catalog (redshift.admin_secret)'}",
        f"ingress the catalog does not allow: {unread or f'{len(ingress)} rule(s)'} on "
        f"{', '.join(groups) or 'no catalog group'}",
    ]
    return {"principal": principal, "keys": keys,
            "secret": {"id": secret, "token": token} if secret else None, "rotate_secret": bool(secret),
            "ingress": [{k: v for k, v in i.items() if k != "text"} for i in ingress],
            "ingress_text": [i["text"] for i in ingress], "deny": {"kind": principal["kind"],
                                                                  "name": principal["name"],
                                                                  "policy_name": DENY_POLICY},
            "findings": findings, "about_to": about_to}


def _lookup(principal: dict[str, Any]) -> tuple[str, str] | None:
    if principal["kind"] == "user":
        return ("Username", principal["name"])
    return None  # roles: every event in the window, filtered on the session issuer below


def review_cloudtrail(state: dict[str, Any], trail: TrailPort) -> dict[str, Any]:
    from functions.procedures.corruption import _parse

    principal = state["plan"]["principal"]
    try:
        events = trail.events(_lookup(principal), _parse(state["start"]), _parse(state["end"]))
    except Exception as error:  # evidence, not a reason to leave the containment undone: said, and left by hand
        return {"events": 0, "writes": 0, "errors": {}, "top": [], "write_events": [], "flags": [], "source_ips": [],
                "summary": f"could not be read ({error_line(error)}): review CloudTrail for the window by hand"}
    if principal["kind"] == "role":
        marker = f":assumed-role/{principal['name']}/"
        events = [e for e in events if marker in e.get("identity_arn", "") or e.get("identity_arn") == principal["arn"]]
    writes = [e for e in events if not e.get("read_only") and not str(e["name"]).startswith(READ_PREFIXES)]
    calls = Counter(f"{str(e['source']).split('.')[0]}:{e['name']}" for e in events)
    errors = Counter(str(e["error"]) for e in events if e.get("error"))
    flags = sorted({f"{e['name']} ({e['source']})" for e in events if e["name"] in SENSITIVE})
    ips = sorted({str(e.get("ip")) for e in events if e.get("ip")})
    return {
        "events": len(events), "writes": len(writes), "errors": dict(errors.most_common(5)),
        "top": [f"{name} x{count}" for name, count in calls.most_common(8)],
        "write_events": [f"{e['time']} {e['name']} ({e['source']}) from {e.get('ip') or '?'}"
                         + (f" -> {e['error']}" if e.get("error") else "") for e in writes[:15]],
        "flags": flags, "source_ips": ips[:20],
        "summary": (f"{len(events)} events in the window, {len(writes)} changes, "
                    f"{sum(errors.values())} refused; sensitive: {', '.join(flags) or 'none'}; "
                    f"from {', '.join(ips[:5]) or 'no IP'}"),
    }


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)] if value is not None else []


def policy_flags(document: dict[str, Any] | str, name: str = "") -> list[str]:
    doc = json.loads(document) if isinstance(document, str) else document
    statements = doc.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    flags = []
    if name in ADMIN_MANAGED:
        flags.append(f"{name}: administrator access (AWS managed)")
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        actions = _as_list(statement.get("Action"))
        resources = _as_list(statement.get("Resource"))
        if "NotAction" in statement:
            flags.append(f"Allow with NotAction {_as_list(statement['NotAction'])}: everything else is allowed")
        if any(a in {"*", "*:*"} for a in actions):
            flags.append("Action '*': administrator access")
            continue
        wild = [a for a in actions if a.endswith(":*") or "*" in a.split(":", 1)[-1]]
        if wild:
            flags.append(f"wildcard actions {', '.join(wild)}")
        if "*" in resources and any(not a.split(":", 1)[-1].startswith(READ_PREFIXES) for a in actions):
            flags.append(f"Resource '*' for {', '.join(actions[:5])}")
    return flags


def review_policies(state: dict[str, Any], identity: IdentityPort) -> dict[str, Any]:
    principal = state["plan"]["principal"]
    reviewed = []
    try:
        policies = identity.policies(principal["kind"], principal["name"])
    except Exception as error:  # evidence, not a reason to leave the containment undone: said, and left by hand
        return {"policies": [], "flagged": 0, "summary": f"could not be read ({error_line(error)}): review the "
                                                         f"{principal['kind']}'s policies by hand"}
    for policy in policies:
        flags = policy_flags(policy.get("document") or {}, policy["name"])
        reviewed.append({"name": policy["name"], "source": policy["source"], "flags": flags})
    flagged = [p for p in reviewed if p["flags"]]
    return {"policies": reviewed, "flagged": len(flagged),
            "summary": f"{len(reviewed)} policies, {len(flagged)} flagged: " + (
                "; ".join(f"{p['name']} ({p['source']}): {', '.join(p['flags'])}" for p in flagged) or "none")}


def summary(state: dict[str, Any], failed_step: str | None) -> Summary:  # noqa: C901 - a line per step
    plan = state.get("plan") or {}
    results = state.get("results") or {}
    principal = plan.get("principal") or {}
    out = Summary(findings=list(plan.get("findings", [])))
    if "ReviewCloudTrail" in results:
        out.findings.append("CloudTrail: " + results["ReviewCloudTrail"]["summary"])
        out.findings += [f"  {line}" for line in results["ReviewCloudTrail"].get("write_events", [])[:8]]
    if "ReviewPolicies" in results:
        out.findings.append("IAM: " + results["ReviewPolicies"]["summary"])
    rotation = results.get("RotateSecret")
    if isinstance(rotation, dict) and "Error" in rotation:  # caught: containment went on without it
        out.left.append(f"rotate the Redshift admin secret by hand, its rotation failed ({rotation['Error']}: "
                        f"{_cause(rotation.get('Cause'))}): aws secretsmanager rotate-secret --secret-id "
                        f"{plan['secret']['id']} --rotate-immediately")
    elif rotation is not None:
        out.done.append(f"rotated the Redshift admin secret {plan['secret']['id']} "
                        f"(new version {rotation.get('version', '?')})")
    keys = plan.get("keys", [])
    if "DeactivateKeys" in results:
        out.done += [f"deactivated access key {k['id']} of {k['user']}" for k in keys]
        out.left += [f"once cleared, give {k['user']} a new key and delete the old one: aws iam delete-access-key "
                     f"--user-name {k['user']} --access-key-id {k['id']}" for k in keys]
    elif keys:
        out.left += [f"deactivate by hand: aws iam update-access-key --user-name {k['user']} --access-key-id "
                     f"{k['id']} --status Inactive" for k in keys]
    if "RevokeSessions" in results and principal:
        out.done.append(f"attached {DENY_POLICY} to {principal['kind']} {principal['name']}: sessions issued "
                        f"before {results.get('DenyOlderSessions', {}).get('before', 'the revocation')} are denied")
        out.left.append(f"when the principal is trusted again: aws iam delete-{principal['kind']}-policy "
                        f"--{principal['kind']}-name {principal['name']} --policy-name {DENY_POLICY}")
    elif principal and failed_step:
        out.left.append(f"revoke its sessions by hand: attach a deny-all policy conditioned on aws:TokenIssueTime "
                        f"to {principal['kind']} {principal['name']}")
    if "RevokeIngress" in results:
        out.done += [f"revoked ingress {text}" for text in plan.get("ingress_text", [])]
    elif plan.get("ingress_text") and failed_step:
        out.left += [f"revoke by hand: ingress {text}" for text in plan["ingress_text"]]
    if "ReviewPolicies" in results:
        out.left += [f"review policy {p['name']} ({p['source']}): {', '.join(p['flags'])}"
                     for p in results["ReviewPolicies"]["policies"] if p["flags"]]
    if principal.get("kind") == "role":
        out.left.append(f"review who may assume role {principal['name']} (its trust policy)")
    return out


def _cause(cause: Any) -> str:
    """The first line of a Catch's Cause, short: it is a sentence in a notification."""
    return (str(cause).splitlines() or [""])[0][:200] if cause else "no cause given"

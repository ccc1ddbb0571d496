"""What the procedures act on, seeded in the emulated account from the catalog (after each reset): the catalog's
security groups (with its ids and allowed ingress), Glue triggers, the Redshift admin secret, an automated
snapshot from before any fault (sandbox.gaps.redshift), the MSK cluster ACTIVE, Glue jobs defined a week ago;
and backdate_object_version for scenarios that need history in S3."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.gaps import redshift


def seed(catalog: Any, account: Any) -> None:
    """The catalog's security groups (with its ids and allowed ingress), Glue triggers, the Redshift admin
    secret, an automated snapshot from before any fault, and the MSK cluster ACTIVE."""
    _seed_security_groups(catalog, account)
    _seed_triggers(catalog, account)
    if catalog.redshift.admin_secret:
        sm = account.client("secretsmanager")
        names = {s["Name"] for s in sm.list_secrets().get("SecretList", [])}
        if catalog.redshift.admin_secret not in names:
            sm.create_secret(Name=catalog.redshift.admin_secret, SecretString=json.dumps(
                {"username": "admin", "password": secrets.token_urlsafe(18), "engine": "redshift",
                 "dbClusterIdentifier": catalog.redshift.cluster_id}))
    from moto.kafka.models import kafka_backends

    for cluster in kafka_backends[account.account_id][account.region].clusters.values():
        cluster.state = "ACTIVE"  # MSK clusters finish creating; moto's stay CREATING
    # The lake's Glue jobs were defined long before today: a change today is news (service-outage evidence).
    week_ago = datetime.now(UTC) - timedelta(days=7)
    glue = account.glue_backend()
    for job in catalog.glue_jobs:
        try:
            defined = glue.get_job(job.name)
        except Exception:
            continue
        if (datetime.now(UTC) - _aware(defined.last_modified_on)) < timedelta(minutes=5):
            defined.created_on = defined.last_modified_on = week_ago.replace(tzinfo=defined.last_modified_on.tzinfo)
    redshift.seed_automated_snapshot(catalog, account)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _seed_security_groups(catalog: Any, account: Any) -> None:
    import moto.ec2.models.security_groups as groups_module
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account.account_id][account.region]
    ec2 = account.client("ec2")
    ports = {"redshift": [(catalog.redshift.port, catalog.redshift.port)], "msk": [(9092, 9098)]}
    for kind, ids in (("redshift", catalog.redshift.security_group_ids), ("msk", catalog.msk.security_group_ids)):
        for group_id in ids:
            if backend.get_security_group_from_id(group_id) is not None:
                continue
            original = groups_module.random_security_group_id
            groups_module.random_security_group_id = lambda gid=group_id: gid  # the catalog's id, not a random one
            try:
                backend.create_security_group(f"{catalog.prefix}-{kind}-{group_id[-4:]}",
                                              f"{kind} ({catalog.env})", None)
            finally:
                groups_module.random_security_group_id = original
            allowed = [{"CidrIp": c} for c in catalog.procedures.allowed_ingress_cidrs if ":" not in c]
            if allowed:
                ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": low, "ToPort": high, "IpRanges": allowed}
                    for low, high in ports[kind]])


def _seed_triggers(catalog: Any, account: Any) -> None:
    glue = account.client("glue")
    existing = set(glue.list_triggers().get("TriggerNames", []))
    for job in catalog.glue_jobs:
        if job.trigger and job.trigger not in existing:
            glue.create_trigger(Name=job.trigger, Type="SCHEDULED", Schedule=job.schedule or "cron(0 * * * ? *)",
                                Actions=[{"JobName": job.name}], StartOnCreation=True,
                                Description=f"runs {job.name} on its schedule")


def backdate_object_version(account: Any, bucket: str, key: str, version_id: str, at: datetime) -> None:
    """History for a scenario: S3 stamps LastModified itself, so an object version 'written yesterday' is
    made by writing it now and moving its stamp back."""
    from moto.s3.models import s3_backends

    backend = s3_backends[account.account_id]["aws"]
    for item in backend.get_bucket(bucket).keys.getlist(key):
        if item.version_id == version_id:
            item.last_modified = at.replace(tzinfo=None) if item.last_modified.tzinfo is None else at
            return
    raise KeyError(f"s3://{bucket}/{key} has no version {version_id}")

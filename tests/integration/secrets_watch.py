"""No secret ever reaches a log line, a notification, the audit trail or a report: every function of the templates is
driven in the sandbox (the game day's scripted scenarios, which between them invoke each one, and the two maintenance
jobs no scenario runs) while secrets exist, and each secret is looked for in everything they wrote.

The secrets: the Redshift temporary passwords GetClusterCredentials handed to the functions (caught as the adapter
receives them), every version of the Redshift admin secret in Secrets Manager (rotated by the security-incident
procedure), and the secret access keys of IAM users (the security-incident scenario creates one for the principal it
contains). Where they are looked for: every line each function logged (Powertools JSON on stdout, captured by
Sandbox.invoke, Lambda tasks of the state machines included), every Python log record with its extras, every
message published to SNS (moto's record of them), the audit trail and the reports bucket.

The Redshift playbook's own test of a driver error that echoes the password (tests/unit/test_redshift_performance.py)
is generalized in test_no_secrets.py to both functions that connect to Redshift. The whole game day runs with a
Watch (tests/integration/test_gameday.py): one drive of every scripted scenario checks both its outcomes and that no
secret leaked.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.core.adapters import redshift as redshift_adapter
from sandbox.core import Sandbox

NOT_DRIVEN = {"index.handler"}  # CDK's AwsCustomResource provider: CloudFormation's, not ours
# What each kind of secret is called in Watch.secrets(): the drive must have met each kind for its check to mean much.
KINDS = {"Redshift temporary password", "secret remedy/dev/redshift-admin", "secret access key"}


def kinds(secrets_seen: set[str]) -> set[str]:
    return {what.split(" #")[0].split(" version")[0].split(" of ")[0] for what in secrets_seen}


class Watch:
    """What the functions were given (secrets) and what they wrote (sinks), for one stretch of the sandbox."""

    def __init__(self, sandbox: Sandbox | None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
        # `sandbox`: the one looked at; the game day starts its own, set once it is up (what is watched is patched
        # on the classes: every sandbox's functions from now on)
        self._sandbox, self.caplog = sandbox, caplog
        self.passwords: set[str] = set()
        self.logs: list[str] = []
        self.invoked: set[str] = set()
        original_invoke, original_credentials = Sandbox.invoke, redshift_adapter.RedshiftAdapter.credentials

        def invoke(sb: Sandbox, spec: Any, event: Any, logs: list[str] | None = None) -> Any:
            mine: list[str] = []
            self.invoked.add(spec.handler)
            try:
                return original_invoke(sb, spec, event, mine)
            finally:
                self.logs += mine
                if logs is not None:
                    logs += mine

        def credentials(adapter: Any) -> Any:
            answer = original_credentials(adapter)
            self.passwords.add(answer.password)
            return answer

        monkeypatch.setattr(Sandbox, "invoke", invoke)
        monkeypatch.setattr(redshift_adapter.RedshiftAdapter, "credentials", credentials)
        caplog.set_level(logging.DEBUG, logger="remedy")  # the functions' loggers (Powertools: the service name)
        caplog.set_level(logging.DEBUG, logger="functions")

    @property
    def sandbox(self) -> Sandbox:
        assert self._sandbox is not None, "no sandbox to look at yet"
        return self._sandbox

    @sandbox.setter
    def sandbox(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def secrets(self) -> dict[str, str]:
        """Each secret that exists now, by what it is (call before the sandbox is reset)."""
        from moto.iam.models import iam_backends

        found = {f"Redshift temporary password #{i}": p for i, p in enumerate(sorted(self.passwords))}
        sm = self.sandbox.client("secretsmanager")
        for listed in sm.list_secrets().get("SecretList", []):
            versions = sm.list_secret_version_ids(SecretId=listed["ARN"]).get("Versions", [])
            for version in versions:
                value = sm.get_secret_value(SecretId=listed["ARN"], VersionId=version["VersionId"])["SecretString"]
                found[f"secret {listed['Name']} version {version['VersionId'][:8]}"] = value
                password = _field(value, "password")
                if password:
                    found[f"secret {listed['Name']} version {version['VersionId'][:8]}: password"] = password
        for account in iam_backends.values():
            for backend in account.values():
                for user in backend.users.values():
                    for key in user.access_keys:
                        found[f"secret access key of {user.name} ({key.access_key_id})"] = key.secret_access_key
        return {what: value for what, value in found.items() if len(value) >= 8}

    def sinks(self) -> dict[str, str]:
        """Everything the functions wrote that people or other systems read, as text."""
        from moto.sns.models import sns_backends

        catalog, s3 = self.sandbox.catalog, self.sandbox.client("s3")
        published = [f"{subject}\n{message}" for account in sns_backends.values() for backend in account.values()
                     for topic in backend.topics.values() for _, message, subject, _, _ in topic.sent_notifications]
        reports = []
        for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"] if "reports" in b["Name"]):
            for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
                reports.append(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode("utf-8", "replace"))
        # The functions' records with their extras; not the harness's own botocore DEBUG lines (this test reads
        # the secrets through boto3 too), which no function emits in Lambda.
        records = [json.dumps(r.__dict__, default=str) for r in self.caplog.records
                   if r.name.split(".")[0] in ("remedy", "functions")]
        return {"logs": "\n".join(self.logs), "log records": "\n".join(records), "SNS": "\n".join(published),
                "audit": json.dumps(self.sandbox.audit(), default=str), "reports": "\n".join(reports),
                "catalog": catalog.prefix}  # a sink that never holds a secret: proves the check can pass

    def leaks(self, where: str) -> list[str]:
        sinks = self.sinks()
        return [f"{where}: {what} in {sink}" for what, value in self.secrets().items()
                for sink, text in sinks.items() if value in text]

    def forget_writes(self) -> None:
        """Start a new stretch (the account is about to be reset)."""
        self.logs.clear()
        self.caplog.clear()


def _field(value: str, name: str) -> str:
    try:
        data = json.loads(value)
    except ValueError:
        return ""
    return str(data.get(name, "")) if isinstance(data, dict) else ""


def run_maintenance(sandbox: Sandbox) -> None:
    """The maintenance jobs no scenario runs: the two reports as `remedy report` runs them (history seeded first),
    the doctor's daily runs (its Redshift check reads the service user's grants through the Data API) on their
    schedules."""
    from functions.maintenance import function_name, schedule_name
    from sandbox import redshift_history
    from sandbox.redshift_wiring import reset_redshift

    now = datetime.now(UTC)
    standin = reset_redshift(sandbox)
    redshift_history.seed_month(standin, sandbox.catalog, now)
    redshift_history.seed_previous_analyses(sandbox, now)
    for job in ("redshift_analysis", "lifecycle_review"):
        result = sandbox.invoke(sandbox.function(function_name(sandbox.catalog, job)),
                                {"job": job, "scheduled_time": now.isoformat()})
        assert result["status"] in ("REPORTED", "ALREADY_REPORTED"), result
    for job in ("doctor", "doctor_vpc"):
        (delivery,) = sandbox.run_schedules(now, names=[schedule_name(sandbox.catalog, job)])
        (invocation,) = delivery.invocations
        assert invocation.error is None and invocation.result["status"] == "REPORTED", invocation.error

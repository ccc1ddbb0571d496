"""Secrets Manager: RotateSecret of a service-managed secret (Redshift's admin password) finishes the rotation.

moto 5.2's RotateSecret of a secret without a rotation function leaves the new version without a value. A
service-managed rotation (Redshift's managed admin secret) puts a new password in AWSCURRENT; here the new
version gets the previous value with a new password.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sandbox.gaps import Fill

OPERATIONS: dict[str, Fill] = {
    "secretsmanager:RotateSecret": Fill("behaviour", "a secret without a rotation function gets a new password "
                                                     "as AWSCURRENT (a service-managed rotation)",
                                        "https://docs.aws.amazon.com/secretsmanager/latest/apireference/"
                                        "API_RotateSecret.html"),
}


def install() -> None:
    _fill_rotate()


def _fill_rotate() -> None:
    from moto.secretsmanager import models

    original = models.SecretsManagerBackend.rotate_secret

    def rotate_secret(self: Any, secret_id: str, *args: Any, **kwargs: Any) -> str:
        answer: str = original(self, secret_id, *args, **kwargs)
        secret = self.secrets[secret_id]
        current = secret.versions.get(secret.default_version_id or "", {})
        if not secret.rotation_lambda_arn and "secret_string" not in current:
            # A service-managed rotation (Redshift's admin password): a new password becomes AWSCURRENT.
            previous = next((v for v in secret.versions.values() if "AWSPREVIOUS" in v["version_stages"]), {})
            try:
                value = json.loads(previous.get("secret_string") or "{}")
            except ValueError:
                value = {}
            value["password"] = secrets.token_urlsafe(18)
            current["secret_string"] = json.dumps(value)
            current.setdefault("createdate", int(datetime.now(UTC).timestamp()))
            secret.secret_string = current["secret_string"]
        return answer

    models.SecretsManagerBackend.rotate_secret = rotate_secret

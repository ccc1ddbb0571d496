"""boto3 clients for every adapter: created lazily (cold start) and injectable (Stubber tests).

Endpoints come from configuration only: boto3 honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>,
which is how the sandbox is reached. Nothing here knows whether it talks to AWS or to the sandbox.
"""

from __future__ import annotations

import os
from typing import Any

_CONFIG: Any = None
# Clients already made, by what they were bound to at creation: a client costs ~15 ms to make and keeps its
# connections, so one is reused for as long as the environment that configured it (credentials, region,
# endpoints: the AWS_* variables) is the same. In a Lambda container that is its whole life; a process that
# runs several functions' code one after another (each with its own role's credentials) gets one per role.
_MADE: dict[tuple[Any, ...], Any] = {}


def _bound_to() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AWS_")))


def client(service: str, region: str | None = None) -> Any:
    """A boto3 client with standard retries (throttling backs off) and short timeouts (a Lambda budget); in the
    function's region unless `region` names another (a global service's one endpoint: Health, Support)."""
    global _CONFIG
    import boto3
    from botocore.config import Config

    key = (service, region, id(boto3.DEFAULT_SESSION), _bound_to())
    if key in _MADE:
        return _MADE[key]
    if _CONFIG is None:
        _CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=20)
    if region is not None:
        made = boto3.client(service, region_name=region, config=_CONFIG)
    else:
        made = boto3.client(service, config=_CONFIG)
    _MADE[key] = made
    return made


class Clients:
    """Lazily created clients, one per service; pass `overrides` to inject stubbed clients."""

    def __init__(self, overrides: dict[str, Any] | None = None):
        self._made: dict[str, Any] = dict(overrides or {})

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = client(service)
        return self._made[service]

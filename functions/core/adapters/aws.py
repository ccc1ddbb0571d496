"""The domain ports a playbook reaches (PlaybookPorts, functions.core.ports), on boto3: one adapter per AWS
service (functions.core.adapters.<service>), each built on first use.

Nothing here knows whether it talks to AWS or to the sandbox: endpoints are configuration (clients.py).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from functions.core.adapters.clients import Clients
from functions.core.adapters.clock import SystemClock
from functions.core.adapters.cloudwatch import AlarmAdapter
from functions.core.adapters.ec2 import Ec2NetworkAdapter
from functions.core.adapters.glue import GlueAdapter
from functions.core.adapters.iam import IamPolicyAdapter
from functions.core.adapters.kafka import KafkaAdapter
from functions.core.adapters.logs import LogsAdapter
from functions.core.adapters.s3 import S3Adapter
from functions.core.catalog import Redshift
from functions.core.ports import RedshiftPort
from functions.core.waiting import Budget


class AwsPorts:
    """The domain ports a playbook reaches, built on first use.

    `redshift_config` gives the catalog's cluster when the Redshift port is first used (the runtime passes its
    cached catalog): the adapters never reach up into the runtime for it."""

    def __init__(self, clients: Clients, budget: Budget | None = None,
                 redshift_config: Callable[[], Redshift] | None = None):
        self.clients = clients
        # How long an action may wait for AWS in the current invocation (set per invocation by the runtime).
        self.budget: Budget = budget or Budget(SystemClock())
        self._redshift_config = redshift_config

    @cached_property
    def glue(self) -> GlueAdapter:
        return GlueAdapter(self.clients)

    @cached_property
    def alarms(self) -> AlarmAdapter:
        return AlarmAdapter(self.clients)

    @cached_property
    def logs(self) -> LogsAdapter:
        return LogsAdapter(self.clients)

    @cached_property
    def iam(self) -> IamPolicyAdapter:
        return IamPolicyAdapter(self.clients)

    @cached_property
    def s3(self) -> S3Adapter:
        return S3Adapter(self.clients)

    @cached_property
    def network(self) -> Ec2NetworkAdapter:
        return Ec2NetworkAdapter(self.clients)

    @cached_property
    def kafka(self) -> KafkaAdapter:
        return KafkaAdapter(self.clients)

    @cached_property
    def redshift(self) -> RedshiftPort:
        """functions.core.adapters.redshift: imported here, on first use, so that only the redshift_performance
        function loads it (and redshift_connector behind it)."""
        from functions.core.adapters.redshift import RedshiftAdapter, RedshiftSettings

        if self._redshift_config is None:
            raise RuntimeError("no Redshift cluster configured for these ports (AwsPorts(redshift_config=...))")
        return RedshiftAdapter(self.clients, self._redshift_config(), RedshiftSettings.from_environ())

"""SSM Parameter Store: the global kill switch (KillSwitchPort)."""

from __future__ import annotations

from functions.core.adapters.clients import Clients


class SsmKillSwitch:
    """The global kill switch: an SSM parameter a person sets to 'on' to stop all automated action."""

    def __init__(self, clients: Clients, parameter: str):
        self._clients = clients
        self._parameter = parameter

    def engaged(self) -> bool:
        value = self._clients("ssm").get_parameter(Name=self._parameter)["Parameter"]["Value"]
        return str(value).strip().lower() not in {"off", "false", "0"}

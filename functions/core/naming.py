"""Alarm naming convention. EventBridge routes on it and handlers read the component back from it.

    <service>-<env>/<signal>/<component>      e.g. remedy-dev/consumer-lag/glue:orders-stream

The signal names the runbook metric; the component is the catalog component the alarm watches (the one
a playbook acts on). Catalog names cannot contain '/', so the first two slashes split unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass

# signal -> playbook that answers it. One EventBridge rule per playbook matches its signals by prefix.
SIGNALS: dict[str, str] = {
    "consumer-lag": "msk_consumer_lag",
}


@dataclass(frozen=True)
class AlarmName:
    prefix: str
    signal: str
    component: str

    def __str__(self) -> str:
        return f"{self.prefix}/{self.signal}/{self.component}"

    @property
    def playbook(self) -> str | None:
        return SIGNALS.get(self.signal)


def alarm_name(prefix: str, signal: str, component: str) -> str:
    if signal not in SIGNALS and not signal.startswith("composite-"):
        raise ValueError(f"unknown signal {signal!r}")
    return str(AlarmName(prefix, signal, component))


def parse_alarm_name(name: str, prefix: str) -> AlarmName | None:
    """The parts of one of our alarm names, or None for an alarm that is not ours."""
    parts = name.split("/", 2)
    if len(parts) != 3 or parts[0] != prefix or not parts[1] or not parts[2]:
        return None
    return AlarmName(*parts)


def signal_prefix(prefix: str, signal: str) -> str:
    return f"{prefix}/{signal}/"

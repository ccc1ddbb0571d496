"""Alarm naming convention. EventBridge routes on it and handlers read the component back from it.

    <service>-<env>/<signal>/<component>      e.g. remedy-dev/consumer-lag/glue:orders-stream

The signal names the runbook metric; the component is the catalog component the alarm watches (the one
a playbook acts on). Catalog names cannot contain '/', so the first two slashes split unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# Signals that page a person and feed the lineage hold (an upstream component in ALARM holds actions on what it
# feeds); no playbook answers them. Their alarms are declared in infra/signals.py.
PAGE_SIGNALS: tuple[str, ...] = (
    # Runbook "Key Metrics" / "Alarms"
    "lag-unmeasured",  # a streaming job's consumer lag cannot be measured (lag probe): pages only
    "glue-success-rate",  # Glue job success rate < 99 %: a trend for people; runs are fixed one by one
    "redshift-disk",
    "redshift-health",
    # MSK broker health: what the lag playbook reads before touching a consumer
    "msk-offline-partitions",
    "msk-under-replicated",
    "msk-controller",
    "msk-disk",
    "posture",  # a backup/recovery promise broken (maintenance posture check): pages only
    "doctor",  # a daily `remedy doctor` check failed (the account no longer matches the catalog): pages only
    "unhandled-events",  # an event no function could handle waits in the unhandled-events queue: pages only
)


@cache
def signals() -> dict[str, str | None]:
    """signal -> the playbook that answers it, or None for a page-only signal. The playbooks' signals come from
    their declarations (functions/playbooks: one EventBridge rule per playbook matches its signals by prefix)."""
    from functions.playbooks import playbook_signals

    routed = playbook_signals()
    clash = sorted(set(routed) & set(PAGE_SIGNALS))
    if clash:
        raise ValueError(f"signal {clash[0]!r} is page-only here and routed to playbook {routed[clash[0]]}")
    return {**routed, **dict.fromkeys(PAGE_SIGNALS)}


def __getattr__(name: str) -> dict[str, str | None]:
    """`SIGNALS`, derived on first use: the registry imports the playbook modules, which import this one."""
    if name == "SIGNALS":
        return signals()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Composite signals of the whole service (infra/signals.py): a pipeline is faulty (any of its key alarms is
# in ALARM; no page of its own), and the service is out (several pipelines faulty at once: pages, and starts
# the service-outage procedure, functions/procedures/start.py).
PIPELINE_SIGNAL = "composite-pipeline"  # <prefix>/composite-pipeline/topic:<topic>
OUTAGE_SIGNAL = "composite-service-outage"  # <prefix>/composite-service-outage/pipelines
OUTAGE_COMPONENT = "pipelines"


@dataclass(frozen=True)
class AlarmName:
    prefix: str
    signal: str
    component: str

    def __str__(self) -> str:
        return f"{self.prefix}/{self.signal}/{self.component}"

    @property
    def playbook(self) -> str | None:
        return signals().get(self.signal)


def alarm_name(prefix: str, signal: str, component: str) -> str:
    if signal not in PAGE_SIGNALS and not signal.startswith("composite-") and signal not in signals():
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

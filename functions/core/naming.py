"""Alarm naming convention. EventBridge routes on it and handlers read the component back from it.

    <service>-<env>/<signal>/<component>      e.g. remedy-dev/consumer-lag/glue:orders-stream

The signal names the runbook metric; the component is the catalog component the alarm watches (the one
a playbook acts on). Catalog names cannot contain '/', so the first two slashes split unambiguously.
"""

from __future__ import annotations

from dataclasses import dataclass

# signal -> playbook that answers it, or None for a signal that pages a person and feeds the lineage hold
# (an upstream component in ALARM holds actions on what it feeds). One EventBridge rule per playbook
# matches its signals by prefix.
SIGNALS: dict[str, str | None] = {
    # Runbook "Key Metrics" / "Alarms"
    "consumer-lag": "msk_consumer_lag",  # MSK consumer lag > 10,000
    "lag-unmeasured": None,  # a streaming job's consumer lag cannot be measured (lag probe): pages only
    "glue-failures": "glue_job_failure",  # Glue job failures
    "glue-success-rate": None,  # Glue job success rate < 99 %: a trend for people; runs are fixed one by one
    "redshift-cpu": "redshift_performance",  # Redshift CPU > 80 %
    "redshift-queue": "redshift_performance",  # WLM queue waiting
    "redshift-disk": None,
    "redshift-health": None,
    "landing-freshness": "data_quality",  # landing zone should have data within the last hour
    # MSK broker health: what the lag playbook reads before touching a consumer
    "msk-offline-partitions": None,
    "msk-under-replicated": None,
    "msk-controller": None,
    "msk-disk": None,
    "posture": None,  # a backup/recovery promise broken (maintenance posture check): pages only
    "doctor": None,  # a daily `remedy doctor` check failed (the account no longer matches the catalog): pages only
    "unhandled-events": None,  # an event no function could handle waits in the unhandled-events queue: pages only
}

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

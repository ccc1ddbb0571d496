"""Probes: the scheduled or event-driven functions that turn what AWS does not publish as a metric into one.

The runbook's Monitoring section needs numbers CloudWatch does not have:

- the age of the newest object under each landing-zone prefix ("data within the last hour"): the freshness
  probe lists the prefixes every five minutes and publishes `LandingAgeMinutes`; in the same run it reads the
  staging quality flags of the newest partitions the batch jobs loaded from each prefix ("Data Quality Issues:
  check staging zone data quality flags") and publishes `QualityCheckFailures` (functions.probes.quality);
- the outcome of every Glue job run ("success rate > 99 %", "Glue job failures"): the Glue outcomes probe
  receives Glue's `Glue Job State Change` events and publishes `GlueJobRunSucceeded` / `GlueJobRunFailed`.

- the messages behind of each Glue streaming job whose offsets live only in its Spark checkpoint (MSK publishes
  consumer-group lag only for groups that commit offsets): the consumer-lag probe reads the checkpoint and the
  brokers every minute and publishes `ConsumerLagMessages` (functions.probes.consumer_lag).

All publish with CloudWatch's embedded metric format (EMF, one JSON log line per record), in the namespace
`Remedy/DataLake`, with exactly the dimensions the alarms of infra/signals.py name.

Declarations here are data only (like functions.playbooks): CDK reads them to build each probe's function,
role, log group and rule without importing the probe code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProbeDeclaration:
    name: str  # function name suffix: <prefix>-probe-<slug>
    handler: str  # module.function inside the Lambda asset
    description: str
    runbook_section: str
    in_vpc: bool = False  # runs in the catalog's `network` (reaches private endpoints: the MSK brokers)


PROBES: dict[str, ProbeDeclaration] = {
    "freshness": ProbeDeclaration(
        name="freshness",
        handler="functions.handlers.probe_freshness.handler",
        description="Age of the newest object under each landing prefix (LandingAgeMinutes) and failed staging "
                    "quality flags of the batch partitions read from it (QualityCheckFailures)",
        runbook_section="Monitoring / Key Metrics to Monitor 4: Data Freshness; Common Issues / Data Quality "
                        "Issues 1: check staging zone data quality flags",
    ),
    "glue_outcomes": ProbeDeclaration(
        name="glue_outcomes",
        handler="functions.handlers.probe_glue_outcomes.handler",
        description="Outcome of every Glue job run (GlueJobRunSucceeded / GlueJobRunFailed)",
        runbook_section="Monitoring / Key Metrics to Monitor 2: Glue Job Success Rate; Alarms: Glue job failures",
    ),
    "consumer_lag": ProbeDeclaration(
        name="consumer_lag",
        handler="functions.handlers.probe_consumer_lag.handler",
        description="Messages behind per streaming job from its Spark checkpoint (ConsumerLagMessages, "
                    "ConsumerLagUnmeasured)",
        runbook_section="Monitoring / Key Metrics to Monitor 1: MSK Consumer Lag; Alarms: consumer lag > 10,000",
        in_vpc=True,  # the brokers are private to the cluster's VPC
    ),
}

"""A composite alarm as data (CompositeSpec) and CloudWatch's limits on its rule: what infra.signals builds and
infra.outage tiers, kept below both so that the tiers do not import the signals that call them."""

from __future__ import annotations

from dataclasses import dataclass

# CloudWatch's limit on an AlarmRule. "k of N pipelines at once" has no count in the rule language (AND, OR,
# NOT): it is an OR over every k-subset of the pipelines, C(N, k) terms of k references (full ARNs, ~110
# characters each). At the default k = 2 that is N(N-1)/2 pairs: 8 pipelines make 28 pairs (~6,500
# characters), 10 are about the limit. Beyond, the same count is built in tiers of composites over groups of
# pipelines (infra/outage.py; docs/scale.md).
MAX_RULE_CHARACTERS = 10_240
MAX_RULE_ALARMS = 100  # alarms one composite rule may read (PutCompositeAlarm)


@dataclass(frozen=True)
class CompositeSpec:
    """ALARM when at least `at_least` of `alarms` are (1: any of them). With `suppressor`, its actions wait
    while that (composite) alarm is in ALARM."""

    name: str
    signal: str  # composite-<signal>
    component: str
    description: str
    alarms: tuple[str, ...]  # alarm names the rule reads (metric alarms, or composites created before it)
    pages: bool
    suppressor: str | None = None  # name of another CompositeSpec (created before this one)
    wait_seconds: int = 0
    extension_seconds: int = 0
    at_least: int = 1  # > 1: an OR over every combination of that many alarms (the rule language has no count)
    # When set, the rule is exactly this: an OR of ANDs of ALARM(name) (infra/outage.py's tiers); `alarms`
    # then lists every name the terms read.
    terms: tuple[tuple[str, ...], ...] = ()

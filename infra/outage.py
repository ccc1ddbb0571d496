"""The outage composite for many pipelines: "at least k pipelines faulty" in tiers of composite alarms.

CloudWatch's rule language has ALARM(), AND, OR, NOT and no count, so "k of N" written flat is an OR over every
k-subset: C(N, k) terms. At k = 2 that is 1,225 pairs at 50 pipelines and 19,900 at 200, far over the rule's
10,240 characters (PutCompositeAlarm). Counting in tiers keeps every rule small:

- the pipeline composites (infra/signals.py) are the leaves: each counts 0 or 1;
- leaves are grouped (at most `fan_out` per group), and each group gets one composite per j = 1..k,
  `<prefix>/composite-pipelines-down/tier1-<g>-at-least-<j>`, in ALARM while at least j of its members are;
- groups of groups likewise, until one node is left: its "at least k" is the outage composite itself, under the
  name EventBridge routes on (`<prefix>/composite-service-outage/pipelines`), paging as before.

A node's "at least j" is an OR over the ways j can be split among its children, each way an AND of "child i has
at least a_i" (a_i > 0): at k = 2, "one child has 2" or "two children have 1 each". The count is exact: the
outage composite is in ALARM exactly when k or more pipeline composites are, as the flat rule was, one
evaluation step later per tier (CloudWatch re-evaluates a composite when an alarm its rule reads changes state).

The fan-out is the largest that keeps every rule within MAX_RULE_CHARACTERS and MAX_RULE_ALARMS: at k = 2 about
nine children per group, so 200 pipelines take three tiers and about 53 composites.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from functions.core.catalog import Catalog
from functions.core.naming import OUTAGE_COMPONENT, OUTAGE_SIGNAL, alarm_name
from infra.composites import MAX_RULE_ALARMS, MAX_RULE_CHARACTERS, CompositeSpec

TIER_SIGNAL = "composite-pipelines-down"
MAX_FAN_OUT = 40
MARGIN = 64  # characters CDK's rendering may add around the terms (outer parentheses)
MAX_DESCRIPTION = 1024  # PutCompositeAlarm AlarmDescription


@dataclass(frozen=True)
class _Node:
    """A leaf (a pipeline composite) or a group: its "at least j" alarm names for j = 1..cap."""

    at_least: dict[int, str]
    pipelines: tuple[str, ...]

    @property
    def cap(self) -> int:
        return max(self.at_least)


def splits(target: int, caps: Sequence[int]) -> Iterator[tuple[int, ...]]:
    """Every (a_1..a_m) with 0 <= a_i <= caps[i] and sum a_i = target, in lexicographic order (highest first)."""
    if not caps:
        if target == 0:
            yield ()
        return
    rest = sum(caps[1:])
    for first in range(min(target, caps[0]), -1, -1):
        if target - first <= rest:
            for tail in splits(target - first, caps[1:]):
                yield (first, *tail)


def _terms(children: Sequence[_Node], j: int) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(child.at_least[a] for child, a in zip(children, split, strict=True) if a)
                 for split in splits(j, [c.cap for c in children]))


def rule_characters(catalog: Catalog, terms: Sequence[Sequence[str]]) -> int:
    """The rendered rule's length, ARNs in full (as CDK renders ALARM() of an alarm construct)."""
    def arn(name: str) -> str:
        return f"arn:aws:cloudwatch:{catalog.region}:{catalog.account_id}:alarm:{name}"

    return len(" OR ".join("(" + " AND ".join(f'ALARM("{arn(a)}")' for a in term) + ")" for term in terms))


def _chunks(nodes: list[_Node], fan_out: int) -> list[list[_Node]]:
    """Near-equal groups of at most fan_out, in order."""
    groups = -(-len(nodes) // fan_out)
    size, extra = divmod(len(nodes), groups)
    out, start = [], 0
    for g in range(groups):
        end = start + size + (1 if g < extra else 0)
        out.append(nodes[start:end])
        start = end
    return out


def _span(pipelines: Sequence[str]) -> str:
    return pipelines[0] if len(pipelines) == 1 else f"{pipelines[0]} .. {pipelines[-1]}"


def _build(catalog: Catalog, leaves: Sequence[CompositeSpec], k: int, fan_out: int) -> list[CompositeSpec]:
    nodes = [_Node({1: leaf.name}, (leaf.component,)) for leaf in leaves]
    specs: list[CompositeSpec] = []
    tier = 1
    while len(nodes) > fan_out:
        grouped = []
        for index, children in enumerate(_chunks(nodes, fan_out), start=1):
            pipelines = tuple(p for c in children for p in c.pipelines)
            at_least = {}
            for j in range(1, min(k, len(pipelines)) + 1):
                terms = _terms(children, j)
                name = alarm_name(catalog.prefix, TIER_SIGNAL, f"tier{tier}-{index:02d}-at-least-{j}")
                specs.append(CompositeSpec(
                    name=name, signal=TIER_SIGNAL, component=f"tier{tier}-{index:02d}-at-least-{j}",
                    description=(f"At least {j} of the {len(pipelines)} pipelines {_span(pipelines)} are faulty "
                                 f"(tier {tier} of the count behind {OUTAGE_SIGNAL}; infra/outage.py). No actions: "
                                 f"the outage composite pages. Runbook: Emergency Procedures / Service Outage")
                    [:MAX_DESCRIPTION],
                    alarms=tuple(dict.fromkeys(a for term in terms for a in term)), pages=False, terms=terms))
                at_least[j] = name
            grouped.append(_Node(at_least, pipelines))
        nodes = grouped
        tier += 1
    terms = _terms(nodes, k)
    everything = [p for n in nodes for p in n.pipelines]
    specs.append(CompositeSpec(
        name=alarm_name(catalog.prefix, OUTAGE_SIGNAL, OUTAGE_COMPONENT),
        signal=OUTAGE_SIGNAL,
        component=OUTAGE_COMPONENT,
        description=(f"The service is out: {k} or more of its {len(everything)} pipelines ({_span(everything)}) "
                     f"are faulty at once, counted in {tier} tiers of composites ({TIER_SIGNAL}). Starts the "
                     f"service-outage procedure (evidence, rollback of our own recorded changes after approval, "
                     f"escalation). Runbook: Emergency Procedures / Service Outage")[:MAX_DESCRIPTION],
        alarms=tuple(dict.fromkeys(a for term in terms for a in term)),
        pages=True,  # a person hears it at once, whether the procedure starts or not
        terms=terms,
    ))
    return specs


def fits(catalog: Catalog, spec: CompositeSpec) -> bool:
    return (rule_characters(catalog, spec.terms) <= MAX_RULE_CHARACTERS - MARGIN
            and len(spec.alarms) <= MAX_RULE_ALARMS)


def tiered_outage(catalog: Catalog, leaves: Sequence[CompositeSpec], k: int) -> list[CompositeSpec]:
    """The tier composites, then the outage composite (creation order: a rule reads only what exists)."""
    for fan_out in range(min(len(leaves), MAX_FAN_OUT), 1, -1):
        specs = _build(catalog, leaves, k, fan_out)
        if all(fits(catalog, s) for s in specs):
            return specs
    raise ValueError(f"thresholds.outage_pipelines {k}: no grouping of {len(leaves)} pipelines keeps every "
                     f"composite rule within {MAX_RULE_CHARACTERS:,} characters and {MAX_RULE_ALARMS} alarms")

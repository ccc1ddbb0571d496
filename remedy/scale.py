"""Synthetic catalogs of N pipelines, and what their synthesized templates ask of AWS's limits.

    synthetic_catalog(50)                    # config/dev.yaml's two pipelines, cloned to 50 (a dict as in YAML)
    write_synthetic_catalog(50, path)        # validated, written as YAML
    check_limits(templates)                  # every limit of LIMITS, measured; over() lists the breaches

A pipeline is what config/dev.yaml has twice: a topic (and its consumer group), the streaming job reading it,
the landing prefix it writes, the hourly batch job reading that prefix and the Redshift table it loads, joined
by lineage edges. Pipeline i copies the template's pipeline i mod 2 (orders: lag from the Spark checkpoint;
customers: lag from the consumer group's commits), renamed `p<i>-<name>`, so every kind of alarm the real
catalog has is multiplied, nothing else (one MSK cluster, one Redshift cluster, one bucket).

The limits are AWS's documented ones (docs/scale.md cites each): a number over a limit is a deployment that
fails, so `check_limits` is what `make bench` and tests/infra/test_scale.py assert.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_CATALOG = ROOT / "config" / "dev.yaml"


# --- the generator ------------------------------------------------------------------------------------------

def _template_pipelines(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The template catalog's pipelines: topic -> streaming job -> landing prefix -> batch job -> table."""
    found = []
    for topic in data["msk"]["topics"]:
        stream = next(j for j in data["glue_jobs"] if j.get("kind") == "streaming" and j.get("topic") == topic["name"])
        batch = next(j for j in data["glue_jobs"]
                     if j.get("kind") == "batch" and j.get("reads_prefix") == stream["writes_prefix"])
        schema, _, table = str(batch["loads_table"]).partition(".")
        found.append({
            "topic": topic,
            "group": next(g for g in data["msk"]["consumer_groups"] if g["topic"] == topic["name"]),
            "stream": stream, "batch": batch,
            "table": next(t for t in data["redshift"]["tables"] if t["schema"] == schema and t["name"] == table),
        })
    return found


def _renamed(value: Any, names: Mapping[str, str]) -> Any:
    """`value` (str, list, dict) with every whole-word occurrence of a template name replaced."""
    if isinstance(value, str):
        pattern = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        return re.sub(rf"(?<![\w-])({pattern})(?![\w-])", lambda m: names[m.group(1)], value)
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    return value


def _tagged(prefix: str, tag: str) -> str:
    """landing/orders/ -> landing/p007-orders/"""
    head, _, last = prefix.rstrip("/").rpartition("/")
    return f"{head}/{tag}-{last}/" if head else f"{tag}-{last}/"


def synthetic_catalog(pipelines: int, template: Path = TEMPLATE_CATALOG) -> dict[str, Any]:
    """The template catalog with its pipelines replaced by `pipelines` copies (at least 1). Everything else (MSK
    and Redshift clusters, bucket, guardrails, procedures, notifications) is the template's."""
    import yaml

    if pipelines < 1:
        raise ValueError(f"pipelines {pipelines}: at least one")
    data: dict[str, Any] = yaml.safe_load(template.read_text(encoding="utf-8"))
    patterns = _template_pipelines(data)
    if not patterns:
        raise ValueError(f"{template}: no pipeline (topic -> streaming job -> batch job -> table) to copy")
    cluster = data["msk"]["cluster_name"]
    topics, groups, jobs, tables, prefixes, lineage = [], [], [], [], [], []
    for i in range(pipelines):
        p = patterns[i % len(patterns)]
        tag = f"p{i:03d}"
        stream, batch = p["stream"], p["batch"]
        names = {p["topic"]["name"]: f"{tag}-{p['topic']['name']}", p["group"]["name"]: f"{tag}-{p['group']['name']}",
                 stream["name"]: f"{tag}-{stream['name']}", batch["name"]: f"{tag}-{batch['name']}",
                 p["table"]["name"]: f"{tag}_{p['table']['name']}"}
        if batch.get("trigger"):
            names[batch["trigger"]] = f"{tag}-{batch['trigger']}"
        landing, curated = stream["writes_prefix"], batch["writes_prefix"]
        new_landing, new_curated = _tagged(landing, tag), _tagged(curated, tag)
        topics.append({**p["topic"], "name": names[p["topic"]["name"]]})
        groups.append({"name": names[p["group"]["name"]], "topic": names[p["topic"]["name"]]})
        new_stream = _renamed(copy.deepcopy(stream), names)
        new_stream["writes_prefix"] = new_landing
        new_batch = _renamed(copy.deepcopy(batch), names)
        for old, new in ((stream, new_stream), (batch, new_batch)):  # the job's own role, by the job's name
            if old.get("role_name"):
                new["role_name"] = str(old["role_name"]).replace(old["name"], new["name"])
        new_batch.update(reads_prefix=new_landing, writes_prefix=new_curated,
                         loads_table=f"{p['table']['schema']}.{names[p['table']['name']]}")
        jobs += [new_stream, new_batch]
        tables.append({**copy.deepcopy(p["table"]), "name": names[p["table"]["name"]]})
        prefixes.append(new_landing)
        table = f"table:{p['table']['schema']}.{names[p['table']['name']]}"
        lineage += [
            {"upstream": f"msk:{cluster}", "downstream": f"topic:{names[p['topic']['name']]}"},
            {"upstream": f"topic:{names[p['topic']['name']]}", "downstream": f"glue:{new_stream['name']}"},
            {"upstream": f"glue:{new_stream['name']}", "downstream": f"s3:{new_landing}"},
            {"upstream": f"s3:{new_landing}", "downstream": f"glue:{new_batch['name']}"},
            {"upstream": f"glue:{new_batch['name']}", "downstream": table},
        ]
    data["msk"]["topics"], data["msk"]["consumer_groups"] = topics, groups
    data["glue_jobs"] = jobs
    data["redshift"]["tables"] = tables
    data["s3"]["landing_prefixes"] = prefixes
    data["lineage"] = lineage
    return data


def write_synthetic_catalog(pipelines: int, path: Path, template: Path = TEMPLATE_CATALOG) -> Path:
    """The synthetic catalog, validated as any catalog is (parse_catalog), written as YAML."""
    import yaml

    from functions.core.catalog import parse_catalog

    data = synthetic_catalog(pipelines, template)
    parse_catalog(data, f"synthetic catalog of {pipelines} pipelines")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# Synthetic catalog: {pipelines} pipelines cloned from {template.name} (remedy/scale.py)\n"
                    + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# --- AWS's limits, measured on synthesized templates ---------------------------------------------------------

@dataclass(frozen=True)
class Limit:
    name: str
    value: int
    unit: str
    source: str  # where AWS documents it


# Checked with the `search` tool, 2026-12 (docs/scale.md cites the pages).
CFN_RESOURCES = Limit("CloudFormation resources per stack", 500, "resources",
                      "CloudFormation User Guide, Quotas: Resources (500 resources)")
CFN_TEMPLATE_BYTES = Limit("CloudFormation template body in S3", 1_000_000, "bytes",
                           "CloudFormation User Guide, Quotas: Template body size in an Amazon S3 object (1 MB)")
CFN_OUTPUTS = Limit("CloudFormation outputs per template", 200, "outputs",
                    "CloudFormation User Guide, Quotas: Outputs (200 outputs)")
ALARM_RULE_CHARACTERS = Limit("CloudWatch composite alarm rule length", 10_240, "characters",
                              "CloudWatch API Reference, PutCompositeAlarm: AlarmRule, maximum length 10240")
ALARMS_PER_RULE = Limit("CloudWatch alarms in one composite rule", 100, "alarms",
                        "CloudWatch API Reference, PutCompositeAlarm: up to 100 underlying alarms")
COMPOSITES_PER_ALARM = Limit("CloudWatch composite rules one alarm is in", 150, "composites",
                             "CloudWatch API Reference, PutCompositeAlarm: an alarm in up to 150 composite alarms")
METRICS_PER_ALARM = Limit("CloudWatch metrics in one alarm's math", 10, "metrics",
                          "CloudWatch User Guide, alarms on metric math: up to 10 metrics")
DASHBOARD_WIDGETS = Limit("CloudWatch widgets per dashboard", 500, "widgets",
                          "CloudWatch API Reference, Dashboard Body Structure: 0 to 500 widget objects")
EVENT_PATTERN_CHARACTERS = Limit("EventBridge event pattern size", 2_048, "characters",
                                 "EventBridge User Guide, quotas: Event pattern size 2,048 (adjustable)")
LIMITS = (CFN_RESOURCES, CFN_TEMPLATE_BYTES, CFN_OUTPUTS, ALARM_RULE_CHARACTERS, ALARMS_PER_RULE,
          COMPOSITES_PER_ALARM, METRICS_PER_ALARM, DASHBOARD_WIDGETS, EVENT_PATTERN_CHARACTERS)


@dataclass(frozen=True)
class Measure:
    limit: Limit
    value: int
    where: str  # the stack / resource with the largest value

    @property
    def over(self) -> bool:
        return self.value > self.limit.value

    def __str__(self) -> str:
        return (f"{self.limit.name}: {self.value:,} of {self.limit.value:,} {self.limit.unit} ({self.where})"
                + (" OVER THE LIMIT" if self.over else ""))


class LimitExceeded(ValueError):
    """At least one synthesized resource is over an AWS limit: the deployment would fail."""

    def __init__(self, breaches: list[Measure]):
        self.breaches = breaches
        super().__init__("; ".join(str(b) for b in breaches))


_REF = re.compile(r'(?:ALARM|OK|INSUFFICIENT_DATA)\s*\(\s*"?([^")]+)"?\s*\)')


def _text(value: Any, arns: Mapping[str, str], unknown: int = 100) -> str:
    """An intrinsic-bearing string as deployed: Fn::Join joined, a GetAtt/Ref of an alarm by its ARN (CloudFormation
    resolves it before CloudWatch sees the rule), any other reference by `unknown` characters."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(p, arns, unknown) for p in parts)
    if isinstance(value, dict) and ("Fn::GetAtt" in value or "Ref" in value):
        ref = value["Fn::GetAtt"][0] if "Fn::GetAtt" in value else value["Ref"]
        return arns.get(str(ref), "x" * unknown)
    if isinstance(value, dict) and "Fn::Sub" in value:
        template = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return re.sub(r"\$\{[^}]+\}", "x" * 12, template)
    return json.dumps(value)


def _alarm_arns(template: Mapping[str, Any], region: str, account: str) -> dict[str, str]:
    return {logical: f"arn:aws:cloudwatch:{region}:{account}:alarm:{r['Properties']['AlarmName']}"
            for logical, r in template.get("Resources", {}).items()
            if r.get("Type", "").startswith("AWS::CloudWatch::") and r.get("Type", "").endswith("Alarm")
            and isinstance(r.get("Properties", {}).get("AlarmName"), str)}


def _resources(templates: Mapping[str, Mapping[str, Any]], kind: str) -> Iterable[tuple[str, str, dict[str, Any]]]:
    for stack, template in templates.items():
        for logical, resource in template.get("Resources", {}).items():
            if resource.get("Type") == kind:
                yield stack, logical, resource.get("Properties", {})


def _largest(limit: Limit, values: Iterable[tuple[int, str]]) -> Measure:
    value, where = max(values, default=(0, "none"))
    return Measure(limit, value, where)


def check_limits(templates: Mapping[str, Mapping[str, Any]], *, region: str = "eu-west-1",
                 account: str = "111111111111") -> list[Measure]:
    """The largest value of each limit's quantity over the templates (one stack each), with where it is."""
    arns = {stack: _alarm_arns(t, region, account) for stack, t in templates.items()}
    rules = [(stack, logical, _text(p.get("AlarmRule", ""), arns[stack]))
             for stack, logical, p in _resources(templates, "AWS::CloudWatch::CompositeAlarm")]
    memberships: dict[str, int] = {}
    for stack, _logical, p in _resources(templates, "AWS::CloudWatch::CompositeAlarm"):
        for ref in _references(p.get("AlarmRule", "")):  # by alarm name: a rule in another stack reads it by ARN
            name = arns[stack].get(ref, ref).rsplit(":alarm:", 1)[-1]
            memberships[name] = memberships.get(name, 0) + 1
    widgets = []
    for stack, logical, p in _resources(templates, "AWS::CloudWatch::Dashboard"):
        body = _text(p.get("DashboardBody", "{}"), {}, 12)
        try:
            count = len(json.loads(body).get("widgets", []))
        except json.JSONDecodeError:  # a token inside a string: count the widget objects by their type key
            count = body.count('"type":')
        widgets.append((count, f"{stack}/{logical}"))
    patterns = [(len(json.dumps(p["EventPattern"], separators=(",", ":"))), f"{stack}/{logical}")
                for stack, logical, p in _resources(templates, "AWS::Events::Rule") if p.get("EventPattern")]
    return [
        _largest(CFN_RESOURCES, ((len(t.get("Resources", {})), s) for s, t in templates.items())),
        _largest(CFN_TEMPLATE_BYTES, ((len(json.dumps(t, indent=1).encode()), s) for s, t in templates.items())),
        _largest(CFN_OUTPUTS, ((len(t.get("Outputs", {})), s) for s, t in templates.items())),
        _largest(ALARM_RULE_CHARACTERS, ((len(rule), f"{s}/{lg}") for s, lg, rule in rules)),
        _largest(ALARMS_PER_RULE, ((len(set(_references(r))), f"{s}/{lg}") for s, lg, r in
                                   ((s, lg, p.get("AlarmRule", "")) for s, lg, p in
                                    _resources(templates, "AWS::CloudWatch::CompositeAlarm")))),
        _largest(COMPOSITES_PER_ALARM, ((n, ref) for ref, n in memberships.items())),
        _largest(METRICS_PER_ALARM, ((sum(1 for m in p.get("Metrics", []) if "MetricStat" in m), f"{s}/{lg}")
                                     for s, lg, p in _resources(templates, "AWS::CloudWatch::Alarm"))),
        _largest(DASHBOARD_WIDGETS, widgets),
        _largest(EVENT_PATTERN_CHARACTERS, patterns),
    ]


def _references(rule: Any) -> list[str]:
    """The alarms a rule reads: logical ids of GetAtt'd alarms, or the names/ARNs written in the text."""
    if isinstance(rule, str):
        return [m.group(1).rsplit(":alarm:", 1)[-1] for m in _REF.finditer(rule)]
    if isinstance(rule, dict) and "Fn::Join" in rule:
        refs = []
        for part in rule["Fn::Join"][1]:
            if isinstance(part, dict) and "Fn::GetAtt" in part:
                refs.append(str(part["Fn::GetAtt"][0]))
            elif isinstance(part, str):
                refs += [m.group(1).rsplit(":alarm:", 1)[-1] for m in _REF.finditer(part) if m.group(1).strip()]
        return refs
    return []


def assert_within_limits(templates: Mapping[str, Mapping[str, Any]], **kwargs: Any) -> list[Measure]:
    """check_limits, raising LimitExceeded (naming each limit) when anything is over."""
    measures = check_limits(templates, **kwargs)
    breaches = [m for m in measures if m.over]
    if breaches:
        raise LimitExceeded(breaches)
    return measures


# --- the monthly bill of what monitors the pipelines --------------------------------------------------------

PRICES = ROOT / "bench" / "prices-2026-12.yaml"


def monthly_cost(templates: Mapping[str, Mapping[str, Any]], prices_path: Path = PRICES) -> dict[str, Any]:
    """Alarms (per metric they read), composites, dashboards and the probes' custom metrics and invocations,
    priced from the dated table in the repository (no pricing API offline). Free tiers are not subtracted: the
    account's other workloads use them."""
    import yaml

    prices = yaml.safe_load(prices_path.read_text(encoding="utf-8"))
    rate = prices["prices"]
    alarm_metrics = sum(max(1, sum(1 for m in p.get("Metrics", []) if "MetricStat" in m))
                        for _, _, p in _resources(templates, "AWS::CloudWatch::Alarm"))
    composites = sum(1 for _ in _resources(templates, "AWS::CloudWatch::CompositeAlarm"))
    dashboards = sum(1 for _ in _resources(templates, "AWS::CloudWatch::Dashboard"))
    # The probes publish one series per alarm metric in our namespace (lag, unmeasured, landing age, run
    # counts): the custom metrics are the distinct (namespace, name, dimensions) our alarms read.
    custom = set()
    for _, _, p in _resources(templates, "AWS::CloudWatch::Alarm"):
        for m in p.get("Metrics", [{"MetricStat": {"Metric": p}}] if "MetricName" in p else []):
            metric = m.get("MetricStat", {}).get("Metric")
            if metric and not str(metric.get("Namespace", "")).startswith("AWS/"):
                custom.add(json.dumps(metric, sort_keys=True))
    schedules = [p["ScheduleExpression"] for _, _, p in _resources(templates, "AWS::Events::Rule")
                 if str(p.get("ScheduleExpression", "")).startswith("rate(")]
    invocations = sum(_per_month(s) for s in schedules)
    lines = {
        "alarm metrics (standard resolution)": (alarm_metrics, rate["alarm_metric_month"]),
        "composite alarms": (composites, rate["composite_alarm_month"]),
        "dashboards": (dashboards, rate["dashboard_month"]),
        "custom metrics (the probes')": (len(custom), rate["custom_metric_month"]),
        "probe invocations (scheduled)": (invocations, rate["lambda_request"]),
    }
    items = {name: {"count": count, "unit_usd": unit, "usd": round(count * unit, 2)}
             for name, (count, unit) in lines.items()}
    return {"region": prices["region"], "prices_as_of": prices["as_of"], "source": prices["source"],
            "items": items, "total_usd": round(sum(i["usd"] for i in items.values()), 2)}


def _per_month(schedule: str) -> int:
    """rate(5 minutes) -> runs in a 30-day month."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", schedule)
    if not match:
        return 0
    minutes = {"minute": 1, "hour": 60, "day": 1440}[match.group(2).rstrip("s")] * int(match.group(1))
    return 30 * 24 * 60 // minutes


# --- `make bench`: the scale table ------------------------------------------------------------------------------

SIZES = (2, 50, 200)


def measure(pipelines: int, folder: Path) -> dict[str, Any]:
    """Synthesize a synthetic catalog of `pipelines` (timed) and measure it against LIMITS and the price table."""
    import time

    from functions.core.catalog import load_catalog
    from infra.template import synth_templates

    path = write_synthetic_catalog(pipelines, folder / f"synthetic-{pipelines}.yaml")
    catalog = load_catalog(path)
    began = time.perf_counter()
    templates = synth_templates(catalog.env, catalog_path=path)
    seconds = time.perf_counter() - began
    measures = check_limits(templates, region=catalog.region, account=catalog.account_id)
    kinds: dict[str, int] = {}
    for template in templates.values():
        for resource in template.get("Resources", {}).values():
            kinds[resource["Type"]] = kinds.get(resource["Type"], 0) + 1
    return {
        "pipelines": pipelines, "synth_seconds": round(seconds, 1), "stacks": len(templates),
        "resources": {s: len(t.get("Resources", {})) for s, t in templates.items()},
        "template_bytes": {s: len(json.dumps(t, indent=1).encode()) for s, t in templates.items()},
        "alarms": kinds.get("AWS::CloudWatch::Alarm", 0), "composites": kinds.get("AWS::CloudWatch::CompositeAlarm", 0),
        "dashboards": kinds.get("AWS::CloudWatch::Dashboard", 0),
        "limits": [{"limit": m.limit.name, "value": m.value, "max": m.limit.value, "unit": m.limit.unit,
                    "where": m.where, "within": not m.over, "source": m.limit.source} for m in measures],
        "within_limits": not any(m.over for m in measures),
        "monthly_cost": monthly_cost(templates),
    }


def scale_table(sizes: Iterable[int] = SIZES) -> list[dict[str, Any]]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        return [measure(n, Path(tmp)) for n in sizes]


def print_scale(console: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="scale: synthetic catalogs (config/dev.yaml's pipelines cloned) against AWS's limits")
    for column in ("limit", *(f"N = {r['pipelines']}" for r in rows), "AWS limit"):
        table.add_column(column)
    for i, limit in enumerate(rows[0]["limits"]):
        cells = [f"{r['limits'][i]['value']:,}" + ("" if r["limits"][i]["within"] else " [red]OVER[/red]")
                 for r in rows]
        table.add_row(limit["limit"], *cells, f"{limit['max']:,} {limit['unit']}")
    table.add_row("stacks", *(str(r["stacks"]) for r in rows), "")
    table.add_row("alarms / composites / dashboards",
                  *(f"{r['alarms']} / {r['composites']} / {r['dashboards']}" for r in rows), "")
    table.add_row("synth seconds", *(str(r["synth_seconds"]) for r in rows), "")
    cost = rows[0]["monthly_cost"]
    table.add_row(f"monthly USD ({cost['region']}, prices of {cost['prices_as_of']})",
                  *(f"{r['monthly_cost']['total_usd']:,.2f}" for r in rows), "")
    console.print(table)

"""`make figures`: the measured figures the docs quote, as one dated snapshot, never copied by hand.

Reads what the measuring commands wrote (neither is committed):

- `bench-results/bench.json` (`make bench`, remedy.bench): cold starts, API calls per playbook branch, state
  transitions per procedure execution, the alarm storm, asset size, game day time; it names its machine;
- `bench-results/storm.json` (`make bench`, remedy.storm): the storm across 50 synthetic pipelines;
- `bench-results/fault-matrix.json` (`make faults`, or `make bench`'s neighbour `remedy faults`);
- `gameday-report/report.json` (`make gameday`): which scenarios met their expected outcome.

and writes `docs/figures/snapshot.md` (committed; the docs include its sections with pymdownx.snippets) and
`docs/figures/snapshot.json` (the same figures for a program). Each section says when its source was written and on
which machine; a missing source is said to be missing, not filled in. Exit 1 when no source exists at all.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path("bench-results/bench.json")
FAULTS = Path("bench-results/fault-matrix.json")
GAMEDAY = Path("gameday-report/report.json")
RECOVERY = Path("bench-results/recovery.json")  # make bench (python -m remedy.bench recovery)
STORM = Path("bench-results/storm.json")  # make bench (python -m remedy.bench storm)
OUT = Path("docs/figures")


def this_machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _written(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(headers: list[str], rows: Iterable[Iterable[object]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def _section(name: str, lines: list[str]) -> list[str]:
    # Snippet section markers (pymdownx.snippets): a page includes `docs/figures/snapshot.md:<name>`.
    return [f"<!-- --8<-- [start:{name}] -->", *lines, f"<!-- --8<-- [end:{name}] -->", ""]


def _span(values: list[float], unit: str = "") -> str:
    return f"{min(values):g}{unit}" if min(values) == max(values) else f"{min(values):g} to {max(values):g}{unit}"


def bench_sections(bench: Mapping[str, Any], source: str) -> tuple[list[str], dict[str, Any]]:
    date = str(bench.get("date", "?"))
    machine = str(bench.get("machine", "?"))
    head = [f"Measured by `make bench` on {date} ({machine}); source `{source}`.", ""]
    starts = bench.get("cold_start", [])
    summary: dict[str, Any] = {"date": date, "machine": machine}
    lines: list[str] = []
    measured = [r for r in starts if r.get("meets_target") is not None and "first_call_ms" in r]
    unjudged = [r for r in starts if r not in measured]
    if starts and not measured:
        lines += ["Cold start figures of an older `make bench` (init + a refused event): run `make bench` again.", ""]
    elif measured:
        ratios = [r["ratio"] for r in measured]
        inits = [r["init_ratio"] for r in measured]
        met = sum(1 for r in measured if r["meets_target"])
        target = measured[0]["target"]
        summary["cold_start"] = {"functions": len(starts), "measured": len(measured),
                                 "ratio": [min(ratios), max(ratios)], "init_ratio": [min(inits), max(inits)],
                                 "meet_target": met, "target": target, "tracer": bench.get("tracer")}
        when = bench.get("cold_start_date", date)
        lines += [f"**Cold start** (measured {when}), median of fresh interpreters: init + one real event of the "
                  f"function's kind up to the answer to its first AWS call, against Powertools' minimal handler "
                  f"(Logger, Tracer, Metrics; EventBridge parser model; one boto3 call) with the same event: "
                  f"{_span(ratios, 'x')} the baseline (target ≤ {target}x: met by {met} of {len(measured)} "
                  f"functions); init alone {_span(inits, 'x')}.", ""]
        lines += _table(["function", "event", "to 1st AWS call ms", "baseline ms", "ratio", "init ms",
                         "baseline init ms", "1st AWS call"],
                        ([r["function"], r.get("event", ""), r["first_call_ms"], r["baseline_first_call_ms"],
                          r["ratio"], r["init_ms"], r["baseline_init_ms"], r["first_call"]] for r in measured))
        lines += [f"| {r['function']} | {r.get('event', '')} | {r.get('first_call_ms', '')} | "
                  f"{r.get('baseline_first_call_ms', '')} | not judged | {r.get('init_ms', '')} | "
                  f"{r.get('baseline_init_ms', '')} | {r['first_call']} |" for r in unjudged]
        lines.append("")
        tracer = bench.get("tracer")
        if tracer:
            lines += [f"Init of the functions' observability module (Powertools Logger and Metrics): "
                      f"{tracer['without_tracer_init_ms']} ms; with Powertools Tracer and the AWS X-Ray SDK it "
                      f"imports, as before issue 16: {tracer['with_tracer_init_ms']} ms.", ""]
    cold = _section("cold-start", head + lines)

    calls = bench.get("api_calls", [])
    by_branch: dict[tuple[str, str, str], list[int]] = {}
    for row in calls:
        by_branch.setdefault((row["function"], row["scenario"], row["status"]), []).append(row["api_calls"])
    call_lines = [*head, "**AWS API calls per playbook invocation** in the game day, counted by the sandbox "
                             "(S3 calls are not counted: moto's S3 bypasses the counter).", ""]
    call_lines += _table(["function", "scenario", "outcome", "invocations", "API calls"],
                         ([f, s, o, len(v), _span([float(x) for x in v])]
                          for (f, s, o), v in sorted(by_branch.items())))
    summary["api_calls"] = [{"function": f, "scenario": s, "outcome": o, "calls": v}
                            for (f, s, o), v in sorted(by_branch.items())]

    runs = bench.get("procedure_transitions", {}).get("executions", [])
    run_lines = [*head, "**State transitions per procedure execution** in the game day (Standard workflows are "
                            "priced per transition, $0.025 per 1,000): every state entered.", ""]
    run_lines += _table(["procedure", "scenario", "status", "transitions"],
                        ([r["procedure"], r["scenario"], r["status"], r["transitions"]]
                         for r in sorted(runs, key=lambda r: (r["procedure"], r["scenario"]))))
    summary["procedure_transitions"] = runs

    storm = bench.get("storm", {})
    other = head[:]
    if storm:
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(storm.get("outcomes", {}).items()))
        other.append(f"- **Alarm storm**: {storm['events']} events through the synthesized routing and the real "
                     f"handler, in process: {storm['events_per_second']} events/s ({storm['seconds']} s; {outcomes}).")
    for name, size in bench.get("asset_bytes", {}).items():
        other.append(f"- **Asset size**, {name}: {size / 1024:.0f} KiB (the Powertools and redshift-connector "
                     f"layers aside).")
    if "gameday_seconds" in bench:
        other.append(f"- **Game day**, every scenario in one sandbox: {bench['gameday_seconds']} s.")
    summary["storm"], summary["asset_bytes"] = storm, bench.get("asset_bytes", {})
    summary["gameday_seconds"] = bench.get("gameday_seconds")
    scale_lines, summary["scale"] = scale_section(bench, head)
    return (cold + _section("api-calls", [*call_lines, ""]) + _section("transitions", [*run_lines, ""])
            + _section("bench-other", [*other, ""]) + _section("scale", [*scale_lines, ""])), summary


def scale_section(bench: Mapping[str, Any], head: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The scale table of `make bench` (remedy/scale.py): each limit at N = 2, 50, 200 pipelines, the cost."""
    rows = bench.get("scale", [])
    if not rows:
        return [*head, "No scale figures yet: run `make bench` (or `python -m remedy.bench scale`)."], []
    when = bench.get("scale_date", bench.get("date", "?"))
    lines = [f"Measured by `make bench` on {when} ({bench.get('machine', '?')}): synthetic catalogs of "
             f"config/dev.yaml's pipelines cloned N times (remedy/scale.py), synthesized and measured against "
             f"AWS's limits.", ""]

    def cell(row: Mapping[str, Any], i: int) -> str:
        measured = row["limits"][i]
        return f"{measured['value']:,}" + ("" if measured["within"] else " **over**")

    lines += _table(["limit", *(f"N = {r['pipelines']}" for r in rows), "AWS limit"],
                    ([limit["limit"], *(cell(r, i) for r in rows), f"{limit['max']:,} {limit['unit']}"]
                     for i, limit in enumerate(rows[0]["limits"])))
    lines += ["| stacks | " + " | ".join(str(r["stacks"]) for r in rows) + " | |",
              "| alarms / composites / dashboards | " + " | ".join(
                  f"{r['alarms']} / {r['composites']} / {r['dashboards']}" for r in rows) + " | |",
              "| synth seconds | " + " | ".join(str(r["synth_seconds"]) for r in rows) + " | |"]
    cost = rows[0]["monthly_cost"]
    lines += ["| monthly USD | " + " | ".join(f"{r['monthly_cost']['total_usd']:,.2f}" for r in rows) + " | |", "",
              f"Monthly cost: alarm metrics, composite alarms, dashboards, the probes' custom metrics and scheduled "
              f"invocations, at {cost['region']} prices of {cost['prices_as_of']} ({cost['source']}; "
              f"bench/prices-2026-12.yaml), free tiers not subtracted."]
    return lines, [{"pipelines": r["pipelines"], "within_limits": r["within_limits"], "stacks": r["stacks"],
                    "synth_seconds": r["synth_seconds"], "monthly_usd": r["monthly_cost"]["total_usd"]} for r in rows]


def fault_sections(matrix: Mapping[str, Any], source: str, written: str) -> tuple[list[str], dict[str, Any]]:
    results = matrix.get("results", [])
    lost = [r for r in results if not r.get("survived")]
    units = sorted({r["unit"] for r in results})
    lines = [f"Written by `make faults` (`remedy faults`) at {written} (file time); source `{source}`.", ""]
    lines += _table(["calls", "faults", "cases", "survived", "units", "run time"],
                    [[matrix.get("calls"), len(matrix.get("faults", [])), len(results), matrix.get("survived"),
                      len(units), f"{matrix.get('seconds')} s"]])
    if lost:
        lines += ["", "Cases that did not survive:", ""]
        lines += _table(["unit", "call", "fault", "outcome"],
                        ([r["unit"], r["call"], r["fault"], r.get("outcome", "")] for r in lost))
    summary = {"written": written, "calls": matrix.get("calls"), "cases": len(results),
               "survived": matrix.get("survived"), "seconds": matrix.get("seconds"),
               "not_survived": [{k: r.get(k) for k in ("unit", "call", "fault", "outcome")} for r in lost]}
    return _section("fault-matrix", [*lines, ""]), summary


def _why_not(scenario: Mapping[str, Any]) -> str:
    """A missed scenario's error, or the first expectation it did not meet (one line, shortened)."""
    if scenario.get("passed"):
        return ""
    error = scenario.get("error")
    failed = [step.get("text", "") for step in scenario.get("steps", []) if step.get("ok") is False]
    text = str(error).splitlines()[0] if error else (f"expected: {failed[0]}" if failed else "")
    return text if len(text) <= 160 else text[:157] + "..."


def known_scenarios() -> int | None:
    """How many scenarios the game day has, to tell a partial report from a whole one (None: cannot tell)."""
    try:
        from remedy.gameday import registry

        return len(registry.all_scenarios())
    except Exception:  # the registry cannot load (a scenario module mid-edit): say nothing about coverage
        return None


def gameday_sections(report: Mapping[str, Any], source: str) -> tuple[list[str], dict[str, Any]]:
    scenarios = report.get("scenarios", [])
    missed = [s for s in scenarios if not s.get("passed")]
    seconds = [float(s.get("seconds") or 0) for s in scenarios]
    lines = [f"Game day report of {report.get('generated_at', '?')} (env {report.get('env', '?')}); source "
             f"`{source}`: **{len(scenarios) - len(missed)} of {len(scenarios)} scenarios met their expected "
             f"outcome**, {sum(seconds):.0f} s of scenario time"
             + (f" (median {statistics.median(seconds):.1f} s)." if seconds else "."), ""]
    known = known_scenarios()
    if known is not None and known != len(scenarios):
        lines += [f"This report is a partial run: the game day has {known} scenarios, this run {len(scenarios)} "
                  f"(`remedy gameday --scenario …`). Run `make gameday` for all of them.", ""]
    lines += _table(["scenario", "runbook", "met", "seconds", "why not"],
                    ([s["name"], s.get("runbook", ""), "yes" if s.get("passed") else "**no**", s.get("seconds", ""),
                      _why_not(s)] for s in scenarios))
    summary = {"generated_at": report.get("generated_at"), "scenarios": len(scenarios), "known": known,
               "met": len(scenarios) - len(missed),
               "missed": [{"name": s["name"], "error": s.get("error")} for s in missed]}
    return _section("gameday", [*lines, ""]), summary


def recovery_section(recovery: Mapping[str, Any], source: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The recovery table of `make bench` (remedy.recovery): model-driven faults, with and without the service."""
    from remedy.recovery import markdown

    rows = list(recovery.get("recovery", []))
    head = (f"Measured by `make bench` on {recovery.get('date', '?')} ({recovery.get('machine', '?')}); "
            f"source `{source}`.")
    return _section("recovery", [markdown(rows, head), ""]), rows


def storm_section(storm: Mapping[str, Any], source: str) -> tuple[list[str], dict[str, Any]]:
    """The fleet storm of `make bench` (remedy.storm): N synthetic pipelines failing at once in the sandbox."""
    from remedy.storm import markdown

    head = (f"Measured by `make bench` on {storm.get('date', '?')} ({storm.get('machine', '?')}); "
            f"source `{source}`.")
    keys = ("pipelines", "incidents_total", "remediations", "holds_correct", "holds_expected", "events_per_second",
            "api_calls_per_incident", "fleet_budget_per_hour", "passed", "seconds")
    return _section("fleet-storm", [markdown(dict(storm), head), ""]), {k: storm.get(k) for k in keys}


def _absent(names: tuple[str, ...], source: Path, command: str) -> list[str]:
    """The sections a missing source would have written, saying so (the docs include them by name)."""
    return [line for name in names
            for line in _section(name, [f"Not measured in this snapshot: `{source}` did not exist (`{command}`).", ""])]


def snapshot(root: Path = ROOT, now: datetime | None = None) -> tuple[str, dict[str, Any], list[str]]:
    """The snapshot's Markdown and JSON, and the sources that were missing."""
    now = now or datetime.now(UTC)
    missing: list[str] = []
    md = [f"<!-- Written by `make figures` (python -m remedy.figures) on {now:%Y-%m-%d %H:%M} UTC. "
          f"Do not edit by hand: run the measurements again and regenerate. -->", ""]
    md += _section("header", [f"Snapshot of {now:%Y-%m-%d %H:%M} UTC, written by `make figures` on "
                              f"{this_machine()}. Each section names its source, when it was measured and, where "
                              f"the source records it, the machine.", ""])
    data: dict[str, Any] = {"snapshot": now.isoformat(timespec="seconds"), "machine": this_machine()}
    if (root / BENCH).is_file():
        lines, data["bench"] = bench_sections(json.loads((root / BENCH).read_text(encoding="utf-8")), str(BENCH))
        md += lines
    else:
        missing.append(f"{BENCH} (make bench)")
        md += _absent(("cold-start", "api-calls", "transitions", "bench-other"), BENCH, "make bench")
    if (root / FAULTS).is_file():
        lines, data["fault_matrix"] = fault_sections(json.loads((root / FAULTS).read_text(encoding="utf-8")),
                                                     str(FAULTS), _written(root / FAULTS))
        md += lines
    else:
        missing.append(f"{FAULTS} (make faults)")
        md += _absent(("fault-matrix",), FAULTS, "make faults")
    if (root / GAMEDAY).is_file():
        lines, data["gameday"] = gameday_sections(json.loads((root / GAMEDAY).read_text(encoding="utf-8")),
                                                  str(GAMEDAY))
        md += lines
    else:
        missing.append(f"{GAMEDAY} (make gameday)")
        md += _absent(("gameday",), GAMEDAY, "make gameday")
    if (root / RECOVERY).is_file():
        lines, data["recovery"] = recovery_section(json.loads((root / RECOVERY).read_text(encoding="utf-8")),
                                                   str(RECOVERY))
        md += lines
    else:
        md += _absent(("recovery",), RECOVERY, "make bench")
    if (root / STORM).is_file():
        lines, data["fleet_storm"] = storm_section(json.loads((root / STORM).read_text(encoding="utf-8")),
                                                   str(STORM))
        md += lines
    else:
        md += _absent(("fleet-storm",), STORM, "make bench")
    return "\n".join(md).rstrip() + "\n", data, missing


def main(argv: list[str] | None = None) -> int:
    root = Path(argv[0]).resolve() if argv else ROOT
    text, data, missing = snapshot(root)
    if len(missing) == 3:
        print("remedy.figures: nothing measured yet: run make bench, make faults and make gameday first",
              file=sys.stderr)
        return 1
    out = root / OUT
    out.mkdir(parents=True, exist_ok=True)
    (out / "snapshot.md").write_text(text, encoding="utf-8")
    (out / "snapshot.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT / 'snapshot.md'} and {OUT / 'snapshot.json'}"
          + (f"; missing: {', '.join(missing)}" if missing else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The recovery table of `make bench` (issue 16, "Time"): each model-driven game day scenario's figures in simulated
minutes, with the service and with it switched off (the page, then a person `RESPONSE_MINUTES` later: assumed).

    python -m remedy.bench recovery     # this part alone: bench-results/recovery.json and recovery.md
"""

from __future__ import annotations

from typing import Any

from remedy.gameday.timeline import RESPONSE_MINUTES

SCENARIOS = ("lake-job-crash", "lake-peak-burst", "lake-job-oom", "lake-s3-access-lost", "lake-broker-offline",
             "lake-stale-stats", "lake-corrupted-partition")
HEADERS = ["scenario", "service", "detect", "first action", "recover", "floor to detect", "peak lag",
           "watched (peak)", "stalest landing", "oldest unlanded", "steps"]


def recovery_rows(sandbox: Any, names: tuple[str, ...] = SCENARIOS) -> list[dict[str, Any]]:
    """Run each scenario (both timelines) on `sandbox`, reset before each; one row per timeline."""
    from remedy.gameday.drill import Drill
    from remedy.gameday.registry import select

    rows = []
    for item in select(list(names)):
        sandbox.reset()
        drill = Drill(sandbox)
        item.run(drill)
        for timeline in getattr(drill, "timelines", []):
            f = timeline.figures
            rows.append({"scenario": item.name, "service": "on" if timeline.service else
                         f"off (person at page + {timeline.response_minutes} min, assumed)",
                         "passed": drill.passed, "metric": timeline.metric, "recovery": timeline.recovery,
                         **{k: v for k, v in vars(f).items()}})
    return rows


def _cell(value: Any) -> str:
    return "—" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for r in rows:
        floor = r.get("floor", {})
        floor_text = "—" if r.get("floor_detect") is None else (
            f"{r['floor_detect']} (crossed at {floor.get('threshold_crossed')} + {floor.get('alarm')})")
        detect = _cell(r.get("detect")) + (f" ({r['detected_by']})" if r.get("detected_by") else "")
        # A scenario that watches another metric than the lag (remedy.gameday.batch): its peak and what it is.
        watched = "—" if r.get("peak") is None else f"{r['peak']:g} ({r.get('metric', '?')})"
        out.append([r["scenario"], r["service"], detect, _cell(r.get("first_action")), _cell(r.get("recover")),
                    floor_text, _cell(r.get("peak_lag")), watched, f"{r.get('stalest_landing', 0):g} min",
                    f"{r.get('oldest_unlanded', 0):g} min", "<br>".join(r.get("steps", [])) or "—"])
    return out


def markdown(rows: list[dict[str, Any]], head: str = "") -> str:
    lines = [head, ""] if head else []
    lines += ["Minutes after the fault (simulated). Recover: the runbook's levels held from then on (lag under "
              "10,000, landing fresher than 60 min, the job reading; for the batch side, the watched metric's own "
              "level: Redshift CPU at most 80 %, every loaded partition passing its quality check). Floor to "
              "detect: the minute the watched metric crossed the threshold plus the alarm's M of N x period (no "
              "further latency documented by AWS for EMF metrics; none drawn when no alarm measures the metric). "
              f"Service off: the alarm pages, a person acts {RESPONSE_MINUTES} min later (assumed). "
              "— : never within the run.", ""]
    lines.append("| " + " | ".join(HEADERS) + " |")
    lines.append("|" + "---|" * len(HEADERS))
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in table_rows(rows)]
    return "\n".join(lines) + "\n"


def print_recovery(console: Any, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title="recovery (simulated minutes after the fault)")
    for header in HEADERS:
        table.add_column(header)
    for row in table_rows(rows):
        table.add_row(*[c.replace("<br>", "\n") for c in row])
    console.print(table)

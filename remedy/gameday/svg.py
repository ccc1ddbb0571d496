"""A model-driven scenario's timeline as inline SVG (no network, no script): the watched metric (the consumer lag,
or another a `Watch` names: Redshift CPU, failed quality checks) against its threshold, the alarm's states as bands
under it, the fault, the actions (the service's or the person's) and the recovery marked."""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH, HEIGHT = 720, 230
LEFT, RIGHT, TOP, PLOT = 64, 12, 14, 150  # plot area: x from LEFT to WIDTH - RIGHT, y from TOP to TOP + PLOT
BAND = 14  # the alarm state band under the plot
COLOURS = {"OK": "#d1fadf", "ALARM": "#fecdca", "INSUFFICIENT_DATA": "#eaecf0"}
MARKS = {"fault": "#b42318", "action": "#1570ef", "person": "#7a5af8", "recovered": "#17803d"}


def _watched(point: dict[str, Any]) -> float:
    value = point.get("value")
    return float(point["lag"] if value is None else value)


def timeline_svg(timeline: dict[str, Any]) -> str:
    points = timeline["points"]
    if not points:
        return ""
    last = points[-1]["minute"]
    metric = timeline.get("metric", "consumer lag (messages)")
    top = max(*(_watched(p) for p in points), timeline["threshold"] * 1.5, 1.0)

    def x(minute: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * minute / max(last, 1)

    def y(value: float) -> float:
        return TOP + PLOT - PLOT * value / top

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
           f'aria-label="{escape(timeline["scenario"])}: {escape(_subject(metric, timeline))} by minute" '
           f'style="font:11px system-ui,sans-serif">']
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" height="{PLOT}" fill="#fff" '
               f'stroke="#d0d5dd"/>')
    for share in (0.0, 0.5, 1.0):
        value = top * share
        out.append(f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{value:,.0f}</text>')
    # Alarm states as bands, one rectangle per run of equal states.
    band_y = TOP + PLOT + 4
    start = 0
    for i, point in enumerate([*points, {"alarm": None, "minute": last}]):
        if i and point["alarm"] != points[start]["alarm"]:
            state = points[start]["alarm"]
            x0 = x(points[start]["minute"] - 1)
            x1 = x(points[i - 1]["minute"])
            out.append(f'<rect x="{x0:.1f}" y="{band_y}" width="{max(x1 - x0, 1):.1f}" height="{BAND}" '
                       f'fill="{COLOURS.get(state, "#eaecf0")}"><title>{escape(str(state))}</title></rect>')
            out.append(f'<text x="{x0 + 3:.1f}" y="{band_y + 11}">{escape(str(state))}</text>')
            start = i
    out.append(f'<text x="{LEFT - 4}" y="{band_y + 11}" text-anchor="end">alarm</text>')
    # The threshold and the lag.
    threshold = timeline["threshold"]
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
               f'stroke="#b42318" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{WIDTH - RIGHT - 2}" y="{y(threshold) - 3:.1f}" text-anchor="end" fill="#b42318">'
               f'threshold {threshold:,.0f}</text>')
    path = " ".join(f'{"M" if i == 0 else "L"}{x(p["minute"]):.1f},{y(_watched(p)):.1f}'
                    for i, p in enumerate(points))
    out.append(f'<path d="{path}" fill="none" stroke="#101828" stroke-width="1.5"/>')
    # Fault, actions, recovery.
    for n, mark in enumerate(m for m in timeline["marks"] if m["kind"] in MARKS):
        colour = MARKS[mark["kind"]]
        mx = x(mark["minute"])
        out.append(f'<line x1="{mx:.1f}" x2="{mx:.1f}" y1="{TOP}" y2="{TOP + PLOT}" stroke="{colour}" '
                   f'stroke-width="1.5"><title>{escape(mark["text"])}</title></line>')
        label = {"fault": "fault", "action": "action", "person": "person", "recovered": "recovered"}[mark["kind"]]
        out.append(f'<text x="{mx + 3:.1f}" y="{TOP + 12 + 12 * (n % 3)}" fill="{colour}">{label} '
                   f'(min {mark["minute"]})</text>')
    axis = TOP + PLOT + BAND + 22
    for minute in range(0, last + 1, max(10, (last // 6) // 10 * 10 or 10)):
        out.append(f'<text x="{x(minute):.1f}" y="{axis}" text-anchor="middle">{minute}</text>')
    out.append(f'<text x="{LEFT}" y="{axis + 14}">{escape(metric)}</text>')
    out.append(f'<text x="{WIDTH - RIGHT}" y="{axis + 14}" text-anchor="end">simulated minutes</text>')
    out.append("</svg>")
    return "".join(out)


def _subject(metric: str, timeline: dict[str, Any]) -> str:
    return f"consumer lag of {timeline['job']}" if metric.startswith("consumer lag") else metric

"""Runbook: MSK Consumer Lag High, driven by the lake model: the fault is a cause (a job crash, a producer burst),
the lag and the landing data follow from it minute by minute, and the figures are measured (remedy.gameday.timeline).

Each scenario runs the fault twice on a fresh account: with the service, then with the service off (the page and
a person following the runbook `RESPONSE_MINUTES` later, an assumption). Both timelines go into the report.
"""

from __future__ import annotations

from remedy.gameday.drill import Drill
from remedy.gameday.registry import scenario
from remedy.gameday.timeline import RESPONSE_MINUTES, Fault, Timeline, burst, crash, run_timeline

SECTION = "Common Issues / MSK Consumer Lag High (lake model)"
JOB = "orders-stream"
SLACK_MINUTES = 2  # detection may trail its floor by the alarm evaluation's alignment to the minute


def _both(d: Drill, name: str, fault: Fault, **kwargs: object) -> tuple[Timeline, Timeline]:
    """The fault with the service, then on a fresh account without it. Both timelines are kept on the drill."""
    on = run_timeline(d, name, JOB, fault, service=True, **kwargs)  # type: ignore[arg-type]
    d.sandbox.reset()
    off_drill = Drill(d.sandbox, on_step=d.on_step)
    off = run_timeline(off_drill, name, JOB, fault, service=False, **kwargs)  # type: ignore[arg-type]
    d.steps.extend(off_drill.steps)
    timelines = getattr(d, "timelines", [])
    timelines.extend([on, off])
    d.timelines = timelines  # type: ignore[attr-defined]
    return on, off


@scenario("lake-job-crash", "Lake model: the orders stream crashes; detected by its alarm, restarted, the backlog "
                            "drained (with and without the service)", SECTION)
def lake_job_crash(d: Drill) -> None:
    on, off = _both(d, "lake-job-crash", crash("Lost executors: connection to broker b-1 reset", JOB))
    f, g = on.figures, off.figures
    assert f is not None and g is not None
    d.expect("detected within the minute: Glue's FAILED event reached the Glue failure playbook (no alarm window)",
             f.detected_by == "event" and f.detect == 0, f"detected by {f.detected_by} at {f.detect}")
    d.expect("without the service, the lag alarm went to ALARM from the model's lag within its floor + "
             f"{SLACK_MINUTES} min", g.detect is not None and g.floor_detect is not None
             and g.detect <= g.floor_detect + SLACK_MINUTES, f"detect {g.detect}, floor {g.floor_detect}")
    d.expect("the service acted (a restart) and the lake recovered: lag under the threshold, landing fresh",
             f.first_action is not None and f.recover is not None and any("restart" in s for s in f.steps),
             "; ".join(f.steps))
    d.expect(f"without the service, nothing happens before the page + {RESPONSE_MINUTES} min (assumed response)",
             g.first_action is not None and g.detect is not None
             and g.first_action >= g.detect + RESPONSE_MINUTES, f"person at {g.first_action}, page at {g.detect}")
    d.expect("the service recovers sooner than a person following the runbook",
             f.recover is not None and (g.recover is None or f.recover < g.recover),
             f"{f.recover} vs {g.recover} min")


@scenario("lake-peak-burst", "Lake model: peak trading, producers at 5x for 40 min; the stream is scaled up by the "
                             "catalog's step (with and without the service)", SECTION)
def lake_peak_burst(d: Drill) -> None:
    on, off = _both(d, "lake-peak-burst", burst("orders", 5.0, 40), max_minutes=180)
    f, g = on.figures, off.figures
    assert f is not None and g is not None
    d.expect("the lag alarm went to ALARM within its floor + "
             f"{SLACK_MINUTES} min", f.detect is not None and f.floor_detect is not None
             and f.detect <= f.floor_detect + SLACK_MINUTES, f"detect {f.detect}, floor {f.floor_detect}")
    d.expect("the service scaled the running job up (more workers drain faster)",
             any("scale" in s for s in f.steps), "; ".join(f.steps) or "no action")
    d.expect("the lake recovered with the service, sooner than with a person",
             f.recover is not None and (g.recover is None or f.recover < g.recover), f"{f.recover} vs {g.recover}")

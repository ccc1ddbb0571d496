"""The sandbox's clock: wall time plus an offset that scenarios and tests move forward, never back.

AWS finishes its asynchronous operations (a Glue stop, an MSK broker update, a Redshift resize or table
restore) some time after the call that started them. The sandbox does the same on this clock, not on the
number of calls: each gap fill records when the operation started (`now()`) and, whenever the state is read,
reports what AWS would report at that moment (`elapsed(since) >= DURATIONS[...]`).

Time moves forward by
- `advance(seconds)`: a scenario or a test lets time pass (remedy.gameday.drill.Drill.advance does);
- a state machine's Wait state (sandbox.stepfunctions): it waits on this clock instead of sleeping;
- a function that waits (the Lambda runtime's clock, `install_function_clock`): functions.core's SystemClock
  reads and sleeps on this clock in the sandbox, the way the sandbox also supplies the Lambda context.

Nothing here sleeps for real: a rehearsal of an hour-long resize takes milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# How long AWS takes, in seconds of this clock. Each value follows what AWS documents, or, where AWS gives no
# figure, a deliberately slow typical value (the point is that the product must wait or poll, not the exact
# number); the source is named beside it. Tests and scenarios may change an entry (see `durations`).
DURATIONS: dict[str, float] = {
    # Glue BatchStopJobRun: the run is STOPPING, then STOPPED. "It might take up to a minute for all running
    # jobs and crawlers to stop" (AWS Glue Developer Guide, "Stopping a workflow run"); a streaming job also
    # finishes its current micro-batch first. A STOPPING run still counts against MaxConcurrentRuns.
    "glue.stop": 60.0,
    # MSK UpdateBrokerCount: the cluster is UPDATING until the new brokers are in. AWS documents no figure;
    # its API reference example polls DescribeClusterOperation every 15 s until UPDATE_COMPLETE. Adding
    # brokers provisions instances and storage per zone: 20 minutes here.
    "kafka.update_broker_count": 20 * 60.0,
    # Redshift ResizeCluster (elastic): ClusterStatus "resizing" until the resize is done ("Elastic resize
    # ... typically completes in 10-15 minutes", Amazon Redshift Management Guide, "Resizing a cluster").
    "redshift.resize": 15 * 60.0,
    # Redshift RestoreTableFromClusterSnapshot: DescribeTableRestoreStatus answers PENDING, then IN_PROGRESS,
    # then SUCCEEDED (API reference, TableRestoreStatus.Status). No figure is documented; it depends on the
    # table's size: queued for 30 s, done after 5 minutes here.
    "redshift.restore_table.pending": 30.0,
    "redshift.restore_table": 5 * 60.0,
}
_DEFAULTS = dict(DURATIONS)

_LOCK = threading.Lock()
_offset = timedelta(0)
# Called after time moved forward (advance): whoever waits for a moment on this clock (a task's heartbeat window,
# sandbox.stepfunctions) looks again, instead of polling the clock.
_ADVANCED: list[Callable[[], None]] = []


def on_advance(listener: Callable[[], None]) -> None:
    """Call `listener` whenever this clock is moved forward (once per listener)."""
    if listener not in _ADVANCED:
        _ADVANCED.append(listener)


def now() -> datetime:
    """The sandbox's 'now' (UTC)."""
    return datetime.now(UTC) + _offset


def offset() -> timedelta:
    return _offset


def reset() -> None:
    """A new, empty account (Sandbox.reset): its time starts again at the wall clock, durations as documented.
    Never called while anything of the old account lives on: within an account the clock only goes forward."""
    global _offset
    with _LOCK:
        _offset = timedelta(0)
    reset_durations()


def restore_offset(saved: timedelta) -> None:
    """A checkpoint put back (sandbox.checkpoint): the account's time is again what it was when the checkpoint was
    taken (plus the wall time since), as its resources are. Like `reset`, only for a whole account at once."""
    global _offset
    with _LOCK:
        _offset = saved


def advance(seconds: float) -> datetime:
    """Let `seconds` of sandbox time pass (never backwards); the new 'now'."""
    global _offset
    if seconds < 0:
        raise ValueError("the sandbox's clock does not go back")
    with _LOCK:
        _offset += timedelta(seconds=seconds)
    for listener in list(_ADVANCED):
        listener()
    return now()


def advance_to(at: datetime) -> datetime:
    """Let time pass until `at` (nothing happens when `at` is not in the future)."""
    gap = (at - now()).total_seconds()
    return advance(gap) if gap > 0 else now()


def elapsed(since: datetime) -> float:
    """Seconds of sandbox time since `since`."""
    return (now() - since).total_seconds()


def done(since: datetime | None, operation: str) -> bool:
    """Whether an operation started at `since` has finished by now (DURATIONS[operation])."""
    return since is not None and elapsed(since) >= DURATIONS[operation]


def durations(**seconds: float) -> None:
    """Change how long operations take (keys as in DURATIONS with '.' written '__'); `reset_durations` undoes."""
    for key, value in seconds.items():
        name = key.replace("__", ".")
        if name not in DURATIONS:
            raise KeyError(f"no duration {name!r}: one of {sorted(DURATIONS)}")
        DURATIONS[name] = float(value)


def reset_durations() -> None:
    DURATIONS.clear()
    DURATIONS.update(_DEFAULTS)


_INSTALLED = False


def install_function_clock() -> None:
    """The functions' wall clock (functions.core.adapters.clock.SystemClock) reads and sleeps on this clock: in the
    sandbox a function that waits for AWS lets sandbox time pass instead of sleeping, and judges 'now' as the
    emulated account does. Production code is not touched otherwise: it never asks where it runs."""
    global _INSTALLED
    if _INSTALLED:
        return
    from functions.core.adapters.clock import SystemClock

    def system_now(self: object) -> datetime:
        return now()

    def system_sleep(self: object, seconds: float) -> None:
        advance(max(seconds, 0.0))

    SystemClock.now = system_now  # type: ignore[method-assign]
    SystemClock.sleep = system_sleep  # type: ignore[method-assign]
    _INSTALLED = True

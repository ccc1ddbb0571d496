"""Lambda's asynchronous invocation in the sandbox: `Invoke` with InvocationType=Event, SNS → Lambda, Slack's
lazy listeners (they invoke their own function again with Event).

What AWS documents (Lambda developer guide, "How Lambda handles errors and retries with asynchronous
invocation", and the Invoke API reference): the caller gets 202 at once with no payload; the event waits in
the function's asynchronous queue and runs later, independently of the caller; a function error is retried
twice by default (MaximumRetryAttempts of its EventInvokeConfig), then the event goes to the on-failure
destination. Here: the event is queued, a worker thread runs it through Sandbox.invoke_async (retries and
on-failure destination as the templates configure them). The worker takes the sandbox's function lock, so an
event queued by a running function runs after that function has returned, as on Lambda where the caller is
never blocked by the event it queued. Lambda's waits between retries (one, then two minutes) are not slept.

    submit(sandbox, spec, event)   # what Invoke(Event) and SNS do
    drain(sandbox)                 # tests, game day: wait until every queued event has run; what ran
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Queued:
    request_id: str
    spec: Any
    event: dict[str, Any]


@dataclass
class AsyncQueue:
    """One sandbox's asynchronous invocations: waiting, running, finished (Invocation records, in order)."""

    waiting: deque[Queued] = field(default_factory=deque)
    finished: list[Any] = field(default_factory=list)
    running: int = 0
    generation: int = 0  # bumped by clear(): a worker finishing an event of a reset account drops its record
    condition: threading.Condition = field(default_factory=threading.Condition)
    worker: threading.Thread | None = None


_QUEUES: dict[int, AsyncQueue] = {}
_QUEUES_LOCK = threading.Lock()


def _queue(sandbox: Any) -> AsyncQueue:
    with _QUEUES_LOCK:
        return _QUEUES.setdefault(id(sandbox), AsyncQueue())


def submit(sandbox: Any, spec: Any, event: dict[str, Any]) -> str:
    """Queue one event for `spec` (a deployed function); returns the request id Lambda would answer with."""
    queue = _queue(sandbox)
    item = Queued(str(uuid.uuid4()), spec, event)
    with queue.condition:
        queue.waiting.append(item)
        if queue.worker is None or not queue.worker.is_alive():
            queue.worker = threading.Thread(target=_work, args=(sandbox, queue), daemon=True,
                                            name=f"lambda-async-{id(sandbox)}")
            queue.worker.start()
        queue.condition.notify_all()
    return item.request_id


def _work(sandbox: Any, queue: AsyncQueue) -> None:
    while True:
        with queue.condition:
            if not queue.waiting:
                queue.worker = None
                queue.condition.notify_all()
                return
            item = queue.waiting.popleft()
            queue.running += 1
            generation = queue.generation
        try:
            invocation = sandbox.invoke_async(item.spec, item.event)  # retries, then the on-failure destination
        except Exception as error:  # the sandbox itself failed (not the function): recorded, never lost silently
            invocation = {"function": item.spec.name, "error": f"{type(error).__name__}: {error}"}
        with queue.condition:
            queue.running -= 1
            if generation == queue.generation:
                queue.finished.append(invocation)
            queue.condition.notify_all()


def drain(sandbox: Any, timeout: float = 120.0) -> list[Any]:
    """Wait until nothing is queued or running (events queued while draining included); the invocations that
    finished since the last drain, oldest first. TimeoutError if the queue does not empty in `timeout` s."""
    queue = _queue(sandbox)
    with queue.condition:
        if not queue.condition.wait_for(lambda: not queue.waiting and queue.running == 0, timeout=timeout):
            raise TimeoutError(f"asynchronous invocations still queued after {timeout:.0f} s: "
                               f"{[q.spec.name for q in queue.waiting]}")
        done, queue.finished = queue.finished, []
        return done


def clear(sandbox: Any) -> None:
    """A reset account: events still waiting belong to the account that is gone."""
    queue = _queue(sandbox)
    with queue.condition:
        queue.waiting.clear()
        queue.finished = []
        queue.generation += 1

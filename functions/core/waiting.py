"""Waiting for AWS inside one invocation: on the function's clock, and never past the time the invocation has.

AWS finishes some calls later than it answers them (Glue BatchStopJobRun answers at once, the run is
STOPPING for a while). An action that needs the result polls through a `Budget`: the invocation's clock and the
moment it must stop waiting (the Lambda's remaining time less a margin for recording and reporting). What
does not finish within the budget is left to the playbook's scheduled checks, never assumed done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from functions.core.ports import Clock, WaitBudget

T = TypeVar("T")

# What an invocation keeps for itself after waiting: audit records, the notification, the verification.
MARGIN_SECONDS = 15.0


@dataclass
class Budget:
    clock: Clock
    until: datetime | None = None  # None: this invocation does not wait at all

    @classmethod
    def for_invocation(cls, clock: Clock, remaining_ms: int | None) -> Budget:
        """The budget of an invocation with `remaining_ms` left (Lambda's context), `MARGIN_SECONDS` kept back."""
        if not remaining_ms:
            return cls(clock)
        return cls(clock, clock.now() + timedelta(milliseconds=remaining_ms) - timedelta(seconds=MARGIN_SECONDS))

    def left(self) -> float:
        if self.until is None:
            return 0.0
        return max((self.until - self.clock.now()).total_seconds(), 0.0)

    def pause(self, seconds: float) -> bool:
        """Wait `seconds` on the clock when the budget allows it; False, without waiting, when it does not."""
        if seconds > self.left():
            return False
        self.clock.sleep(seconds)
        return True


def poll(budget: WaitBudget, interval: float, check: Callable[[], T | None]) -> T | None:
    """`check()` until it answers (not None) or the budget is spent; None when it never answered."""
    while True:
        answer = check()
        if answer is not None:
            return answer
        if not budget.pause(interval):
            return None

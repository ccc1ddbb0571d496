"""DynamoDB: an item's read and write are each one step, as in AWS, when requests arrive at the same time.

AWS (Developer Guide, "Optimistic locking with version number"): a conditional PutItem, UpdateItem or
DeleteItem checks its condition and writes the item as one operation; of two writers conditional on the version
they read, one succeeds and, the item having been modified in the meantime, the other gets
ConditionalCheckFailedException. moto 5.2 checks the condition, then
writes, in Python with no lock: two requests answered in two threads at once (the sandbox's server answers
each request in a thread of its own, and a process answers its own requests in the calling thread) can both
pass the check and both write. The product depends on it: the fleet budget and the breakers are versioned
items claimed by concurrent incidents (functions/core/safety.py claim_fleet_unit); with moto's answer both
claims of the last unit won (tests/integration/test_safety_store.py, seen once in a full run).

Here every item operation the product calls runs under one lock per process: a write is whole before the next
read or write of any item begins (a read never sees half an UpdateItem either). That serializes more than AWS
does (which isolates per item), which changes no answer, only how concurrently the emulator works.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from sandbox.gaps import Fill

_DOC = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/BestPractices_OptimisticLocking.html"
_WHAT = "runs under one lock: the condition is checked and the item written as one step (moto: two requests " \
        "at once can both pass the check)"
OPERATIONS: dict[str, Fill] = {
    "dynamodb:PutItem": Fill("behaviour", _WHAT, _DOC),
    "dynamodb:UpdateItem": Fill("behaviour", _WHAT, _DOC),
    "dynamodb:DeleteItem": Fill("behaviour", _WHAT, _DOC),
    "dynamodb:GetItem": Fill("behaviour", "runs under the writers' lock: never sees an item half updated",
                             "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                             "HowItWorks.ReadConsistency.html"),
    "dynamodb:Query": Fill("behaviour", "runs under the writers' lock: never sees an item half updated",
                           "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/"
                           "HowItWorks.ReadConsistency.html"),
}
# The backend method behind each operation above.
METHODS = ("put_item", "update_item", "delete_item", "get_item", "query")

# Reentrant: a backend method that calls another (a put through update) takes it again in the same thread.
_ITEM_LOCK = threading.RLock()
_INSTALLED = False


def _serialized(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def under_lock(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _ITEM_LOCK:
            return original(self, *args, **kwargs)

    under_lock.__module__ = __name__  # the gap-fill checks find it by the module that installed it
    return under_lock


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.dynamodb.models import DynamoDBBackend

    for name in METHODS:
        setattr(DynamoDBBackend, name, _serialized(getattr(DynamoDBBackend, name)))
    _INSTALLED = True

"""The safety store (functions.core.adapters.safety) on the sandbox's DynamoDB, the breaker table as deployed:
two incidents claiming the last unit of the fleet budget at the same moment; snoozes and freezes kept."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from functions.core.adapters.safety import DynamoSafety
from functions.core.safety import (
    VerifiedIdentity,
    cancel_snooze,
    claim_fleet_unit,
    fleet_entry,
    freeze_in_force,
    freeze_now,
    hands_off,
    snooze,
    snoozes,
)
from infra import names
from sandbox.core import Sandbox

ALICE = VerifiedIdentity(principal="arn:aws:sts::111111111111:assumed-role/OnCall/alice", via="iam")


def store(sandbox: Sandbox) -> DynamoSafety:
    return DynamoSafety(sandbox.client, names.breaker_table(sandbox.catalog))


def test_of_two_incidents_claiming_the_last_unit_exactly_one_wins(sandbox: Sandbox) -> None:
    safety, now = store(sandbox), datetime.now(UTC)
    assert claim_fleet_unit(safety, 2, fleet_entry("glue:orders-stream", "p", "first", now), now) is None
    # Both read the budget (one unit left) before either writes: the conditional write decides.
    both_read = threading.Barrier(2)
    results: dict[str, str | None] = {}

    class Racing(DynamoSafety):
        first_read = threading.local()

        def load_fleet(self) -> tuple[int, list[dict[str, str]]]:
            loaded = super().load_fleet()
            if not getattr(self.first_read, "done", False):
                self.first_read.done = True
                both_read.wait(timeout=10)
            return loaded

    racing = Racing(sandbox.client, names.breaker_table(sandbox.catalog))

    def claim(incident: str, target: str) -> None:
        results[incident] = claim_fleet_unit(racing, 2, fleet_entry(target, "p", incident, now), now)

    threads = [threading.Thread(target=claim, args=(f"incident-{i}", f"glue:job-{i}")) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [i for i, refusal in results.items() if refusal is None]
    losers = [refusal for refusal in results.values() if refusal is not None]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].startswith("fleet budget spent: 2 of 2 actions in the last hour")
    version, entries = safety.load_fleet()
    assert sorted(e["incident"] for e in entries) == sorted(["first", winners[0]]) and version == 2


def test_a_snooze_is_kept_found_and_cancelled(sandbox: Sandbox) -> None:
    safety, now = store(sandbox), datetime.now(UTC)
    snooze(safety, sandbox.catalog, "orders-stream", timedelta(hours=2), "backfill", ALICE, now)

    rule, reason = hands_off(sandbox.catalog, safety, "glue:orders-stream", now) or ("", "")
    assert rule == "snooze" and f"by {ALICE.principal} (backfill)" in reason
    assert hands_off(sandbox.catalog, safety, "glue:orders-stream", now + timedelta(hours=2)) is None
    item = sandbox.client("dynamodb").get_item(TableName=names.breaker_table(sandbox.catalog),
                                               Key={"target": {"S": "snooze:glue:orders-stream"}})["Item"]
    assert int(item["purge_at"]["N"]) > (now + timedelta(hours=2)).timestamp()  # TTL cleans up after the end
    assert [s.resource for s in snoozes(safety, now)] == ["glue:orders-stream"]
    cancel_snooze(safety, sandbox.catalog, "glue:orders-stream", ALICE, now)
    assert hands_off(sandbox.catalog, safety, "glue:orders-stream", now) is None


def test_an_ad_hoc_freeze_is_in_force_until_it_ends(sandbox: Sandbox) -> None:
    safety, now = store(sandbox), datetime.now(UTC)
    freeze_now(safety, timedelta(hours=6), "peak", ALICE, now)

    assert "change freeze ad-hoc until" in (freeze_in_force(sandbox.catalog, safety, now) or "")
    assert freeze_in_force(sandbox.catalog, safety, now + timedelta(hours=6)) is None

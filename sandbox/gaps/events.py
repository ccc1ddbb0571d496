"""EventBridge: TestEventPattern, which moto 5.2 does not answer, with moto's own pattern matcher (the one its
rules route events with, so a pattern that tests true here also routes here)."""

from __future__ import annotations

import json
from typing import Any

from sandbox.gaps import Fill

OPERATIONS: dict[str, Fill] = {
    "events:TestEventPattern": Fill("missing", "matches the event against the pattern with moto's rule matcher",
                                    "https://docs.aws.amazon.com/eventbridge/latest/APIReference/"
                                    "API_TestEventPattern.html"),
}


def install() -> None:
    _fill_test_event_pattern()


def _fill_test_event_pattern() -> None:
    from moto.events import models, responses

    def test_event_pattern(self: Any) -> tuple[str, dict[str, str]]:
        pattern = models.EventPattern.load(self._get_param("EventPattern"))
        event = json.loads(self._get_param("Event"))
        return json.dumps({"Result": pattern.matches_event(event)}), self.response_headers

    responses.EventsHandler.test_event_pattern = test_event_pattern

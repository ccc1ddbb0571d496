"""Lambda: playbook example_issue (the skeleton of a handler: docs/extending.md). Thin: parse, run the playbook,
report.

Only the observability module loads at init: the runtime, the playbook and their pydantic models load on
the first event (cold start), then stay loaded for the container's life."""

from functools import cache
from typing import Any

from functions.core.observability import observed


@cache
def playbook() -> Any:
    from functions.playbooks._skeleton import ExampleIssue

    return ExampleIssue()


@observed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from functions.core import runtime  # deferred to the first event (module docstring)

    return runtime.handle(event, playbook(), context)

"""`remedy dlq list | show ID | redrive [ID | --all]`: the unhandled-events queue (<prefix>-unhandled-events),
what waits in it and why, and its replay.

Two kinds of message reach the queue, and each says where its event should have gone:

- Lambda's on-failure destination (a playbook, probe or job failed after its asynchronous retries): the body is
  Lambda's invocation record, `requestContext.functionArn` the function, `requestPayload` the event,
  `responsePayload.errorMessage` the last error.
- EventBridge's (and EventBridge Scheduler's) dead-letter queue of a rule target (the event could not be
  delivered): the body is the event itself, the message attributes RULE_ARN (SCHEDULE_ARN), TARGET_ARN,
  ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS (EventBridge User Guide, "Using
  dead-letter queues to process undelivered events").

`redrive` sends the original event to that function again, synchronously (RequestResponse, so the command
knows whether it was handled), and deletes the message only after the function returned without an error;
otherwise the message stays in the queue (visible again at once) and the error is printed. Nothing is lost:
a message is never deleted before its replay succeeded. A replayed alarm event is handled as the first
delivery would have been (the playbook's idempotency record is only kept for events that were handled).

`list` and `show` hide nothing for long: they receive the messages with a visibility timeout and make them
visible again at once, so the queue's alarm and other readers still see them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from remedy.commands.incident import Clients, IncidentError, _boto, _catalog, _fail, _run

dlq_app = typer.Typer(no_args_is_help=True, help="The unhandled-events queue: list, show and replay what failed.")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

PEEK_SECONDS = 30  # how long a listed message is hidden while the rest are read (made visible again after)
REDRIVE_SECONDS = 180  # hidden while replayed: longer than a playbook's 60 s, so no one else replays it meanwhile


# -- the operations (in-process API) ------------------------------------------------------------------------

def _queue_url(clients: Clients, catalog: Any) -> str:
    from botocore.exceptions import ClientError

    from infra.names import failure_queue

    try:
        return str(clients("sqs").get_queue_url(QueueName=failure_queue(catalog))["QueueUrl"])
    except ClientError as error:
        if error.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise IncidentError(f"no queue {failure_queue(catalog)}: is the remediation stack deployed?") from None
        raise


def _receive_all(clients: Clients, url: str, hide_seconds: int) -> list[dict[str, Any]]:
    """Every message of the queue, each received once (hidden for `hide_seconds` so the next call gets others)."""
    sqs = clients("sqs")
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=hide_seconds,
                                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            return found
        seen |= {m["MessageId"] for m in fresh}
        found += fresh


def _release(clients: Clients, url: str, messages: list[dict[str, Any]]) -> None:
    """Visible again now (what was only looked at, or failed again)."""
    for message in messages:
        clients("sqs").change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                 VisibilityTimeout=0)


def describe(message: dict[str, Any]) -> dict[str, Any]:
    """What one queue message is: where its event should have gone, why it did not, the event."""
    attributes = {k: v.get("StringValue", "") for k, v in (message.get("MessageAttributes") or {}).items()}
    sent = message.get("Attributes", {}).get("SentTimestamp")
    try:
        body = json.loads(message.get("Body") or "{}")
    except ValueError:
        body = {"unparsed": message.get("Body", "")}
    base = {"id": message["MessageId"], "sent_at": _iso_ms(sent),
            "receive_count": int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0) or 0)}
    if isinstance(body, dict) and "requestContext" in body and "requestPayload" in body:
        context, response = body["requestContext"], body.get("responsePayload") or {}
        return {**base, "source": "lambda on-failure", "target": context.get("functionArn", ""), "rule": "",
                "error": str(response.get("errorMessage") or response.get("errorType") or context.get("condition")),
                "condition": context.get("condition", ""), "attempts": context.get("approximateInvokeCount", 0),
                "event": body["requestPayload"]}
    return {**base, "source": "eventbridge dlq" if "RULE_ARN" in attributes else "scheduler dlq",
            "target": attributes.get("TARGET_ARN", ""), "rule": attributes.get("RULE_ARN") or
            attributes.get("SCHEDULE_ARN", ""),
            "error": f"{attributes.get('ERROR_CODE', '?')}: {attributes.get('ERROR_MESSAGE', '')}".rstrip(": "),
            "condition": attributes.get("EXHAUSTED_RETRY_CONDITION", ""),
            "attempts": int(attributes.get("RETRY_ATTEMPTS", "0") or 0), "event": body}


def _iso_ms(value: Any) -> str:
    from datetime import UTC, datetime

    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return ""


def what(event: Any) -> str:
    """The event in a few words: which alarm, job run or schedule."""
    if not isinstance(event, dict):
        return type(event).__name__
    detail: dict[str, Any] = event["detail"] if isinstance(event.get("detail"), dict) else {}
    if "alarmName" in detail:
        return f"{detail['alarmName']} -> {(detail.get('state') or {}).get('value', '?')}"
    if "jobName" in detail:
        return f"Glue {detail['jobName']} {detail.get('state', '')}".strip()
    if event.get("detail-type") == "Scheduled Event":
        return f"schedule {','.join(str(r).rsplit('/', 1)[-1] for r in event.get('resources', []))}"
    if "job" in event:
        return f"job {event['job']}"
    return str(event.get("detail-type") or ", ".join(list(event)[:4]))[:80]


def list_messages(clients: Clients, catalog: Any) -> list[dict[str, Any]]:
    url = _queue_url(clients, catalog)
    messages = _receive_all(clients, url, PEEK_SECONDS)
    _release(clients, url, messages)
    return sorted((describe(m) for m in messages), key=lambda d: (d["sent_at"], d["id"]))


def _find(items: list[dict[str, Any]], ident: str) -> list[dict[str, Any]]:
    matching = [m for m in items if m["MessageId"].startswith(ident)] if ident else []
    if len(matching) > 1:
        raise IncidentError(f"{ident!r} names {len(matching)} messages: give more of the id")
    return matching


def show(clients: Clients, catalog: Any, ident: str) -> dict[str, Any]:
    url = _queue_url(clients, catalog)
    messages = _receive_all(clients, url, PEEK_SECONDS)
    try:
        found = _find(messages, ident)
    finally:
        _release(clients, url, messages)
    if not found:
        raise IncidentError(f"no message {ident!r} in the unhandled-events queue (see remedy dlq list)")
    return describe(found[0])


def redrive(clients: Clients, catalog: Any, ident: str | None = None) -> list[dict[str, Any]]:
    """Replay one message (`ident`, an id or its prefix) or all of them: each event to its function, the message
    deleted once the function handled it, kept otherwise. One result per message."""
    url = _queue_url(clients, catalog)
    messages = _receive_all(clients, url, REDRIVE_SECONDS)
    chosen = messages if ident is None else _find(messages, ident)
    _release(clients, url, [m for m in messages if m not in chosen])  # not ours to replay now
    if ident is not None and not chosen:
        raise IncidentError(f"no message {ident!r} in the unhandled-events queue (see remedy dlq list)")
    return [_replay(clients, url, message) for message in chosen]


def _replay(clients: Clients, url: str, message: dict[str, Any]) -> dict[str, Any]:
    item = describe(message)
    result = {"id": item["id"], "what": what(item["event"]), "target": item["target"]}
    if ":function:" not in item["target"]:
        _release(clients, url, [message])
        return {**result, "replayed": False, "kept": True, "detail": f"no function to replay to ({item['target']!r})"}
    from botocore.exceptions import ClientError

    try:
        response = clients("lambda").invoke(FunctionName=item["target"], InvocationType="RequestResponse",
                                            Payload=json.dumps(item["event"]).encode())
    except ClientError as error:
        _release(clients, url, [message])
        return {**result, "replayed": False, "kept": True,
                "detail": f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}"}
    raw = response["Payload"].read() if hasattr(response.get("Payload"), "read") else response.get("Payload")
    try:
        payload = json.loads(raw or b"null")
    except ValueError:
        payload = None
    if response.get("FunctionError"):
        _release(clients, url, [message])  # failed again: kept, visible, and the alarm stays
        failure = payload if isinstance(payload, dict) else {}
        detail = f"failed again: {failure.get('errorType', 'error')}: {failure.get('errorMessage', '')}"
        return {**result, "replayed": False, "kept": True, "detail": detail[:300]}
    clients("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    answer = payload if isinstance(payload, dict) else {}
    return {**result, "replayed": True, "kept": False, "status": answer.get("status", ""),
            "detail": str(answer.get("summary") or answer.get("reason") or answer.get("status") or "handled")[:300]}


# -- the commands -------------------------------------------------------------------------------------------

EnvOption = Annotated[str, typer.Option("--env", help="Catalog to use: config/<env>.yaml")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output on stdout")]


@dlq_app.command("list")
def list_command(env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """What waits in the unhandled-events queue: when, for which function, why."""
    catalog = _catalog(env)
    items = _run(lambda: list_messages(_boto(catalog), catalog))
    if as_json:
        print(json.dumps(items, indent=2, default=str))
        return
    if not items:
        out.print("the unhandled-events queue is empty", highlight=False)
        return
    table = Table(show_edge=False, pad_edge=False)
    for column in ("id", "sent", "function", "event", "error"):
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(item["id"][:8], item["sent_at"], item["target"].rsplit(":", 1)[-1], what(item["event"]),
                      item["error"][:120])
    out.print(table)
    out.print(f"{len(items)} message(s): remedy dlq show ID   remedy dlq redrive ID | --all", highlight=False)


@dlq_app.command("show")
def show_command(ident: Annotated[str, typer.Argument(help="Message id (or its first characters)")],
                 env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """One message: where its event should have gone, the error, the event itself."""
    catalog = _catalog(env)
    item = _run(lambda: show(_boto(catalog), catalog, ident))
    if as_json:
        print(json.dumps(item, indent=2, default=str))
        return
    for key in ("id", "sent_at", "source", "target", "rule", "condition", "attempts", "error"):
        if item.get(key) not in ("", None):
            out.print(f"{key:<10} {item[key]}", highlight=False, markup=False)
    out.print("event", highlight=False)
    out.print(json.dumps(item["event"], indent=2, default=str), highlight=False, markup=False)


@dlq_app.command("redrive")
def redrive_command(ident: Annotated[str | None, typer.Argument(help="Message id (or its first characters)")] = None,
                    replay_all: Annotated[bool, typer.Option("--all", help="Replay every message")] = False,
                    env: EnvOption = "dev", as_json: JsonOption = False) -> None:
    """Send each event to its function again; delete the message only once it was handled."""
    if (ident is None) == (not replay_all):
        raise _fail("redrive ID or redrive --all (one of the two)")
    catalog = _catalog(env)
    results = _run(lambda: redrive(_boto(catalog), catalog, ident))
    if as_json:
        print(json.dumps(results, indent=2, default=str))
    else:
        for r in results:
            verdict = "replayed, removed from the queue" if r["replayed"] else "NOT handled, kept in the queue"
            out.print(f"{r['id'][:8]}  {r['what']}  -> {r['target'].rsplit(':', 1)[-1]}: {verdict}\n    {r['detail']}",
                      highlight=False, markup=False)
        if not results:
            out.print("the unhandled-events queue is empty: nothing to replay", highlight=False)
    if any(not r["replayed"] for r in results):
        raise typer.Exit(1)

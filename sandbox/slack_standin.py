"""A stand-in for Slack on loopback: the Web API methods the Slack app calls, recorded, and signed interactions.

The Slack function reaches Slack through slack_sdk's WebClient, whose base URL is configuration (SLACK_API_URL,
the sandbox adds it to every function's environment like the Kafka stand-in's ENV): here it is this server.
It answers as Slack's Web API documents (POST https://slack.com/api/<method>, `Authorization: Bearer <token>`,
JSON or form body, always HTTP 200 with {"ok": true, …} or {"ok": false, "error": "…"}):

- auth.test (Bolt's single-workspace authorization): team and bot user of the token, or invalid_auth;
- chat.postMessage: a new message in the channel (ts), or a reply when thread_ts is given; channel_not_found for
  another channel; Block Kit limits (50 blocks, a section's text ≤ 3000) refused as invalid_blocks;
- chat.update: the message at (channel, ts) redrawn, message_not_found otherwise;
- chat.postEphemeral: a message only `user` sees.

Every call is recorded (`calls`, `messages`): tests and the game day read what a person would have seen.
`interaction()` builds what Slack sends when someone clicks a button: a block_actions payload, form-encoded, with
`x-slack-request-timestamp` and `x-slack-signature` = v0=HMAC-SHA256(signing secret, "v0:<ts>:<body>") (Slack's
"Verifying requests from Slack"); a forgery is the same with another secret, a replay the same with an old ts.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the sandbox's app (never a real workspace's)
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"
BOT_USER = "U0REMEDYBOT"


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    updates: int = 0
    history: list[list[dict[str, Any]]] = field(default_factory=list)  # earlier versions' blocks


class SlackStandIn:
    def __init__(self, team_id: str, channel_id: str, token: str = BOT_TOKEN):
        self.team_id, self.channel_id, self.token = team_id, channel_id, token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[str, Message] = {}  # by ts
        self.ephemeral: list[dict[str, Any]] = []
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="slack-standin").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.calls, self.messages, self.ephemeral = [], {}, []

    def top_level(self) -> list[Message]:
        return [m for m in self.messages.values() if m.thread_ts is None]

    def replies(self, ts: str) -> list[Message]:
        return [m for m in self.messages.values() if m.thread_ts == ts]

    # -- the Web API ---------------------------------------------------------------------------------------------

    def call(self, method: str, token: str, args: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append((method, args))
            if token != self.token:
                return {"ok": False, "error": "invalid_auth"}
            answer = getattr(self, "_" + method.replace(".", "_"), None)
            return answer(args) if answer else {"ok": False, "error": "unknown_method"}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://remedy-sandbox.slack.com/", "team": "remedy sandbox",
                "team_id": self.team_id, "user": "remedy", "user_id": BOT_USER, "bot_id": "B0REMEDYBOT",
                "is_enterprise_install": False}

    def _blocks(self, args: dict[str, Any]) -> list[dict[str, Any]] | str:
        blocks = args.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        too_long = [b for b in blocks if b.get("type") == "section" and len(b["text"]["text"]) > 3000]
        if len(blocks) > 50 or too_long:
            return "invalid_blocks"
        return list(blocks)

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel") != self.channel_id:
            return {"ok": False, "error": "channel_not_found"}
        blocks = self._blocks(args)
        if isinstance(blocks, str):
            return {"ok": False, "error": blocks}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = Message(self.channel_id, ts, str(args.get("text") or ""), blocks, args.get("thread_ts"))
        self.messages[ts] = message
        return {"ok": True, "channel": self.channel_id, "ts": ts,
                "message": {"type": "message", "text": message.text, "ts": ts, "bot_id": "B0REMEDYBOT"}}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.messages.get(str(args.get("ts")))
        if message is None or message.channel != args.get("channel"):
            return {"ok": False, "error": "message_not_found"}
        blocks = self._blocks(args)
        if isinstance(blocks, str):
            return {"ok": False, "error": blocks}
        message.history.append(message.blocks)
        message.blocks, message.text, message.updates = blocks, str(args.get("text") or ""), message.updates + 1
        return {"ok": True, "channel": message.channel, "ts": message.ts, "text": message.text}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel") != self.channel_id:
            return {"ok": False, "error": "channel_not_found"}
        self.ephemeral.append({"user": args.get("user"), "text": args.get("text")})
        return {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}

    # -- what Slack sends --------------------------------------------------------------------------------------

    def interaction(self, message: Message, action_id: str, user_id: str, reason: str = "",
                    secret: str = SIGNING_SECRET, timestamp: int | None = None,
                    user_name: str = "on-call") -> tuple[dict[str, str], bytes]:
        """Headers and body of the block_actions request a click on `action_id` in `message` makes."""
        button = next(e for b in message.blocks if b.get("type") == "actions" for e in b["elements"]
                      if e.get("action_id") == action_id)
        action_ts = f"{time.time():.6f}"
        payload = {
            "type": "block_actions", "api_app_id": "A0REMEDYAPP", "token": "deprecated-verification-token",
            "trigger_id": f"{next(self._ts)}.trigger",
            "team": {"id": self.team_id, "domain": "remedy-sandbox"},
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": self.team_id},
            "channel": {"id": message.channel, "name": "on-call"},
            "container": {"type": "message", "message_ts": message.ts, "channel_id": message.channel,
                          "is_ephemeral": False},
            "message": {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
            "state": {"values": {"remedy_reason": {"reason": {"type": "plain_text_input", "value": reason or None}}}},
            "response_url": "https://hooks.slack.com/actions/T0/1/x",
            "actions": [{"type": "button", "action_id": action_id, "block_id": "remedy_answer",
                         "value": button["value"], "text": button["text"], "action_ts": action_ts}],
        }
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return sign(body, secret, timestamp), body


def sign(body: bytes, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": "application/x-www-form-urlencoded", "x-slack-request-timestamp": stamp,
            "x-slack-signature": f"v0={digest}", "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    """What Slack does with the request: POST it to the app's Request URL."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _handler(standin: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            if (self.headers.get("content-type") or "").startswith("application/json"):
                args = json.loads(raw or "{}")
            else:
                args = dict(parse_qsl(raw))
            token = (self.headers.get("authorization") or "").removeprefix("Bearer ").strip() or args.pop("token", "")
            method = self.path.rsplit("/", 1)[-1]
            body = json.dumps(standin.call(method, token, args)).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


# -- the sandbox's wiring -----------------------------------------------------------------------------------------

_STANDIN: SlackStandIn | None = None


def standin(catalog: Any) -> SlackStandIn | None:
    """The process's stand-in for the catalog's workspace (None: the catalog has no Slack section)."""
    global _STANDIN
    slack = catalog.notifications.slack
    if slack is None:
        return None
    if _STANDIN is None or (_STANDIN.team_id, _STANDIN.channel_id) != (slack.team_id, slack.channel_id):
        _STANDIN = SlackStandIn(slack.team_id, slack.channel_id)
    return _STANDIN


def seed(catalog: Any, account: Any) -> None:
    """The secrets a person creates before deploying (docs/slack.md): the stand-in's signing secret and token."""
    slack = catalog.notifications.slack
    if slack is None:
        return
    secrets = account.client("secretsmanager")
    for name, value in ((slack.signing_secret, SIGNING_SECRET), (slack.bot_token, BOT_TOKEN)):
        secrets.create_secret(Name=name, SecretString=value, Description="Slack app (sandbox stand-in)")


def environment(catalog: Any) -> dict[str, str]:
    """What the sandbox adds to every function's environment: Slack's Web API is the stand-in."""
    found = standin(catalog)
    return {"SLACK_API_URL": found.url} if found is not None else {}

"""`listenpost serve`: the HTTP endpoint for Slack's interactivity (the alert buttons), or Socket Mode.

Every HTTP request must carry a valid Slack signature (HMAC-SHA256 of the raw body with the
signing secret), be at most five minutes old and not have been seen before.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from alerts.escalation import Outcome, apply_action
from monitor.config import Settings, require_secret
from monitor.errors import ListenpostError
from monitor.records import utcnow
from monitor.store import Store

log = logging.getLogger(__name__)

WINDOW = 300  # seconds a signed request stays valid, as Slack recommends
MAX_BODY = 256 * 1024
ACTION_PREFIX = "listenpost_"


class RequestRejected(ListenpostError):
    """An interactivity request that is forged, stale, replayed or malformed."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> str:
    """Check Slack's signature headers; returns the signature (for replay detection)."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        raise RequestRejected("missing Slack signature headers", 401)
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise RequestRejected("malformed X-Slack-Request-Timestamp", 401) from None
    if age > WINDOW:
        raise RequestRejected("request timestamp outside the five-minute window", 401)
    expected = signature_for(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
        raise RequestRejected("signature does not match", 401)
    return signature


def parse_action(payload: Any) -> tuple[int, str, str]:
    """(alert id, action, who) from a block_actions payload; RequestRejected(400) otherwise."""
    try:
        action = payload["actions"][0]
        name = str(action["action_id"])
        alert_id = int(action["value"])
        user = payload.get("user") or {}
        who = str(user.get("username") or user.get("name") or user.get("id") or "")
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise RequestRejected("not a listenpost button click", 400) from None
    if payload.get("type") != "block_actions" or not name.startswith(ACTION_PREFIX):
        raise RequestRejected("not a listenpost button click", 400)
    return alert_id, name[len(ACTION_PREFIX):], who


class Interactions:
    """Applies button clicks to the database and refreshes the Slack messages they came from."""

    def __init__(self, settings: Settings) -> None:
        from alerts.dispatch import build_channels

        self.settings = settings
        self.channels = build_channels(settings)
        self._local = threading.local()

    @property
    def store(self) -> Store:
        if getattr(self._local, "store", None) is None:
            self._local.store = Store(self.settings.database)  # one connection per thread
        return self._local.store  # type: ignore[no-any-return]

    def handle(self, payload: Any) -> Outcome:
        from alerts.dispatch import refresh_case

        alert_id, action, who = parse_action(payload)
        outcome = apply_action(self.store, alert_id, action, who)
        log.info("%s", outcome.summary)
        refresh_case(self.store, self.settings, outcome.alert_ids or [alert_id], self.channels)
        return outcome


def make_handler(interactions: Interactions, secret: str, path: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self, status: int, text: str = "") -> None:
            body = text.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._reply(200 if self.path == "/health" else 404, "ok" if self.path == "/health" else "")

        def do_POST(self) -> None:
            try:
                status, text = self._interact()
            except RequestRejected as exc:
                log.warning("refused a request from %s: %s", self.client_address[0], exc)
                status, text = exc.status, str(exc)
            except ListenpostError as exc:
                status, text = 200, f"listenpost: {exc}"  # shown to the clicker; Slack expects 200
            self._reply(status, text)

        def _interact(self) -> tuple[int, str]:
            if self.path.split("?")[0] != path:
                raise RequestRejected("unknown path", 404)
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise RequestRejected("bad Content-Length", 400) from None
            if length > MAX_BODY or length < 0:
                raise RequestRejected("request too large", 413)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            signature = verify(secret, headers, body)
            if not interactions.store.remember_request(signature, now=utcnow(), keep=2 * WINDOW):
                raise RequestRejected("replayed request", 401)
            try:
                payload = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
            except (KeyError, IndexError, ValueError, UnicodeDecodeError):
                raise RequestRejected("no JSON payload in the form body", 400) from None
            interactions.handle(payload)
            return 200, ""

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s " + format, self.client_address[0], *args)

    return Handler


def make_server(settings: Settings, *, host: str, port: int, path: str = "/slack/actions") -> ThreadingHTTPServer:
    secret = require_secret("listenpost serve", "SLACK_SIGNING_SECRET")
    server = ThreadingHTTPServer((host, port), make_handler(Interactions(settings), secret, path))
    server.daemon_threads = True
    return server


def run_socket_mode(settings: Settings, stop: threading.Event, on_ready: Callable[[], None] | None = None) -> None:
    """Receive button clicks over Slack's Socket Mode websocket: no public URL needed."""
    from slack_sdk import WebClient
    from slack_sdk.socket_mode import SocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest
    from slack_sdk.socket_mode.response import SocketModeResponse

    app_token = require_secret("listenpost serve --socket-mode", "SLACK_APP_TOKEN")
    interactions = Interactions(settings)
    slack = next((c for c in interactions.channels.values() if c.type == "slack"), None)
    base_url = str(slack.options.get("base_url") or "") if slack else ""
    web = WebClient(token=app_token, base_url=base_url or "https://slack.com/api/")
    client = SocketModeClient(app_token=app_token, web_client=web)

    def listener(socket: Any, request: SocketModeRequest) -> None:
        # Acknowledge first: Slack wants the ack within three seconds.
        socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        if request.type != "interactive":
            return
        try:
            interactions.handle(request.payload)
        except ListenpostError as exc:
            log.warning("socket mode: %s", exc)

    client.socket_mode_request_listeners.append(listener)
    client.connect()
    if on_ready:
        on_ready()
    try:
        stop.wait()
    finally:
        client.close()

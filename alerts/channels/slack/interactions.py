"""Slack's interactivity: the signed requests its buttons send, the click each one carries, and
Socket Mode.

Every request must carry a valid Slack signature (checked with slack_sdk's SignatureVerifier),
be at most five minutes old and not have been seen before. What a click does to the alert's case
is the outbox's business (alerts.outbox.actions): this module hands the click to a `ClickHandler`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import parse_qs

from alerts.channels.slack.api import DEFAULT_BASE_URL
from monitor.core.errors import ChannelError, ListenpostError
from monitor.core.records import utcnow
from monitor.store import Store

log = logging.getLogger(__name__)

WINDOW = 300  # seconds a signed request stays valid, as Slack recommends
MAX_BODY = 256 * 1024
ACTION_PREFIX = "listenpost_"
MAX_ALERT_ID = 2**63 - 1  # SQLite's largest integer


class RequestRejected(ListenpostError):
    """An interactivity request that is forged, stale, replayed or malformed."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    """The signature Slack sends with a request (for tests and tools that play Slack)."""
    from slack_sdk.signature import SignatureVerifier

    return str(SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body))


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> str:
    """Check Slack's signature headers; returns the signature (for replay detection)."""
    from slack_sdk.signature import Clock, SignatureVerifier

    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        raise RequestRejected("missing Slack signature headers", 401)
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise RequestRejected("malformed X-Slack-Request-Timestamp", 401)
    if not signature.isascii():
        raise RequestRejected("signature does not match", 401)
    try:
        body.decode("utf-8")  # slack_sdk decodes it to sign it: bytes that are not UTF-8 raised there
    except UnicodeDecodeError:
        raise RequestRejected("signature does not match (the body is not UTF-8)", 401) from None
    at = time.time() if now is None else now
    if abs(at - int(timestamp)) > WINDOW:
        raise RequestRejected("request timestamp outside the five-minute window", 401)

    class _At(Clock):
        def now(self) -> float:
            return at

    if not SignatureVerifier(secret, clock=_At()).is_valid(body, timestamp, signature):
        raise RequestRejected("signature does not match", 401)
    return signature


def parse_action(payload: Any) -> tuple[int, str, str]:
    """(alert id, action, who) from a block_actions payload; RequestRejected(400) otherwise."""
    try:
        action = payload["actions"][0]
        name = str(action["action_id"])
        alert_id = int(str(action["value"])[:20])
        user = payload.get("user") or {}
        who = str(user.get("username") or user.get("name") or user.get("id") or "")
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        raise RequestRejected("not a listenpost button click", 400) from None
    if payload.get("type") != "block_actions" or not name.startswith(ACTION_PREFIX):
        raise RequestRejected("not a listenpost button click", 400)
    if not 0 < alert_id <= MAX_ALERT_ID:
        raise RequestRejected("alert id out of range", 400)
    return alert_id, name[len(ACTION_PREFIX):], who[:200]


class ClickHandler(Protocol):
    """What applies a button click to the alert's case (alerts.outbox.actions.CaseActions)."""

    @property
    def store(self) -> Store: ...

    def apply(self, alert_id: int, action: str, who: str) -> object: ...


def handle(handler: ClickHandler, payload: Any) -> None:
    """Read the click out of a block_actions payload and have ``handler`` apply it."""
    handler.apply(*parse_action(payload))


class SlackEndpoint:
    """The WSGI application behind the Request URL: one signed button click per POST."""

    def __init__(self, handler: ClickHandler, secret: str, path: str) -> None:
        self.handler = handler
        self.secret = secret
        self.path = path

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            status, text = self.answer(environ)
        except RequestRejected as exc:
            log.warning("refused a request from %s: %s", environ.get("REMOTE_ADDR", "?"), exc)
            status, text = exc.status, str(exc)
        except ListenpostError as exc:
            status, text = 200, f"listenpost: {exc}"  # shown to the clicker; Slack expects 200
        except Exception:  # answered, logged, and the server goes on
            log.exception("error while handling a Slack request")
            status, text = 500, "listenpost: internal error"
        body = text.encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
                  405: "Method Not Allowed", 413: "Payload Too Large"}.get(status, "Error")
        start_response(f"{status} {reason}", [("Content-Type", "text/plain; charset=utf-8"),
                                              ("Content-Length", str(len(body)))])
        return [body]

    def answer(self, environ: dict[str, Any]) -> tuple[int, str]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if method in ("GET", "HEAD"):
            return (200, "ok") if path == "/health" else (404, "")
        if method != "POST":
            raise RequestRejected("method not allowed", 405)
        if path != self.path:
            raise RequestRejected("unknown path", 404)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise RequestRejected("bad Content-Length", 400) from None
        if length > MAX_BODY or length < 0:
            raise RequestRejected("request too large", 413)
        body = environ["wsgi.input"].read(length)
        headers = {"x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                   "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", "")}
        signature = verify(self.secret, headers, body)
        store = self.handler.store
        if not store.remember_request(signature, now=utcnow(), keep=2 * WINDOW):
            raise RequestRejected("replayed request", 401)
        try:
            payload = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
        except (KeyError, IndexError, ValueError, UnicodeDecodeError, RecursionError):
            raise RequestRejected("no JSON payload in the form body", 400) from None
        handle(self.handler, payload)
        return 200, ""


def run_socket_mode(handler: ClickHandler, app_token: str, stop: threading.Event,
                    on_ready: Callable[[], None] | None = None, *, base_url: str = DEFAULT_BASE_URL) -> None:
    """Receive button clicks over Slack's Socket Mode websocket: no public URL needed."""
    from slack_sdk import WebClient
    from slack_sdk.socket_mode import SocketModeClient
    from slack_sdk.socket_mode.request import SocketModeRequest
    from slack_sdk.socket_mode.response import SocketModeResponse

    web = WebClient(token=app_token, base_url=base_url)
    client = SocketModeClient(app_token=app_token, web_client=web)

    def listener(socket: Any, request: SocketModeRequest) -> None:
        # Acknowledge first: Slack wants the ack within three seconds.
        socket.send_socket_mode_response(SocketModeResponse(envelope_id=request.envelope_id))
        if request.type != "interactive":
            return
        try:
            handle(handler, request.payload)
        except ListenpostError as exc:
            log.warning("socket mode: %s", exc)

    client.socket_mode_request_listeners.append(listener)
    try:
        client.connect()
    except Exception as exc:  # SlackApiError, URLError, a refused or timed-out connection
        reason = f"{type(exc).__name__}: {exc}".replace(app_token, "[hidden]")
        raise ChannelError(f"Slack Socket Mode: cannot connect ({' '.join(reason.split())[:300]})") from None
    if on_ready:
        on_ready()
    try:
        stop.wait()
    finally:
        client.close()

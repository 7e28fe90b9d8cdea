"""A fake Slack Web API on the loopback HTTP server: keeps every message, answers like Slack."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.httpfake import FakeServer, Request, Response

TOKEN = "xoxb-test-token"


@dataclass
class FakeSlack:
    """chat.postMessage / chat.update / conversations.history / conversations.replies.

    ``faults`` are answered (in order) instead of the next chat.postMessage calls;
    ``post_delay`` holds each post's answer back after the message is kept, so a test can
    kill the sender between "posted" and "recorded".
    """

    server: FakeServer
    token: str = TOKEN
    messages: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Response] = field(default_factory=list)
    post_delay: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _clock: int = 0

    @property
    def base_url(self) -> str:
        return self.server.url + "/api/"

    def install(self) -> FakeSlack:
        for method, handler in {
            "chat.postMessage": self._post, "chat.update": self._update,
            "conversations.history": self._history, "conversations.replies": self._replies,
        }.items():
            self.server.route("POST", f"/api/{method}", handler)
        return self

    def posts(self, alert_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages
                    if alert_id is None or m.get("metadata", {}).get("event_payload", {}).get("alert_id") == alert_id]

    @staticmethod
    def _args(request: Request) -> dict[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(request.json())
        return {k: v[0] for k, v in request.form().items()}

    def _check(self, request: Request) -> Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response(200, {"ok": False, "error": "invalid_auth"})
        return None

    def _post(self, request: Request) -> Response:
        denied = self._check(request)
        if denied:
            return denied
        with self._lock:
            if self.faults:
                return self.faults.pop(0)
            args = self._args(request)
            if not args.get("channel"):
                return Response(200, {"ok": False, "error": "channel_not_found"})
            self._clock += 1
            ts = f"{int(time.time())}.{self._clock:06d}"
            message = {"ts": ts, "channel": args["channel"], "text": args.get("text", ""),
                       "blocks": args.get("blocks", []), "metadata": args.get("metadata") or {},
                       "thread_ts": args.get("thread_ts"), "received": time.time()}
            self.messages.append(message)
        if self.post_delay:
            time.sleep(self.post_delay)
        return Response(200, {"ok": True, "channel": args["channel"], "ts": ts, "message": message})

    def _update(self, request: Request) -> Response:
        denied = self._check(request)
        if denied:
            return denied
        args = self._args(request)
        with self._lock:
            for message in self.messages:
                if message["ts"] == args.get("ts") and message["channel"] == args.get("channel"):
                    message.update(text=args.get("text", ""), blocks=args.get("blocks", []),
                                   updates=message.get("updates", 0) + 1)
                    return Response(200, {"ok": True, "channel": args["channel"], "ts": args["ts"]})
        return Response(200, {"ok": False, "error": "message_not_found"})

    def _listing(self, request: Request, thread: bool) -> Response:
        denied = self._check(request)
        if denied:
            return denied
        args = self._args(request)
        with self._lock:
            found = [m for m in self.messages if m["channel"] == args.get("channel")
                     and (m.get("thread_ts") == args.get("ts") or m["ts"] == args.get("ts")
                          if thread else not m.get("thread_ts"))]
        found.sort(key=lambda m: m["ts"], reverse=not thread)
        with_meta = args.get("include_all_metadata") in ("true", "1", True)
        shown = [{k: v for k, v in m.items() if k != "metadata" or with_meta} for m in found]
        return Response(200, {"ok": True, "channel": args.get("channel"), "messages": shown,
                              "has_more": False, "response_metadata": {"next_cursor": ""}})

    def _history(self, request: Request) -> Response:
        return self._listing(request, thread=False)

    def _replies(self, request: Request) -> Response:
        return self._listing(request, thread=True)


def settings_toml(base_url: str, extra: str = "") -> str:
    """A brand routed to one Slack channel (C0ALERTS) on the fake, plus ``extra`` TOML."""
    return f"""
[[brands]]
name = "Acme"
reply_signature = "Sam, Acme support"
support_contact = "support@acme.example"

[alerts.channels.team]
type = "slack"
options = {{ channel = "C0ALERTS", base_url = "{base_url}" }}

[[alerts.routes]]
channels = ["team"]
{extra}
"""


def start_dispatcher(config: Path, *, poll: float = 0.05, lease: float = 0.5) -> subprocess.Popen[bytes]:
    """`listenpost alerts dispatch --watch` in its own process, posting to the fake with the test token."""
    env = {**os.environ, "LISTENPOST_SLACK_BOT_TOKEN": TOKEN, "LISTENPOST_CONFIG": str(config)}
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "alerts", "dispatch", "--watch", f"--poll={poll}", f"--lease={lease}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def outbox_open(db: Path | str) -> int:
    """Alerts still pending or being sent (in an SQLite file or a PostgreSQL database)."""
    from monitor.store import Store

    with Store(str(db), migrate=False) as store:
        return int(store._rows("SELECT count(*) FROM alerts WHERE status IN ('pending', 'sending')")[0][0])


def deliver_with_kills(slack: FakeSlack, config: Path, db: Path | str, *, kills: int, rng: random.Random,
                       timeout: float = 60.0) -> int:
    """Run the dispatcher, SIGKILL it right after a post reached Slack (before or while the
    answer comes back), restart it, ``kills`` times; then let it finish. Returns the kills made."""
    made = 0
    deadline = time.monotonic() + timeout
    for _ in range(kills):
        if not outbox_open(db):
            break
        process = start_dispatcher(config)
        target = len(slack.messages) + rng.randint(1, 3)
        while len(slack.messages) < target and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.08))  # anywhere from "answer pending" to "row being marked sent"
        process.send_signal(signal.SIGKILL)
        process.wait()
        made += 1
    process = start_dispatcher(config)
    try:
        while outbox_open(db) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        process.terminate()
        process.wait(10)
    return made

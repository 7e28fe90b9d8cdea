"""`listenpost serve`: the HTTP server for Slack's interactivity (the alert buttons), or Socket Mode.

The endpoint runs on waitress, a production WSGI server: a bounded listen backlog and
connection count, and idle or half-sent requests closed after a timeout, so a burst or a
slow client cannot exhaust it. Which click a request carries is alerts.channels.slack.interactions'
job; what the click does to the alert's case is alerts.outbox.actions'. This module wires the two.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from alerts.channels.slack import interactions as slack
from alerts.channels.slack.api import DEFAULT_BASE_URL, SlackChannel
from alerts.channels.slack.interactions import MAX_BODY, SlackEndpoint
from alerts.outbox.actions import CaseActions
from monitor.core.config import Settings, require_secret
from monitor.core.errors import ListenpostError

# waitress: connections waiting to be accepted, connections served at once, worker threads,
# and seconds a connection may sit idle or half-sent before it is closed.
BACKLOG = 1024
CONNECTION_LIMIT = 200
THREADS = 8
IDLE_TIMEOUT = 10


class Server:
    """A waitress server for the endpoint, stoppable from another thread (tests, `serve`'s Ctrl-C)."""

    def __init__(self, app: SlackEndpoint, host: str, port: int) -> None:
        from waitress.server import create_server

        try:
            self._server: Any = create_server(
                app, host=host, port=port, backlog=BACKLOG, connection_limit=CONNECTION_LIMIT,
                threads=THREADS, channel_timeout=IDLE_TIMEOUT, cleanup_interval=2,
                max_request_body_size=MAX_BODY, max_request_header_size=32 * 1024,
                ident="listenpost", expose_tracebacks=False, clear_untrusted_proxy_headers=True,
            )
        except OSError as exc:
            raise ListenpostError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        self._stop = threading.Event()
        self._stopped = threading.Event()

    @property
    def server_port(self) -> int:
        return int(self._server.effective_port)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        from waitress import wasyncore

        try:
            while not self._stop.is_set():
                wasyncore.loop(timeout=poll_interval, map=self._server._map, count=1)
        finally:
            self._server.task_dispatcher.shutdown()
            wasyncore.close_all(self._server._map)
            self._stopped.set()

    def shutdown(self) -> None:
        self._stop.set()
        self._stopped.wait(10)

    def server_close(self) -> None:
        if not self._stopped.is_set():  # never served: close the listening socket here
            self._server.close()


def make_server(settings: Settings, *, host: str, port: int, path: str = "/slack/actions") -> Server:
    secret = require_secret("listenpost serve", "SLACK_SIGNING_SECRET")
    return Server(SlackEndpoint(CaseActions(settings), secret, path), host, port)


def run_socket_mode(settings: Settings, stop: threading.Event, on_ready: Callable[[], None] | None = None) -> None:
    """Receive button clicks over Slack's Socket Mode websocket: no public URL needed."""
    app_token = require_secret("listenpost serve --socket-mode", "SLACK_APP_TOKEN")
    actions = CaseActions(settings)
    # The websocket is opened through the same Slack API as the alerts (a test's fake, a proxy).
    base_url = next((c.config.base_url for c in actions.channels.values() if isinstance(c, SlackChannel)),
                    DEFAULT_BASE_URL)
    slack.run_socket_mode(actions, app_token, stop, on_ready, base_url=base_url)

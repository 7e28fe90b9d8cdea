"""Slack channel: Block Kit alerts through the Web API (chat.postMessage), with action buttons.

Every post carries message metadata naming its alert id, so after a crash the dispatcher can
ask conversations.history whether the alert already went out instead of posting it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

from alerts.channels.base import Channel, ChannelContext
from alerts.channels.slack.ref import SlackRef
from alerts.channels.slack.render import render
from alerts.message import AlertMessage
from monitor.core.config import Channel as ChannelSettings
from monitor.core.config import require_secret
from monitor.core.errors import ChannelError, ConfigError
from monitor.core.retry import header_wait
from monitor.store import parse_ts

DEFAULT_BASE_URL = "https://slack.com/api/"
EVENT_TYPE = "listenpost_alert"
# Web API errors that will fail the same way on every retry.
PERMANENT_ERRORS = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed",
    "account_inactive", "token_revoked", "token_expired", "missing_scope", "no_permission",
    "msg_too_long", "invalid_blocks", "invalid_blocks_format", "invalid_metadata_format",
    "restricted_action", "cant_update_message", "message_not_found", "invalid_arguments",
    "team_access_not_granted", "ekm_access_denied", "no_text", "too_many_attachments",
}


@dataclass(frozen=True)
class SlackOptions:
    channel: str  # the channel id, such as C0123ABC
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 15.0
    token_env: str = "SLACK_BOT_TOKEN"  # the variable (after LISTENPOST_) holding the bot token


class SlackChannel(Channel):
    """options: channel (id such as C0123ABC, required), base_url, timeout, token_env."""

    type: ClassVar[str] = "slack"
    default_timeout: ClassVar[float | None] = SlackOptions.timeout
    option_names: ClassVar[frozenset[str]] = frozenset({"channel", "base_url", "timeout", "token_env"})
    idempotent: ClassVar[bool] = True
    threads: ClassVar[bool] = True
    updates: ClassVar[bool] = True

    def __init__(self, name: str, settings: ChannelSettings, context: ChannelContext) -> None:
        super().__init__(name, settings, context)
        channel = self.option("channel", str, "")
        if not channel.strip():
            raise ConfigError(f"alerts.channels.{self.name}.options.channel: "
                              "the Slack channel id (such as C0123ABC) is required")
        self.config = SlackOptions(
            channel=channel.strip(),
            base_url=self.option("base_url", str, SlackOptions.base_url) or DEFAULT_BASE_URL,
            timeout=self.option("timeout", float, SlackOptions.timeout),
            token_env=self.option("token_env", str, SlackOptions.token_env),
        )
        self.channel = self.config.channel
        self.token = require_secret(f"alerts.channels.{self.name}", self.config.token_env)
        self._client: Any = None

    def secret_values(self) -> list[str]:
        return [self.token]

    @property
    def client(self) -> Any:
        if self._client is None:
            from slack_sdk import WebClient

            # No client-side retries: the outbox retries, after first checking what got through.
            self._client = WebClient(
                token=self.token, base_url=self.config.base_url, timeout=int(self.config.timeout),
                retry_handlers=[],
            )
        return self._client

    def call(self, method: str, **kwargs: Any) -> Any:
        """One Web API call; failures become ChannelError, permanent or with Retry-After."""
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            if method.startswith("conversations."):  # read methods take form fields, not JSON
                return self.client.api_call(method, params=kwargs)
            return self.client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = data.get("error") or f"HTTP {status}"
            if status == 429 or error == "ratelimited":
                raise ChannelError(f"Slack {method}: rate limited",
                                   retry_after=header_wait(exc.response.headers)) from None
            permanent = error in PERMANENT_ERRORS or (400 <= status < 500 and status not in (408, 429))
            raise ChannelError(f"Slack {method}: {error}", permanent=permanent) from None
        except (SlackClientError, OSError, ValueError) as exc:
            # Timeouts, refused connections and bodies that are not JSON: worth another try.
            raise ChannelError(f"Slack {method}: {type(exc).__name__}: {exc}") from None

    def _post_args(self, message: AlertMessage) -> dict[str, Any]:
        text, blocks = render(message, tz=self.tz)
        return {
            "channel": self.channel, "text": text, "blocks": blocks, "unfurl_links": False,
            "unfurl_media": False, "link_names": False,
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {"alert_id": message.alert_id}},
        }

    def send(self, message: AlertMessage) -> str | None:
        args = self._post_args(message)
        if message.reply_to:
            args["thread_ts"] = SlackRef.parse(message.reply_to, self.channel).ts
        response = self.call("chat.postMessage", **args)
        return str(SlackRef(response.get("channel") or self.channel, response["ts"]))

    def update(self, message_id: str, message: AlertMessage) -> None:
        """Re-render a posted alert in place (running count, who claimed, who replied)."""
        ref = SlackRef.parse(message_id, self.channel)
        text, blocks = render(message, tz=self.tz)
        self.call("chat.update", channel=ref.channel, ts=ref.ts, text=text, blocks=blocks)

    def find_sent(self, message: AlertMessage) -> str | None:
        """Look for this alert's metadata among the channel's (or the thread's) recent messages."""
        queued = parse_ts(message.queued_at)
        args: dict[str, Any] = {"channel": self.channel, "include_all_metadata": "true", "limit": 200}
        if queued:
            args["oldest"] = f"{(queued - timedelta(minutes=5)).timestamp():.6f}"
        method = "conversations.history"
        if message.reply_to:
            method, args["ts"] = "conversations.replies", SlackRef.parse(message.reply_to, self.channel).ts
        for _ in range(20):  # at most 4000 messages back; an alert is newer than its outbox row
            page = self.call(method, **args)
            for item in page.get("messages") or []:
                meta = item.get("metadata") or {}
                if (meta.get("event_type") == EVENT_TYPE
                        and (meta.get("event_payload") or {}).get("alert_id") == message.alert_id):
                    return str(SlackRef(page.get("channel") or self.channel, item["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
            args["cursor"] = cursor
        return None

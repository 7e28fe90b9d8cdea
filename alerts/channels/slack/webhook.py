"""Slack incoming webhook channel: the simple option, one message per alert, no buttons."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from alerts.channels.base import Channel, ChannelContext
from alerts.channels.slack.render import render
from alerts.message import AlertMessage
from monitor.core.config import Channel as ChannelSettings
from monitor.core.config import require_secret
from monitor.core.errors import ChannelError
from monitor.core.retry import header_wait

# slack_sdk logs the webhook URL at debug level, and the URL is the secret: keep that logger quiet.
_QUIET = logging.getLogger("listenpost.webhook.client")
_QUIET.setLevel(logging.WARNING)
_QUIET.propagate = False


@dataclass(frozen=True)
class WebhookOptions:
    url_env: str = "SLACK_WEBHOOK_URL"  # the variable (after LISTENPOST_) holding the secret URL
    timeout: float = 15.0


class WebhookChannel(Channel):
    """options: url_env (default SLACK_WEBHOOK_URL: the webhook URL is a secret), timeout."""

    type: ClassVar[str] = "slack_webhook"
    default_timeout: ClassVar[float | None] = WebhookOptions.timeout
    option_names: ClassVar[frozenset[str]] = frozenset({"url_env", "timeout"})

    def __init__(self, name: str, settings: ChannelSettings, context: ChannelContext) -> None:
        super().__init__(name, settings, context)
        self.config = WebhookOptions(url_env=self.option("url_env", str, WebhookOptions.url_env),
                                     timeout=self.option("timeout", float, WebhookOptions.timeout))
        self.url = require_secret(f"alerts.channels.{self.name}", self.config.url_env)

    def secret_values(self) -> list[str]:
        return [self.url]

    def send(self, message: AlertMessage) -> str | None:
        from slack_sdk.webhook import WebhookClient

        text, blocks = render(message, tz=self.tz, buttons=False)
        client = WebhookClient(self.url, timeout=int(self.config.timeout), retry_handlers=[],
                               logger=_QUIET)
        try:
            response = client.send(text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
        except (OSError, ValueError) as exc:
            raise ChannelError(f"Slack webhook: {type(exc).__name__}: {exc}") from None
        status = response.status_code
        if status == 200:
            return None
        if status == 429 or status >= 500:
            raise ChannelError(f"Slack webhook: HTTP {status}", retry_after=header_wait(response.headers))
        # invalid_payload, no_service, channel_is_archived ...: the same request fails again.
        raise ChannelError(f"Slack webhook: HTTP {status} {response.body[:200]}", permanent=True)

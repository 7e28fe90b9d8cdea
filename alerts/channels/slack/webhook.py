"""Slack incoming webhook channel: the simple option, one message per alert, no buttons."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from alerts.channels.base import Channel
from alerts.channels.slack.render import render
from alerts.message import AlertMessage
from monitor.core.config import require_secret
from monitor.core.errors import ChannelError
from monitor.core.retry import header_wait

# slack_sdk logs the webhook URL at debug level, and the URL is the secret: keep that logger quiet.
_QUIET = logging.getLogger("listenpost.webhook.client")
_QUIET.setLevel(logging.WARNING)
_QUIET.propagate = False


class WebhookChannel(Channel):
    """options: url_env (default SLACK_WEBHOOK_URL: the webhook URL is a secret), timeout."""

    type: ClassVar[str] = "slack_webhook"
    option_names: ClassVar[frozenset[str]] = frozenset({"url_env", "timeout"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.url = require_secret(f"alerts.channels.{self.name}",
                                  str(self.options.get("url_env", "SLACK_WEBHOOK_URL")))

    def secret_values(self) -> list[str]:
        return [self.url]

    def send(self, message: AlertMessage) -> str | None:
        from slack_sdk.webhook import WebhookClient

        text, blocks = render(message, tz=self.tz, buttons=False)
        client = WebhookClient(self.url, timeout=int(self.options.get("timeout", 15)), retry_handlers=[],
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

"""Escaping of mention text for Slack mrkdwn and HTML, so no text can ping anyone or inject markup."""

from __future__ import annotations

import html
import re

from alerts.message import plain

# Slack turns these words into @channel / @here / @everyone pings when a message is parsed
# with link_names; a word joiner after the @ keeps the word readable and inert everywhere.
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_WORD_JOINER = "\u2060"


def mrkdwn(text: str) -> str:
    """User text for a Slack mrkdwn field: `&`, `<`, `>` escaped, broadcast words defused.

    Escaping `<` and `>` is what Slack documents for untrusted text: it turns `<!channel>`,
    `<!here>`, `<@U123>`, `<!subteam^S1>` and `<http://x|label>` into literal text.
    """
    text = plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + _WORD_JOINER + m.group(1), text)


def mrkdwn_quote(text: str) -> str:
    """User text as a Slack block quote; every line is quoted so none can break out of it."""
    return "\n".join("&gt; " + line if line else "&gt;" for line in mrkdwn(text).split("\n"))


def html_text(text: str) -> str:
    """User text for an HTML body: markup characters and quotes escaped, controls removed."""
    return html.escape(plain(text), quote=True)


def link_target(url: str) -> str | None:
    """A URL fit to be a Slack link or button target: http(s), no spaces or angle brackets."""
    url = plain(url).strip()
    if not re.fullmatch(r"https?://[^\s<>|\"]+", url) or len(url) > 3000:
        return None
    return url

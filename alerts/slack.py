"""Slack channel: Block Kit alerts through the Web API (chat.postMessage), with action buttons.

Every post carries message metadata naming its alert id, so after a crash the dispatcher can
ask conversations.history whether the alert already went out instead of posting it twice.
"""

from __future__ import annotations

import re
import textwrap
from datetime import timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from alerts.base import AlertMessage, Channel, ago, audience, negativity, plain, truncate
from alerts.escape import link_target, mrkdwn, mrkdwn_quote
from monitor.core.config import require_secret
from monitor.core.errors import ChannelError, ConfigError
from monitor.core.records import link_name, source_name
from monitor.core.times import local_time
from monitor.store import parse_ts

DEFAULT_BASE_URL = "https://slack.com/api/"
EVENT_TYPE = "listenpost_alert"
SECTION_LIMIT = 2900  # Slack rejects section text over 3000 characters
POST_LIMIT = 600  # characters of a post quoted in the channel; the rest is one click away
ACTIONS = {
    "claim": "Claim",
    "replied": "Replied",
    "false_positive": "False positive",
    "snooze": "Snooze 1 h",
}
PRAISE_ACTIONS = {"thanked": "Thanked"}
NOTICE_ACTIONS = {"notice_posted": "Notice posted"}
# Web API errors that will fail the same way on every retry.
PERMANENT_ERRORS = {
    "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed",
    "account_inactive", "token_revoked", "token_expired", "missing_scope", "no_permission",
    "msg_too_long", "invalid_blocks", "invalid_blocks_format", "invalid_metadata_format",
    "restricted_action", "cant_update_message", "message_not_found", "invalid_arguments",
    "team_access_not_granted", "ekm_access_denied", "no_text", "too_many_attachments",
}


def stars(rating: int | None) -> str:
    if not rating:
        return ""
    rating = max(1, min(5, rating))
    return "★" * rating + "☆" * (5 - rating)


def _fit(text: str, limit: int, render: Any) -> str:
    """Render ``text`` cut short enough that the escaped result stays under ``limit``."""
    size = min(len(text), 1500)
    while True:
        out: str = render(truncate(text, size) if size < len(text) else text)
        if len(out) <= limit or size <= 20:
            return out[:limit]
        size = size * 2 // 3


def _local(stamp: str | None, tz: ZoneInfo) -> str:
    return local_time(stamp, tz, "%H:%M %Z on %d %b", empty="")


def status_line(extra: dict[str, Any], tz: ZoneInfo) -> str:
    """Who claimed, replied or closed the alert and when, for the message's footer."""
    parts = []
    for key, verb in (("claimed", "Claimed"), ("replied", "Replied")):
        if extra.get(f"{key}_by"):
            parts.append(f"{verb} by {mrkdwn(extra[f'{key}_by'])} at {_local(extra.get(f'{key}_at'), tz)}")
    if extra.get("notice_posted_by"):
        parts.append(f"Status update posted by {mrkdwn(extra['notice_posted_by'])} at "
                     f"{_local(extra.get('notice_posted_at'), tz)}: say we posted an update")
    if extra.get("resolution"):
        who = f" by {mrkdwn(extra['closed_by'])}" if extra.get("closed_by") else ""
        parts.append(f"Closed as {mrkdwn(extra['resolution'].replace('_', ' '))}{who}")
    elif extra.get("snoozed_until"):
        parts.append(f"Snoozed until {_local(extra['snoozed_until'], tz)}")
    return " · ".join(parts)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def headline(message: AlertMessage) -> str:
    title = message.headline
    if message.kind == "escalation" and message.extra.get("reason") == "quiet hours":
        title = (f"Negative mention of {message.brand} on {source_name(message.source)}"
                 " (quiet hours: on-call only)")
    elif message.kind == "escalation" and message.extra.get("reason"):
        title += f" ({message.extra['reason']})"
    line = f"*{mrkdwn(title)}*"
    if message.group_count > 1:
        line += f"  ·  {message.group_count} similar mentions"
    ping = message.extra.get("mention")
    if message.kind == "escalation" and ping:
        line = f"{ping} {line}"  # the on-call group comes from settings, never from mention text
    return line


def _body(message: AlertMessage, url: str | None) -> str:
    """The title in bold on its own line, then the post quoted; a long post is cut with a 'more' link."""
    more = f" <{url}|more>" if url else ""
    text = message.text
    if len(text) > POST_LIMIT:
        text = text[:POST_LIMIT].rsplit(" ", 1)[0].rstrip() + "…"
    quoted = _fit(text, SECTION_LIMIT - 400, mrkdwn_quote)
    # Cut here, or by _fit when escaping made a short post too long ("&" is five characters).
    if text is not message.text or quoted != mrkdwn_quote(text):
        quoted += more
    if message.title and message.title.strip() != message.text.strip():
        return f"*{mrkdwn(truncate(message.title, 300))}*\n{quoted}"
    return quoted


def _buttons(message: AlertMessage) -> dict[str, Any] | None:
    """The action buttons still useful: none once closed, no Claim once claimed."""
    extra = message.extra
    if message.kind == "test" or extra.get("resolution"):
        return None
    done = {"claim"} if extra.get("claimed_by") or extra.get("replied_by") else set()
    actions = {"praise": PRAISE_ACTIONS, "notice": NOTICE_ACTIONS}.get(message.kind, ACTIONS)
    return {
        "type": "actions", "block_id": f"listenpost_{message.alert_id}",
        "elements": [
            {"type": "button", "action_id": f"listenpost_{action}", "value": str(message.alert_id),
             "text": {"type": "plain_text", "text": label},
             **({"style": "primary"} if action in ("claim", "thanked", "notice_posted") else {})}
            for action, label in actions.items() if action not in done
        ],
    }


def render(message: AlertMessage, *, tz: ZoneInfo, buttons: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """The notification text and Block Kit blocks of one alert; user text is escaped throughout."""
    blocks: list[dict[str, Any]] = [section(headline(message))]
    if message.kind == "spike":
        summary = message.extra.get("text") or message.text
        blocks.append(section(mrkdwn(summary)))
        return f"{message.headline}: {summary}", blocks
    if message.kind == "notice":
        return _notice(message, tz, buttons)
    where = mrkdwn(source_name(message.source))
    facts = [f"*{mrkdwn(truncate(message.author, 80)) or 'unknown author'}* on {where}",
             message.history_line(), f"posted {ago(message.created_at)}"]
    for fact in (negativity(message.negative), audience(message), stars(message.rating)):
        if fact:
            facts.append(fact)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(facts)}]})
    url = link_target(message.url)
    blocks.append(section(_body(message, url)))
    if url:
        blocks.append(section(f"<{url}|Open on {mrkdwn(link_name(message.source, url))}>"))
    if message.reply_draft:
        draft = _fit(message.reply_draft, SECTION_LIMIT - 40, mrkdwn_quote)
        blocks.append(section("*Reply draft* (copy, edit, then send it yourself)\n" + draft))
    status = status_line(message.extra, tz)
    if status:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": status}]})
    actions = _buttons(message) if buttons else None
    if actions:
        blocks.append(actions)
    text = f"{message.headline}: {truncate(message.text, 150)}" if message.text else message.headline
    return mrkdwn(text), blocks


def _notice(message: AlertMessage, tz: ZoneInfo, buttons: bool) -> tuple[str, list[dict[str, Any]]]:
    """A suggested status message for the brand's own account, with the incident's evidence."""
    extra = message.extra
    sources = ", ".join(source_name(s) for s in extra.get("sources") or [])
    evidence = (f"{extra.get('count', 0)} reports · first posted {_local(extra.get('first_at'), tz)}, "
                f"latest {_local(extra.get('latest_at'), tz)} · {sources}")
    blocks = [section(headline(message)),
              {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn(evidence)}]},
              section("*Suggested post for your own account* (edit, post it, then press Notice posted)\n"
                      + mrkdwn_quote(message.text))]
    status = status_line(extra, tz)
    if status:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": status}]})
    actions = _buttons(message) if buttons else None
    if actions:
        blocks.append(actions)
    return mrkdwn(f"{message.headline}: {truncate(message.text, 150)}"), blocks


_LINK = re.compile(r"<([^<>|]+)\|([^<>]+)>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def as_shown(text: str) -> str:
    """mrkdwn as a reader sees it: bold without asterisks, links as 'label (url)', quotes with a bar."""
    text = _LINK.sub(lambda m: m.group(2) if m.group(2) == "more" else f"{m.group(2)} ({m.group(1)})", text)
    text = _BOLD.sub(r"\1", text).replace("```", "")
    text = "\n".join("┃ " + line[5:] if line.startswith("&gt; ") else ("┃" if line == "&gt;" else line)
                     for line in text.split("\n"))
    # Undo the mrkdwn entities only for display; plain() keeps the terminal safe.
    return plain(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def preview(message: AlertMessage, *, tz: ZoneInfo, columns: int = 80) -> str:
    """A terminal rendering of the Slack message as Slack shows it, buttons in brackets,
    wrapped to ``columns``."""
    _, blocks = render(message, tz=tz)
    lines: list[str] = []
    for block in blocks:
        if block["type"] == "actions":
            text = "  ".join(f"[{e['text']['text']}]" for e in block["elements"])
        elif block["type"] == "context":
            text = " ".join(e["text"] for e in block["elements"])
        else:
            text = block["text"]["text"]
        for line in as_shown(text).split("\n"):
            quote = "┃ " if line.startswith("┃ ") else ""
            lines.extend("│ " + part for part in textwrap.wrap(
                line, columns - 2, subsequent_indent=quote, break_on_hyphens=False) or [line])
    return "\n".join(lines)


class SlackChannel(Channel):
    """options: channel (id such as C0123ABC, required), base_url, timeout, token_env."""

    type: ClassVar[str] = "slack"
    option_names: ClassVar[frozenset[str]] = frozenset({"channel", "base_url", "timeout", "token_env"})
    idempotent: ClassVar[bool] = True
    threads: ClassVar[bool] = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        channel = self.options.get("channel")
        if not isinstance(channel, str) or not channel.strip():
            raise ConfigError(f"alerts.channels.{self.name}.options.channel: "
                              "the Slack channel id (such as C0123ABC) is required")
        self.channel = channel.strip()
        self.token = require_secret(f"alerts.channels.{self.name}",
                                    str(self.options.get("token_env", "SLACK_BOT_TOKEN")))
        self._client: Any = None

    def secret_values(self) -> list[str]:
        return [self.token]

    @property
    def client(self) -> Any:
        if self._client is None:
            from slack_sdk import WebClient

            # No client-side retries: the outbox retries, after first checking what got through.
            self._client = WebClient(
                token=self.token, base_url=str(self.options.get("base_url") or DEFAULT_BASE_URL),
                timeout=int(self.options.get("timeout", 15)), retry_handlers=[],
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
                raw = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
                retry_after = float(raw[0] if isinstance(raw, list) else raw) if raw else None
                raise ChannelError(f"Slack {method}: rate limited", retry_after=retry_after) from None
            permanent = error in PERMANENT_ERRORS or (400 <= status < 500 and status not in (408, 429))
            raise ChannelError(f"Slack {method}: {error}", permanent=permanent) from None
        except (SlackClientError, OSError, ValueError) as exc:
            # Timeouts, refused connections and bodies that are not JSON: worth another try.
            raise ChannelError(f"Slack {method}: {type(exc).__name__}: {exc}") from None

    def _post_args(self, message: AlertMessage) -> dict[str, Any]:
        text, blocks = render(message, tz=self.app.tz)
        return {
            "channel": self.channel, "text": text, "blocks": blocks, "unfurl_links": False,
            "unfurl_media": False, "link_names": False,
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {"alert_id": message.alert_id}},
        }

    def send(self, message: AlertMessage) -> str | None:
        args = self._post_args(message)
        thread = message.extra.get("thread_ts")
        if thread:
            args["thread_ts"] = thread.partition(":")[2] or thread
        response = self.call("chat.postMessage", **args)
        return f"{response.get('channel') or self.channel}:{response['ts']}"

    def update(self, message_id: str, message: AlertMessage) -> None:
        """Re-render a posted alert in place (running count, who claimed, who replied)."""
        channel, _, ts = message_id.rpartition(":")
        text, blocks = render(message, tz=self.app.tz)
        self.call("chat.update", channel=channel or self.channel, ts=ts, text=text, blocks=blocks)

    def find_sent(self, message: AlertMessage) -> str | None:
        """Look for this alert's metadata among the channel's (or the thread's) recent messages."""
        thread = message.extra.get("thread_ts")
        queued = parse_ts(message.extra.get("queued_at"))
        args: dict[str, Any] = {"channel": self.channel, "include_all_metadata": "true", "limit": 200}
        if queued:
            args["oldest"] = f"{(queued - timedelta(minutes=5)).timestamp():.6f}"
        method = "conversations.history"
        if thread:
            method, args["ts"] = "conversations.replies", thread.partition(":")[2] or thread
        for _ in range(20):  # at most 4000 messages back; an alert is newer than its outbox row
            page = self.call(method, **args)
            for item in page.get("messages") or []:
                meta = item.get("metadata") or {}
                if (meta.get("event_type") == EVENT_TYPE
                        and (meta.get("event_payload") or {}).get("alert_id") == message.alert_id):
                    return f"{page.get('channel') or self.channel}:{item['ts']}"
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
            args["cursor"] = cursor
        return None

"""An alert as Slack shows it: the notification text and Block Kit blocks, and a terminal preview."""

from __future__ import annotations

import re
import textwrap
from typing import Any
from zoneinfo import ZoneInfo

from alerts.escape import link_target, mrkdwn, mrkdwn_quote
from alerts.message import AlertMessage, CaseStatus, IncidentEvidence, plain, truncate
from monitor.core.records import link_name, source_name
from monitor.core.times import local_time

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


def status_line(status: CaseStatus, tz: ZoneInfo) -> str:
    """Who claimed, replied or closed the alert and when, for the message's footer."""
    parts = []
    for who, at, verb in ((status.claimed_by, status.claimed_at, "Claimed"),
                          (status.replied_by, status.replied_at, "Replied")):
        if who:
            parts.append(f"{verb} by {mrkdwn(who)} at {_local(at, tz)}")
    if status.notice_posted_by:
        parts.append(f"Status update posted by {mrkdwn(status.notice_posted_by)} at "
                     f"{_local(status.notice_posted_at, tz)}: say we posted an update")
    if status.resolution:
        who = f" by {mrkdwn(status.closed_by)}" if status.closed_by else ""
        parts.append(f"Closed as {mrkdwn(status.resolution.replace('_', ' '))}{who}")
    elif status.snoozed_until:
        parts.append(f"Snoozed until {_local(status.snoozed_until, tz)}")
    return " · ".join(parts)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def headline(message: AlertMessage) -> str:
    title = message.headline
    if message.kind == "escalation" and message.reason == "quiet hours":
        title = (f"Negative mention of {message.brand} on {source_name(message.source)}"
                 " (quiet hours: on-call only)")
    elif message.kind == "escalation" and message.reason:
        title += f" ({message.reason})"
    line = f"*{mrkdwn(title)}*"
    if message.group_count > 1:
        line += f"  ·  {message.group_count} similar mentions"
    if message.kind == "escalation" and message.on_call:
        line = f"{message.on_call} {line}"  # the on-call group comes from settings, never from mention text
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
    status = message.status
    if message.kind == "test" or status.resolution:
        return None
    done = {"claim"} if status.claimed_by or status.replied_by else set()
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
        summary = message.summary or message.text
        blocks.append(section(mrkdwn(summary)))
        return f"{message.headline}: {summary}", blocks
    if message.kind == "notice":
        return _notice(message, tz, buttons)
    where = mrkdwn(source_name(message.source))
    facts = message.facts(f"*{mrkdwn(truncate(message.author, 80)) or 'unknown author'}* on {where}")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(facts)}]})
    url = link_target(message.url)
    blocks.append(section(_body(message, url)))
    if url:
        blocks.append(section(f"<{url}|Open on {mrkdwn(link_name(message.source, url))}>"))
    if message.reply_draft:
        draft = _fit(message.reply_draft, SECTION_LIMIT - 40, mrkdwn_quote)
        blocks.append(section("*Reply draft* (copy, edit, then send it yourself)\n" + draft))
    _footer(blocks, message, tz, buttons)
    text = f"{message.headline}: {truncate(message.text, 150)}" if message.text else message.headline
    return mrkdwn(text), blocks


def _footer(blocks: list[dict[str, Any]], message: AlertMessage, tz: ZoneInfo, buttons: bool) -> None:
    """Who has the case (claimed, replied, closed), then the buttons still to press."""
    status = status_line(message.status, tz)
    if status:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": status}]})
    actions = _buttons(message) if buttons else None
    if actions:
        blocks.append(actions)


def _notice(message: AlertMessage, tz: ZoneInfo, buttons: bool) -> tuple[str, list[dict[str, Any]]]:
    """A suggested status message for the brand's own account, with the incident's evidence."""
    found = message.evidence or IncidentEvidence()
    sources = ", ".join(source_name(s) for s in found.sources)
    evidence = (f"{found.count} reports · first posted {_local(found.first_at, tz)}, "
                f"latest {_local(found.latest_at, tz)} · {sources}")
    blocks = [section(headline(message)),
              {"type": "context", "elements": [{"type": "mrkdwn", "text": mrkdwn(evidence)}]},
              section("*Suggested post for your own account* (edit, post it, then press Notice posted)\n"
                      + mrkdwn_quote(message.text))]
    _footer(blocks, message, tz, buttons)
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



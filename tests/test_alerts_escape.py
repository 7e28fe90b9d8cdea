"""Hostile mention text cannot ping anyone, inject links or markup, in Slack, webhook or email alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from alerts.channels.slack.render import render
from alerts.escape import html_text, link_target, mrkdwn, mrkdwn_quote
from alerts.message import AlertMessage

HOSTILE = [
    "<!channel> refund me NOW",
    "<!here|here> look at this",
    "<!everyone>",
    "hey <@U024BE7LH> and <@W123|bob>",
    "<!subteam^S0614TZR7|support> fix it",
    "<https://evil.example|https://acme.example/login> click",
    "@channel @here @everyone wake up",
    "Tom & Jerry <b>bold</b> <script>alert(1)</script>",
    "```\n<!channel>\n```",
    "> quoted\n<!here>",
    "\x1b[31mred\x1b[0m \u202eevil\u202c",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_mrkdwn_leaves_no_control_sequence(text: str) -> None:
    for escaped in (mrkdwn(text), mrkdwn_quote(text)):
        assert "<" not in escaped and ">" not in escaped.replace("&gt;", "")
        assert "\x1b" not in escaped and "\u202e" not in escaped
        for word in ("@channel", "@here", "@everyone"):
            assert word not in escaped.lower()


def test_mrkdwn_escapes_exactly_the_three_characters() -> None:
    assert mrkdwn("a & b < c > d") == "a &amp; b &lt; c &gt; d"
    assert mrkdwn("&lt;!channel&gt;") == "&amp;lt;!channel&amp;gt;"  # already-escaped text stays literal
    assert mrkdwn("email me @ home") == "email me @ home"


def test_a_quote_cannot_be_left_by_the_text() -> None:
    quoted = mrkdwn_quote("Hi ann,\n\nsorry!\n<!channel>\n```\nend")
    assert all(line.startswith("&gt;") for line in quoted.split("\n"))


def test_html_text_escapes_markup_and_quotes() -> None:
    assert html_text('<a href="x">&\'</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;&lt;/a&gt;"


@pytest.mark.parametrize(("url", "ok"), [
    ("https://reddit.com/r/x/comments/1", True),
    ("javascript:alert(1)", False),
    ("https://evil.example|click here", False),
    ("https://a.example/<!channel>", False),
    ("https://a.example/ spaces", False),
])
def test_only_plain_http_links_become_links(url: str, ok: bool) -> None:
    assert (link_target(url) is not None) is ok


def hostile_message(text: str) -> AlertMessage:
    return AlertMessage(
        alert_id=7, kind="mention", brand="Acme", source="reddit", external_id="t3_x", author=text,
        text=text, url="https://evil.example|<!channel>", created_at=datetime(2026, 11, 1, tzinfo=UTC),
        label="negative", negative=0.9, title=text, reply_draft=f"Hi {text}, sorry",
        author_history={"negative": 1},
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_rendered_slack_message_has_no_ping_or_link_from_user_text(text: str) -> None:
    fallback, blocks = render(hostile_message(text), tz=ZoneInfo("UTC"))
    everything = fallback + json.dumps(blocks, ensure_ascii=False)
    for ping in ("<!channel", "<!here", "<!everyone", "<@", "<!subteam", "<https://evil", "<script"):
        assert ping not in everything
    assert "@channel" not in everything.lower() and "@here" not in everything.lower()


def test_huge_text_is_cut_to_slack_limits() -> None:
    _, blocks = render(hostile_message("&" * 200_000), tz=ZoneInfo("UTC"))
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert all(len(e["text"]) <= 2000 for e in block["elements"])

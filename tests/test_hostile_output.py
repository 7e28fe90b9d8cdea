"""Hostile mention text and authors in what people see: Slack messages, the digest e-mail and CSV
exports. Nothing crashes, user text can ping no one nor inject markup, and no cell runs as a formula.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.channels.slack.render import render
from alerts.message import AlertMessage
from monitor.cli.digest import FORMULA_START, spreadsheet_safe
from monitor.core.records import Classification, Mention, utcnow
from monitor.store import Store, clean_text
from tests.test_hostile import CONTROL, NASTY, TEXT

HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg onload=alert(1)>", "<!channel>",
    "<!here|here>", "<@U024BE7LH>", "<!subteam^S1|@team>", "@channel @everyone", "<http://evil.example|Acme support>",
    "=HYPERLINK(\"http://evil.example\",\"refund\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\u202eevil",
    "zero\u200bwidth", "\x1b[2J\x1b]0;owned\x07", "\x00nul", "\ud800lone", "👨‍👩‍👧 🙃", "ﷺ عربي", "x" * 5000,
]
BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
OUR_LINK = re.compile(r"<https?://[^\s<>|\"]+\|Open on [^<>]*>")


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every string Slack would parse as mrkdwn in these blocks."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return out


@settings(max_examples=200, deadline=None)
@given(text=TEXT, author=TEXT, title=TEXT, url=st.one_of(TEXT, st.sampled_from(HOSTILE)),
       source=st.sampled_from(["x", "reddit", "<!channel>", "a|b>"]))
def test_slack_messages_escape_any_text(text: str, author: str, title: str, url: str, source: str) -> None:
    # The dispatcher builds messages from stored rows, which the store has cleaned (test_hostile).
    text, author, title, url = (clean_text(v) for v in (text, author, title, url))
    message = AlertMessage(alert_id=7, kind="mention", brand="Acme", source=source, external_id="1",
                           author=author, text=text, url=url, created_at=utcnow() - timedelta(minutes=3),
                           label="negative", negative=0.93, title=title, reply_draft=f"Hi {author}, sorry!")
    fallback, blocks = render(message, tz=ZoneInfo("Europe/Paris"))
    json.dumps(blocks, ensure_ascii=False).encode("utf-8")  # sendable: no lone surrogates
    for shown in [fallback, *mrkdwn_texts(blocks)]:
        rest = OUR_LINK.sub("", shown)
        assert "<" not in rest and ">" not in rest, shown  # no <!channel>, <@U…>, <url|label> from users
        assert not BROADCAST.search(shown), shown
        assert not any(c in shown for c in CONTROL if c not in ("\t",)), repr(shown)
        assert "\x00" not in shown


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]


def test_digest_shows_hostile_mentions_as_text(store: Store, make_settings: Any) -> None:
    from alerts.digest import build_digest, render_digest

    now = utcnow()
    mentions = [Mention(source="reddit", external_id=f"h{i}", brand="Acme", author=bad, title=bad,
                        text=f"Acme is terrible {bad} awful refund", url=f"https://example.com/{i}",
                        created_at=now - timedelta(hours=1, minutes=i))
                for i, bad in enumerate(HOSTILE)]
    store.save_mentions(mentions)
    store.save_classifications(Classification(m.source, m.external_id, "lexicon", "negative", 0.95, 0.03, 0.02)
                               for m in mentions)
    settings_ = make_settings('[[brands]]\nname = "Acme"\nqueries = ["acme"]\n')
    subject, text, html = render_digest(build_digest(store, settings_, now=now), inline_images=True)

    assert "terrible" in html and "terrible" in text  # the hostile mentions are in it
    parser = _Tags()
    parser.feed(html)
    assert {"script", "svg"}.isdisjoint(parser.tags) and parser.handlers == []
    assert parser.tags.count("img") == html.count('<img src="data:image/png;base64,')  # only our charts
    for shown in (subject, text, html):
        assert not any(c in shown for c in CONTROL if c not in ("\t", "\r")), "control characters shown"
        assert "\x00" not in shown and "\u202e" not in shown


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(TEXT, st.sampled_from(HOSTILE), st.builds("".join, st.lists(NASTY, min_size=1))))
def test_no_csv_cell_starts_like_a_formula(tmp_path_factory: Any, value: str) -> None:
    cell = spreadsheet_safe(value)
    assert not str(cell).startswith(FORMULA_START)
    path = tmp_path_factory.mktemp("csv") / "out.csv"
    clean = cell.encode("utf-8", "replace").decode("utf-8")
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerow([clean])
    with path.open(newline="", encoding="utf-8") as back:
        [[read]] = list(csv.reader(back))
    assert not read.startswith(FORMULA_START)


def test_report_csv_neutralizes_formulas_in_imported_names(tmp_path: Path, runner: Any) -> None:
    """A file import names its own source: a formula there must stay text in `report --csv`."""
    from monitor.cli import cli

    rows = [{"id": str(i), "source": "=HYPERLINK(\"http://evil.example\")", "author": "@SUM(A1)",
             "text": "Acme is terrible, awful, I hate it, worst ever", "created_at": utcnow().isoformat()}
            for i in range(3)]
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    config = tmp_path / "settings.toml"
    config.write_text(f'database = "{tmp_path / "lp.db"}"\n[classifier]\nmodel = "lexicon"\n[[brands]]\n'
                      'name = "Acme"\n[alerts.channels.log]\ntype = "jsonl"\n'
                      f'options = {{ path = "{tmp_path / "alerts.jsonl"}" }}\n[[alerts.routes]]\nchannels = ["log"]\n',
                      encoding="utf-8")
    base = ["--config", str(config)]
    assert runner.invoke(cli, [*base, "import", str(data), "--brand", "Acme"]).exit_code == 0
    assert runner.invoke(cli, [*base, "alerts", "dispatch"]).exit_code == 0
    out = tmp_path / "report.csv"
    result = runner.invoke(cli, [*base, "report", "--since", "7d", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)
    assert not any(cell.startswith(FORMULA_START) for cell in cells)

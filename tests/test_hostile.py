"""Hostile input, property-based: whatever the text and author, nothing crashes and what people see is safe."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.channels.base import ChannelContext
from alerts.channels.console import ConsoleChannel
from alerts.message import AlertMessage, plain
from collectors.file import FileCollector
from monitor.core.config import Channel, Settings
from monitor.core.query import parse_query
from monitor.core.records import Mention
from monitor.store import Store

NASTY = st.sampled_from([
    "\x00", "\ud800", "\udfff", "\u202e", "\u200b", "\u2066", "\x1b[31m", "\x1b]0;title\x07", "<!channel>",
    "<!here>", "<@U024BE7LH>", "@here", "<script>alert(1)</script>", "=HYPERLINK(\"http://x\")", "+cmd",
    "&amp;", "🙃", "👨‍👩‍👧", "\r\n", "\t", "ﷺ", "𝕏", "'; DROP TABLE mentions; --", '"', "NEAR(", "*",
])
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=40)), max_size=30).map("".join)
CONTROL = [chr(c) for c in range(0x20) if c not in (0x0A,)] + ["\x7f", "\u202e", "\u2066"]


def _mention(text: str, author: str, i: int = 1) -> Mention:
    return Mention(source="x", external_id=str(i), text=text or "-", author=author,
                   created_at=datetime(2026, 11, 20, tzinfo=UTC), brand="Acme")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT, author=TEXT)
def test_any_text_is_stored_searchable_and_rendered_safely(tmp_path: Path, text: str, author: str) -> None:
    with Store(tmp_path / "h.db") as store:
        store.conn.execute("DELETE FROM mentions")
        [m] = store.save_mentions([_mention(text, author)])
        row = store.mention("x", "1")
        assert row is not None and "\x00" not in row.text
        stored_raw = store.conn.execute("SELECT raw FROM mentions WHERE source = 'x' AND external_id = '1'").fetchone()
        json.loads(stored_raw[0])
        row.text.encode("utf-8")  # storable and printable: no lone surrogates left
        store.list_mentions(search=text[:50] or "x")  # user text is never FTS syntax
    message = AlertMessage(alert_id=1, kind="mention", brand="Acme", source="x", external_id="1",
                           author=author, text=text, url="", created_at=m.created_at, label="negative",
                           negative=0.9)
    shown = ConsoleChannel("console", Channel(type="console"), ChannelContext.of(Settings())).render(message)
    for bad in CONTROL:
        if bad not in ("\t",):
            assert bad not in plain(text)
    assert "\x1b]" not in shown and "\u202e" not in shown


@settings(max_examples=100, deadline=None)
@given(query_text=st.text(max_size=30), text=TEXT)
def test_queries_never_crash_on_any_input(query_text: str, text: str) -> None:
    from monitor.core.errors import ConfigError

    try:
        query = parse_query(query_text)
    except ConfigError:
        return
    assert isinstance(query.matches(text), bool)


def test_one_megabyte_post_and_formula_cells_import_intact(tmp_path: Path, lexicon) -> None:
    from monitor.app.pipeline import run_collector

    huge = "Acme ruined my week. " * 47_000  # just under the 1,000,000 characters kept
    rows = [{"id": "big", "text": huge, "created_at": "2026-11-20T10:00:00Z"},
            {"id": "f", "text": "=HYPERLINK(\"http://evil.example\",\"click\") acme",
             "created_at": "2026-11-20T10:00:00Z", "author": "@here"}]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    settings_ = Settings()
    with Store(tmp_path / "big.db") as store:
        collector = FileCollector(settings_, path)
        report = run_collector(store, settings_, collector, kind="import", classifier=lexicon)
        assert report.new == 2
        big = store.mention("file", "big")
        assert big is not None and len(big.text) == len(huge)
        formula = store.mention("file", "f")
        assert formula is not None and formula.text.startswith("=HYPERLINK")  # stored as written

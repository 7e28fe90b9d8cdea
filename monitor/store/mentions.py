"""Mentions: saving them (new ones only), reading one, listing and full-text search, author history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor.core.records import Mention, utcnow
from monitor.core.rows import ListedMention, from_row
from monitor.store.connection import Connection
from monitor.store.values import clean_text, engagement_of, parse_ts, raw_json, ts

MENTION_COLUMNS = (
    "source", "external_id", "brand", "kind", "author", "url", "title", "text", "language", "rating",
    "parent_id", "app_version", "country", "created_at", "collected_at", "raw", "reach", "vendor_sentiment",
    "engagement",
)
def stored_mention(row: dict[str, Any]) -> Mention:
    """A mentions row as the record it was saved from (its raw payload parsed back)."""
    try:
        raw = json.loads(row.get("raw") or "{}")
    except ValueError:
        raw = {}
    return Mention(
        source=row["source"], external_id=row["external_id"], text=row["text"] or "",
        created_at=parse_ts(row["created_at"]) or utcnow(), brand=row.get("brand") or "",
        kind=row.get("kind") or "post", author=row.get("author") or "", url=row.get("url") or "",
        title=row.get("title") or "", language=row.get("language"), rating=row.get("rating"),
        parent_id=row.get("parent_id"), app_version=row.get("app_version"), country=row.get("country"),
        reach=row.get("reach"), engagement=engagement_of(row), vendor_sentiment=row.get("vendor_sentiment"),
        raw=raw if isinstance(raw, dict) else {},
    )


# A labeled negative that was worth an alert; verdicts stored before alert decisions existed count.
ALERTED = "coalesce(c.alert, 1) = 1"
# Any verdict that was worth an alert: those negatives, and a safety report of any label.
ALERT_VERDICT = "(c.alert = 1 OR (c.alert IS NULL AND c.label = 'negative'))"


class MentionQueries(Connection):
    """Mentions, keyed on (source, external_id)."""


    @staticmethod
    def _mention_row(m: Mention, collected_at: str) -> tuple[Any, ...]:
        """Values in MENTION_COLUMNS order."""
        return (
            # Every field an API fills is cleaned: a lone surrogate in a URL failed the whole batch.
            clean_text(m.source), clean_text(m.external_id), clean_text(m.brand), m.kind,
            clean_text(m.author), clean_text(m.url),
            clean_text(m.title), clean_text(m.text), m.language and clean_text(m.language), m.rating,
            m.parent_id and clean_text(m.parent_id), m.app_version and clean_text(m.app_version),
            m.country and clean_text(m.country), ts(m.created_at), collected_at,
            raw_json(m.raw, f"{m.source}/{m.external_id}"), m.reach,
            m.vendor_sentiment and clean_text(m.vendor_sentiment),
            json.dumps(m.engagement) if m.engagement else None,
        )

    def save_mentions(self, mentions: Iterable[Mention]) -> list[Mention]:
        """Insert mentions not stored yet; returns the new ones. Duplicates are ignored."""
        batch: dict[tuple[str, str], Mention] = {}
        for m in mentions:
            batch.setdefault(m.key, m)
        if not batch:
            return []
        collected_at = ts(utcnow())
        rows = [self._mention_row(m, collected_at) for m in batch.values()]
        with self.transaction():
            added = self.sql.insert_mentions(MENTION_COLUMNS, rows)
        return [m for key, m in batch.items() if key in added]

    def mention(self, source: str, external_id: str) -> Mention | None:
        rows = self._query(f"SELECT {', '.join(MENTION_COLUMNS)} FROM mentions WHERE source = ? AND external_id = ?",
                           [source, external_id])
        return stored_mention(rows[0]) if rows else None

    def set_language(self, source: str, external_id: str, language: str | None) -> None:
        self._execute(
            "UPDATE mentions SET language = ? WHERE source = ? AND external_id = ?",
            [language, source, external_id],
        )

    def other_brands(self, brands: Sequence[str], *, limit: int = 3) -> list[str]:
        """Up to ``limit`` brands with stored mentions that are not among ``brands``."""
        marks = ",".join("?" for _ in brands) or "NULL"
        return [r[0] for r in self._rows(
            f"SELECT DISTINCT brand FROM mentions WHERE brand NOT IN ({marks}) AND brand IS NOT NULL"
            " AND brand != '' ORDER BY brand LIMIT ?", [*brands, limit])]

    def count_mentions(self) -> int:
        return int(self._execute("SELECT count(*) FROM mentions").fetchone()[0])

    def list_mentions(
        self,
        *,
        brand: str | None = None,
        source: str | None = None,
        label: str | None = None,
        since: datetime | None = None,
        search: str | None = None,
        reason: str | None = None,
        limit: int = 50,
    ) -> list[ListedMention]:
        """Mentions newest first with their latest label; ``search`` is an FTS5 query, ``reason``
        a triage reason (alerts.outbox.triage) or ``alerted``."""
        where: list[str] = []
        params: list[Any] = []
        if reason == "alerted":
            # Alerted means a route queued it: a negative of a brand no route takes was sent to no one.
            where.append(ALERT_VERDICT + " AND EXISTS (SELECT 1 FROM alerts a"
                         " WHERE a.source = m.source AND a.external_id = m.external_id)")
        elif reason:
            where.append("c.reason = ?")
            params.append(reason)
        if brand:
            where.append("m.brand = ?")
            params.append(brand)
        if source:
            where.append("m.source = ?")
            params.append(source)
        if since:
            where.append("m.created_at >= ?")
            params.append(ts(since))
        if label:
            where.append("c.label = ?")
            params.append(label)
        if search is not None:
            query = self.sql.fts_query(search)
            if query is None:
                return []  # nothing searchable left in the words given
            where.append(self.sql.MATCH_MENTIONS)
            params.append(query)
        sql = (
            "SELECT m.source, m.external_id, m.brand, m.kind, m.author, m.url, m.title, m.text,"
            " m.language, m.rating, m.created_at, c.label, c.negative, c.model, c.alert, c.reason"
            " FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY m.created_at DESC LIMIT ?"
        )
        return [from_row(ListedMention, r) for r in self._query(sql, [*params, limit])]

    def author_history(
        self, source: str, author: str, *, before: datetime, days: int = 30, model: str | None = None
    ) -> dict[str, int]:
        """How often this author wrote here in the last ``days`` days, by label.

        The author's words are looked up in the full-text index's author column (there is no
        author index: see migration 0013), then matched exactly; a name with no letters or
        digits to look up falls back to the time window.
        """
        if not author:
            return {}
        window = [source, author, ts(before), ts(before - timedelta(days=days))]
        phrase = self.sql.author_phrase(author)
        lookup = self.sql.MATCH_MENTIONS + " AND " if phrase else ""
        rows = self._execute(
            "SELECT coalesce(c.label, 'unclassified'), count(*) FROM mentions m"
            " LEFT JOIN latest_labels c ON c.source = m.source AND c.external_id = m.external_id"
            f" WHERE {lookup}m.source = ? AND m.author = ? AND m.created_at < ? AND m.created_at >= ?"
            " GROUP BY 1",
            [phrase, *window] if phrase else window,
        )
        return {r[0]: r[1] for r in rows}

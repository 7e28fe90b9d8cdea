"""The SQLite store: every SQL statement listenpost runs lives in this module.

An ordinary SQLite file (WAL mode) that Datasette and the sqlite-utils CLI open as they are.
Open one ``Store`` per thread; read-then-write steps run under ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.core.errors import ConfigError, ListenpostError
from monitor.core.query import All, Any_, Node, Not, Term, parse_query
from monitor.core.records import Alert, Classification, Mention, utcnow
from monitor.store.audience import AudienceQueries, m0018_thanks
from monitor.store.browse import m0019_labeled_mentions
from monitor.store.notices import NoticeQueries
from monitor.store.workers import WorkerQueries, m0020_workers_and_leases

log = logging.getLogger(__name__)

MENTION_COLUMNS = (
    "source", "external_id", "brand", "kind", "author", "url", "title", "text", "language", "rating",
    "parent_id", "app_version", "country", "created_at", "collected_at", "raw", "reach", "vendor_sentiment",
    "engagement",
)
ALERT_STATUSES = ("pending", "sending", "sent", "failed", "suppressed")
HANDLING_FILTERS = {
    "open": "a.kind IN ('mention', 'escalation') AND a.status != 'failed' AND a.claimed_at IS NULL"
            " AND a.replied_at IS NULL AND a.closed_at IS NULL",
    "claimed": "a.claimed_at IS NOT NULL AND a.closed_at IS NULL",
    "closed": "a.closed_at IS NOT NULL",
}
# Alert rows read per mention when looking for recent incidents: one per channel it was routed to.
ALERT_ROWS_PER_MENTION = 8
MAX_TEXT = 1_000_000  # characters kept of one mention's text; the rest is cut, never the row
# One encoder for raw payloads: json.dumps with options builds a new one per call.
_RAW_JSON = json.JSONEncoder(ensure_ascii=False, default=str)
# Page cache per connection, in KiB (SQLite's default is 2 MiB): the mention indexes' hot pages
# stay in memory while a large backfill or import appends to them.
CACHE_KIB = 64 * 1024


def ts(value: datetime) -> str:
    """The one text form of a timestamp in the database: UTC, millisecond, sortable."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def engagement_of(row: dict[str, Any]) -> dict[str, int]:
    """A mention row's audience figures, headline first; empty where its source gave none."""
    try:
        figures = json.loads(row.get("engagement") or "{}")
    except ValueError:
        return {}
    return {str(k): v for k, v in figures.items() if isinstance(v, int)} if isinstance(figures, dict) else {}


def clean_text(value: str, limit: int | None = MAX_TEXT) -> str:
    """Text SQLite, JSON and terminals can hold: no NUL bytes, no lone surrogates, at most ``limit``."""
    if not (value.isascii() and "\x00" not in value):
        value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if limit is not None and len(value) > limit:
        log.warning("text of %d characters cut to its first %d", len(value), limit)
        return value[:limit]
    return value


def raw_json(raw: dict[str, Any], what: str = "") -> str:
    """A payload as stored: valid JSON under MAX_TEXT characters, long strings cut inside it.

    Cutting the encoded text would leave JSON nobody can read back; a payload still too big
    after its strings are shortened is replaced by a note saying so.
    """
    try:
        text = clean_text(_RAW_JSON.encode(raw), limit=None)
    except (ValueError, RecursionError) as exc:
        log.warning("%s: raw payload not kept (%s)", what, exc)
        return json.dumps({"listenpost_note": "raw payload could not be encoded"})
    if len(text) <= MAX_TEXT:
        return text
    log.warning("%s: raw payload of %d characters shortened to fit %d", what, len(text), MAX_TEXT)
    cut = _shorten(raw, MAX_TEXT // 4)
    text = clean_text(_RAW_JSON.encode({**cut, "listenpost_note": "long values shortened"}), limit=None)
    if len(text) <= MAX_TEXT:
        return text
    return json.dumps({"listenpost_note": f"raw payload of {len(text)} characters not kept"})


def _shorten(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value]
    return value


# A labeled negative that was worth an alert; verdicts stored before alert decisions existed count.
ALERTED = "coalesce(c.alert, 1) = 1"


def _m0001_core(db: sqlite_utils.Database) -> None:
    db.table("mentions").create(
        {
            "source": str, "external_id": str, "brand": str, "kind": str, "author": str,
            "url": str, "title": str, "text": str, "language": str, "rating": int,
            "parent_id": str, "app_version": str, "country": str, "created_at": str,
            "collected_at": str, "raw": str,
        },
        pk=("source", "external_id"),
        not_null={"text", "created_at", "collected_at"},
    )
    db.table("classifications").create(
        {
            "source": str, "external_id": str, "model": str, "label": str,
            "negative": float, "neutral": float, "positive": float, "classified_at": str,
        },
        pk=("source", "external_id", "model"),
    )
    db.table("alerts").create(
        {
            "id": int, "source": str, "external_id": str, "brand": str, "channel": str,
            "kind": str, "status": str, "attempts": int, "next_attempt_at": str,
            "last_error": str, "channel_message_id": str, "group_key": str,
            "created_at": str, "sending_since": str, "sent_at": str,
            "claimed_at": str, "claimed_by": str, "replied_at": str, "replied_by": str,
            "closed_at": str, "closed_by": str, "resolution": str, "snoozed_until": str,
            "escalated_at": str, "payload": str,
        },
        pk="id",
        defaults={"status": "pending", "attempts": 0, "payload": "{}"},
    )
    db.table("cursors").create(
        {"source": str, "query": str, "value": str, "updated_at": str},
        pk=("source", "query"),
    )
    db.table("runs").create(
        {
            "id": int, "source": str, "kind": str, "started_at": str, "finished_at": str,
            "fetched": int, "new": int, "negatives": int, "alerts": int, "error": str,
        },
        pk="id",
    )
    db.table("labeled_examples").create(
        {
            "id": int, "source": str, "external_id": str, "text": str, "label": str,
            "origin": str, "created_by": str, "created_at": str,
        },
        pk="id",
    )


def _m0002_fts(db: sqlite_utils.Database) -> None:
    db.table("mentions").enable_fts(["text", "title", "author"], create_triggers=True, tokenize="unicode61")


def _m0003_indexes(db: sqlite_utils.Database) -> None:
    db.table("mentions").create_index(["created_at"], if_not_exists=True)
    db.table("mentions").create_index(["brand", "created_at"], if_not_exists=True)
    db.table("mentions").create_index(["source", "author", "created_at"], if_not_exists=True)
    db.table("classifications").create_index(["model", "label"], if_not_exists=True)
    db.table("alerts").create_index(
        ["source", "external_id", "channel", "kind"], unique=True, if_not_exists=True
    )
    db.table("alerts").create_index(["status", "next_attempt_at"], if_not_exists=True)
    db.table("alerts").create_index(["group_key", "channel"], if_not_exists=True)
    db.table("runs").create_index(["source", "started_at"], if_not_exists=True)


def _m0004_latest_labels(db: sqlite_utils.Database) -> None:
    # The newest verdict per mention, whichever model gave it: what lists and stats show.
    db.create_view(
        "latest_labels",
        "SELECT c.* FROM classifications c WHERE c.classified_at = ("
        " SELECT max(c2.classified_at) FROM classifications c2"
        " WHERE c2.source = c.source AND c2.external_id = c.external_id)",
    )


def _m0007_digest_indexes(db: sqlite_utils.Database) -> None:
    # The digest and `report` select alerts and runs by time window.
    db.table("alerts").create_index(["created_at"], if_not_exists=True)
    db.table("runs").create_index(["started_at"], if_not_exists=True)
    # Covering indexes: counting a month of mentions by brand, source and latest label reads
    # only these, never the wide mention rows (docs/data-model.md has the measurement).
    db.table("mentions").create_index(["created_at", "brand", "source", "external_id"], if_not_exists=True)
    db.table("classifications").create_index(
        ["source", "external_id", "classified_at", "label", "negative"], if_not_exists=True
    )


def _m0010_scheduled_jobs(db: sqlite_utils.Database) -> None:
    # What `listenpost run` has scheduled, so `status` can show next runs and notice a dead daemon.
    db.table("jobs").create(
        {"id": str, "next_run_at": str, "running_since": str, "last_finished_at": str,
         "last_error": str, "updated_at": str},
        pk="id",
    )


def _m0005_alert_handling(db: sqlite_utils.Database) -> None:
    # Signatures of Slack interactivity requests already handled: a replay inside the
    # five-minute window is refused. Plus the lookups escalation and incidents make.
    db.table("slack_requests").create({"signature": str, "received_at": str}, pk="signature")
    db.table("slack_requests").create_index(["received_at"], if_not_exists=True)
    db.table("alerts").create_index(["status", "kind", "sent_at"], if_not_exists=True)
    db.table("alerts").create_index(["brand", "kind", "created_at"], if_not_exists=True)


def _m0011_outbox_indexes(db: sqlite_utils.Database) -> None:
    # The dispatcher's claim, every poll, asks for pending rows that are due OR 'sending' rows
    # past their lease: with an index for each side SQLite reads both, not the whole history.
    db.table("alerts").create_index(["status", "sending_since"], if_not_exists=True)
    # Escalation, every minute, wants delivered mention alerts nobody has handled: a partial
    # index holds just those few, which leave it once claimed, closed or escalated.
    db.execute(
        "CREATE INDEX IF NOT EXISTS idx_alerts_unhandled ON alerts (sent_at) WHERE kind = 'mention'"
        " AND status = 'sent' AND escalated_at IS NULL AND claimed_at IS NULL AND closed_at IS NULL"
    )


def _m0013_author_lookup_by_fulltext(db: sqlite_utils.Database) -> None:
    # An author index takes every new mention at a random page, which slows the store down as
    # it grows (docs/data-model.md). Author history reads the full-text index's author column
    # instead (see Store.author_history).
    db.execute("DROP INDEX IF EXISTS idx_mentions_source_author_created_at")


def _m0012_bulk_fulltext(db: sqlite_utils.Database) -> None:
    # save_mentions indexes each batch for search in one statement; the per-row insert trigger
    # cost more than the row itself. (Update and delete triggers stay.) The created_at index
    # duplicates the leading column of the covering (created_at, brand, ...) index.
    db.execute("DROP TRIGGER IF EXISTS mentions_ai")
    db.execute("DROP INDEX IF EXISTS idx_mentions_created_at")


def _m0014_alert_decisions(db: sqlite_utils.Database) -> None:
    # Labeled negative and worth an alert are separate decisions; the reason says why.
    db.table("classifications").add_column("alert", int)
    db.table("classifications").add_column("reason", str)


def _m0015_sent_reply_drafts(db: sqlite_utils.Database) -> None:
    # The reply draft an alert carried when it was delivered, so `alerts show` repeats what the
    # team saw rather than a draft rebuilt from today's settings. NULL until the alert is sent.
    if "reply_draft" not in db.table("alerts").columns_dict:
        db.table("alerts").add_column("reply_draft", str)


def _m0016_mention_reach(db: sqlite_utils.Database) -> None:
    # Imports carry an export's reach (followers) and the vendor's own sentiment verdict.
    columns = db.table("mentions").columns_dict
    if "reach" not in columns:
        db.table("mentions").add_column("reach", int)
    if "vendor_sentiment" not in columns:
        db.table("mentions").add_column("vendor_sentiment", str)


def _m0017_mention_engagement(db: sqlite_utils.Database) -> None:
    # Every audience figure a source gives (followers and impressions, points and comments...), as
    # JSON headline first; `reach` keeps the headline figure for thresholds and sorting.
    if "engagement" not in db.table("mentions").columns_dict:
        db.table("mentions").add_column("engagement", str)


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("0001_core_tables", _m0001_core),
    ("0002_mention_fulltext", _m0002_fts),
    ("0003_indexes", _m0003_indexes),
    ("0004_latest_labels_view", _m0004_latest_labels),
    ("0007_digest_indexes", _m0007_digest_indexes),
    ("0010_scheduled_jobs", _m0010_scheduled_jobs),
    ("0005_alert_handling", _m0005_alert_handling),
    ("0011_outbox_indexes", _m0011_outbox_indexes),
    ("0012_bulk_fulltext", _m0012_bulk_fulltext),
    ("0013_author_lookup_by_fulltext", _m0013_author_lookup_by_fulltext),
    ("0014_alert_decisions", _m0014_alert_decisions),
    ("0015_sent_reply_drafts", _m0015_sent_reply_drafts),
    ("0016_mention_reach", _m0016_mention_reach),
    ("0017_mention_engagement", _m0017_mention_engagement),
    ("0018_thanks", m0018_thanks),
    ("0019_labeled_mentions_view", m0019_labeled_mentions),
    ("0020_workers_and_leases", m0020_workers_and_leases),
]


class StoreError(ListenpostError):
    """The database cannot be opened or migrated."""


def _prepare_file(path: str) -> None:
    """Create the database file owner-only, or say in one line why it cannot be used."""
    if not path.strip():
        raise StoreError("the database path is empty: set `database` in the settings or pass --db FILE")
    target = Path(path)
    if target.is_dir():
        raise StoreError(f"{path}: is a directory, not a database file")
    if target.exists() and not target.is_file():
        # A FIFO, /dev/null or /dev/full: SQLite fails late, after leaving a journal file beside it.
        raise StoreError(f"{path}: is not a regular file (a device, pipe or socket), not a database file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            # Owner-only from the start: mention text and authors are personal data.
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise StoreError(f"{path}: cannot create the database: a file stands where its folder should be") from None
    except NotADirectoryError:
        raise StoreError(f"{path}: cannot create the database: part of its folder path is a file") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the database: {exc.strerror or exc}") from None
    if not os.access(path, os.R_OK | os.W_OK):
        raise StoreError(f"{path}: the database is read-only for this user; listenpost needs to write to it")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise StoreError(f"{path}: its folder is read-only; SQLite needs to write its journal files there")


class Store(AudienceQueries, NoticeQueries, WorkerQueries):
    """One connection to the listenpost database. Not shared between threads."""

    def __init__(self, path: str | Path, *, migrate: bool = True) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _prepare_file(self.path)
        try:
            conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 60000")
            self.db = sqlite_utils.Database(conn)
            if self.path != ":memory:":
                self._enable_wal()
            # In WAL mode NORMAL survives a killed process; only power loss can drop the last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._refuse_newer()
            if migrate:
                self.migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the database: {exc}") from None

    def _enable_wal(self) -> None:
        # Switching a new file to WAL needs the exclusive lock, and SQLite answers "locked" at
        # once (no busy wait) while another process is opening the same new file: wait for it.
        deadline = time.monotonic() + 60
        while True:
            try:
                self.db.enable_wal()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _refuse_newer(self) -> None:
        """A database a newer listenpost migrated has tables this version would misread."""
        known = {name for name, _ in MIGRATIONS}
        unknown = sorted(set(self.applied_migrations()) - known)
        if unknown:
            raise StoreError(
                f"{self.path}: written by a newer listenpost (migration {unknown[-1]} is unknown to "
                f"this version); upgrade listenpost to open it"
            )

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE: take the write lock up front so read-then-write cannot interleave."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- migrations -------------------------------------------------------------------------

    def applied_migrations(self) -> list[str]:
        if "migrations" not in self.db.table_names():
            return []
        return [r["name"] for r in self.db.query("SELECT name FROM migrations ORDER BY name")]

    def migrate(self, upto: str | None = None) -> list[str]:
        """Apply the named migrations not yet recorded, in order; returns their names."""
        if "migrations" not in self.db.table_names():
            # Under the write lock: a plain CREATE that read the schema first cannot wait for
            # another process creating the same new database (SQLite answers "locked" at once).
            with self.transaction():
                self.db.table("migrations").create({"name": str, "applied_at": str}, pk="name",
                                                   if_not_exists=True)
        done = set(self.applied_migrations())
        applied = []
        for name, step in sorted(MIGRATIONS, key=lambda m: m[0]):  # numbered names give the order
            if name in done:
                continue
            with self.transaction():
                if name in set(self.applied_migrations()):
                    continue  # another process got here first
                step(self.db)
                self.db.table("migrations").insert({"name": name, "applied_at": ts(utcnow())})
            applied.append(name)
            if name == upto:
                break
        return applied

    # -- mentions ---------------------------------------------------------------------------

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
        sql = (f"INSERT OR IGNORE INTO mentions ({', '.join(MENTION_COLUMNS)})"
               f" VALUES ({', '.join('?' for _ in MENTION_COLUMNS)})")
        with self.transaction():
            # With the write lock held, rows added now get rowids above the largest before:
            # that tells new from already stored, and feeds the full-text index in one go
            # (a per-row trigger cost more than the insert itself).
            last = self.conn.execute("SELECT coalesce(max(rowid), 0) FROM mentions").fetchone()[0]
            self.conn.executemany(sql, (self._mention_row(m, collected_at) for m in batch.values()))
            added = {(r[0], r[1]) for r in self.conn.execute(
                "SELECT source, external_id FROM mentions WHERE rowid > ?", [last])}
            if added:
                self.conn.execute(
                    "INSERT INTO mentions_fts (rowid, text, title, author)"
                    " SELECT rowid, text, title, author FROM mentions WHERE rowid > ?", [last])
        return [m for key, m in batch.items() if key in added]

    def mention(self, source: str, external_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query(
            "SELECT * FROM mentions WHERE source = ? AND external_id = ?", [source, external_id]
        ))
        return rows[0] if rows else None

    def set_language(self, source: str, external_id: str, language: str | None) -> None:
        self.conn.execute(
            "UPDATE mentions SET language = ? WHERE source = ? AND external_id = ?",
            [language, source, external_id],
        )

    def count_mentions(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM mentions").fetchone()[0])

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
    ) -> list[dict[str, Any]]:
        """Mentions newest first with their latest label; ``search`` is an FTS5 query, ``reason``
        a triage reason (alerts.triage) or ``alerted``."""
        where, params = [], []
        if reason == "alerted":
            # Alerted means a route queued it: a negative of a brand no route takes was sent to no one.
            where.append("c.label = 'negative' AND " + ALERTED + " AND EXISTS (SELECT 1 FROM alerts a"
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
            query = _fts_query(search)
            if query is None:
                return []  # nothing searchable left in the words given
            where.append("m.rowid IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)")
            params.append(query)
        sql = (
            "SELECT m.source, m.external_id, m.brand, m.kind, m.author, m.url, m.title, m.text,"
            " m.language, m.rating, m.created_at, c.label, c.negative, c.model, c.alert, c.reason"
            " FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY m.created_at DESC LIMIT ?"
        )
        return list(self.db.query(sql, [*params, limit]))

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
        phrase = author_phrase(author)
        lookup = "m.rowid IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?) AND " if phrase else ""
        rows = self.conn.execute(
            "SELECT coalesce(c.label, 'unclassified'), count(*) FROM mentions m"
            " LEFT JOIN latest_labels c ON c.source = m.source AND c.external_id = m.external_id"
            f" WHERE {lookup}m.source = ? AND m.author = ? AND m.created_at < ? AND m.created_at >= ?"
            " GROUP BY 1",
            [phrase, *window] if phrase else window,
        )
        return {r[0]: r[1] for r in rows}

    # -- classifications --------------------------------------------------------------------

    def save_classifications(self, items: Iterable[Classification]) -> None:
        rows = [
            {
                "source": c.source, "external_id": c.external_id, "model": c.model,
                "label": c.label, "negative": c.negative, "neutral": c.neutral,
                "positive": c.positive, "classified_at": ts(c.classified_at),
                "alert": None if c.alert is None else int(c.alert), "reason": c.reason or None,
            }
            for c in items
        ]
        if rows:
            with self.transaction():
                self.db.table("classifications").upsert_all(rows, pk=("source", "external_id", "model"))

    def unclassified(self, model: str, limit: int = 1000) -> list[dict[str, Any]]:
        """Mentions with no classification from ``model`` yet, oldest first."""
        return list(self.db.query(
            "SELECT m.source, m.external_id, m.brand, m.kind, m.text, m.title, m.language, m.rating,"
            " EXISTS (SELECT 1 FROM classifications c2 WHERE c2.source = m.source"
            " AND c2.external_id = m.external_id) AS classified_before FROM mentions m"
            " WHERE NOT EXISTS (SELECT 1 FROM classifications c WHERE c.source = m.source"
            " AND c.external_id = m.external_id AND c.model = ?)"
            " ORDER BY m.collected_at, m.created_at LIMIT ?",
            [model, limit],
        ))

    def label_counts(self, *, since: datetime | None = None) -> dict[str, int]:
        sql = (
            "SELECT coalesce(c.label, 'unclassified'), count(*) FROM mentions m"
            " LEFT JOIN latest_labels c ON c.source = m.source AND c.external_id = m.external_id"
        )
        params: list[Any] = []
        if since:
            sql += " WHERE m.created_at >= ?"
            params.append(ts(since))
        return {r[0]: r[1] for r in self.conn.execute(sql + " GROUP BY 1", params)}

    def stats(self, *, since: datetime | None = None) -> list[dict[str, Any]]:
        """Mention counts per brand, source and label."""
        sql = (
            "SELECT m.brand, m.source, coalesce(c.label, 'unclassified') AS label, count(*) AS n"
            " FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
        )
        params: list[Any] = []
        if since:
            sql += " WHERE m.created_at >= ?"
            params.append(ts(since))
        return list(self.db.query(sql + " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", params))

    # -- cursors ----------------------------------------------------------------------------

    def cursor(self, source: str, query: str) -> str | None:
        row = self.conn.execute(
            "SELECT value FROM cursors WHERE source = ? AND query = ?", [source, query]
        ).fetchone()
        return row[0] if row else None

    def save_cursor(self, source: str, query: str, value: str | None) -> None:
        if value is None:
            self.conn.execute("DELETE FROM cursors WHERE source = ? AND query = ?", [source, query])
            return
        self.db.table("cursors").upsert(
            {"source": source, "query": query, "value": value, "updated_at": ts(utcnow())},
            pk=("source", "query"),
        )

    # -- runs -------------------------------------------------------------------------------

    def start_run(self, source: str, kind: str) -> int:
        table = self.db.table("runs")
        table.insert({"source": source, "kind": kind, "started_at": ts(utcnow()),
                      "fetched": 0, "new": 0, "negatives": 0, "alerts": 0})
        return int(table.last_pk or 0)

    def finish_run(self, run_id: int, *, fetched: int, new: int, negatives: int = 0,
                   alerts: int = 0, error: str | None = None) -> None:
        self.db.table("runs").update(run_id, {
            "finished_at": ts(utcnow()), "fetched": fetched, "new": new,
            "negatives": negatives, "alerts": alerts, "error": error,
        })

    def last_runs(self) -> list[dict[str, Any]]:
        """Per source: the latest run, the latest success and the latest error."""
        return list(self.db.query(
            "SELECT source,"
            " max(started_at) AS last_run,"
            " max(CASE WHEN error IS NULL AND finished_at IS NOT NULL THEN finished_at END) AS last_success,"
            " max(CASE WHEN error IS NOT NULL THEN finished_at END) AS last_error_at,"
            " (SELECT r2.error FROM runs r2 WHERE r2.source = runs.source AND r2.error IS NOT NULL"
            "  ORDER BY r2.started_at DESC LIMIT 1) AS last_error"
            " FROM runs GROUP BY source ORDER BY source"
        ))

    def failed_runs(self, since: datetime) -> list[dict[str, Any]]:
        return list(self.db.query(
            "SELECT * FROM runs WHERE error IS NOT NULL AND started_at >= ? ORDER BY started_at",
            [ts(since)],
        ))

    # -- alerts outbox ----------------------------------------------------------------------

    def enqueue_alert(
        self,
        *,
        source: str,
        external_id: str,
        brand: str,
        channel: str,
        kind: str = "mention",
        group_key: str | None = None,
        payload: dict[str, Any] | None = None,
        not_before: datetime | None = None,
    ) -> int | None:
        """Add an alert to the outbox unless this mention already has one on this channel."""
        now = ts(utcnow())
        cur = self.conn.execute(
            "INSERT OR IGNORE INTO alerts (source, external_id, brand, channel, kind, status,"
            " attempts, next_attempt_at, group_key, created_at, payload)"
            " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)",
            [source, external_id, brand, channel, kind, ts(not_before) if not_before else now,
             group_key, now, json.dumps(payload or {}, ensure_ascii=False, default=str)],
        )
        return cur.lastrowid if cur.rowcount else None

    def claim_due_alerts(
        self, *, now: datetime | None = None, limit: int = 50, lease: float = 120.0,
        channels: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Take due alerts for sending: pending ones and 'sending' ones whose sender died.

        Marked 'sending' inside one immediate transaction (on PostgreSQL, rows another
        dispatcher is claiming are skipped), so two dispatchers never take the same row, and
        the claiming worker is recorded. A row left 'sending' past its lease is a crash to
        recover from.
        """
        now = now or utcnow()
        stale = ts(now - timedelta(seconds=lease))
        where = (
            "((status = 'pending' AND next_attempt_at <= ?)"
            " OR (status = 'sending' AND sending_since <= ?))"
        )
        params: list[Any] = [ts(now), stale]
        if channels is not None:
            where += f" AND channel IN ({','.join('?' for _ in channels)})"
            params.extend(channels)
        with self.transaction():
            rows = list(self.db.query(
                f"SELECT * FROM alerts WHERE {where} ORDER BY next_attempt_at, id LIMIT ?{self.CLAIM_LOCK}",
                [*params, limit],
            ))
            if rows:
                ids = [r["id"] for r in rows]
                self.conn.execute(
                    f"UPDATE alerts SET status = 'sending', sending_since = ?, sending_worker = ?,"
                    f" attempts = attempts + 1 WHERE id IN ({','.join('?' for _ in ids)})",
                    [ts(now), self.claimant, *ids],
                )
        for row in rows:
            row["attempts"] += 1
            row["sending_worker"] = self.claimant
        return rows

    def mark_sent(self, alert_id: int, message_id: str | None, *, reply_draft: str | None = None) -> None:
        """Record a delivery, with the reply draft the message carried ("" for none)."""
        self.conn.execute(
            "UPDATE alerts SET status = 'sent', sent_at = ?, channel_message_id = ?,"
            " last_error = NULL, reply_draft = ? WHERE id = ?",
            [ts(utcnow()), message_id, reply_draft, alert_id],
        )

    def mark_retry(self, alert_id: int, error: str, *, next_attempt: datetime) -> None:
        self.conn.execute(
            "UPDATE alerts SET status = 'pending', last_error = ?, next_attempt_at = ? WHERE id = ?",
            [error, ts(next_attempt), alert_id],
        )

    def mark_failed(self, alert_id: int, error: str) -> None:
        self.conn.execute(
            "UPDATE alerts SET status = 'failed', last_error = ? WHERE id = ?", [error, alert_id]
        )

    def set_alert_fields(self, alert_id: int, **values: Any) -> None:
        if values:
            cols = ", ".join(f"{k} = ?" for k in values)
            self.conn.execute(
                f"UPDATE alerts SET {cols} WHERE id = ?",
                [ts(v) if isinstance(v, datetime) else v for v in values.values()] + [alert_id],
            )

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM alerts WHERE id = ?", [alert_id]))
        return rows[0] if rows else None

    def list_alerts(
        self, *, status: str | None = None, handling: str | None = None, brand: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Outbox rows newest first; ``handling`` is open (nobody has it), claimed, or closed."""
        where, params = [], []
        if status:
            where.append("a.status = ?")
            params.append(status)
        if handling:
            where.append(HANDLING_FILTERS[handling])
        if brand:
            where.append("a.brand = ?")
            params.append(brand)
        sql = (
            "SELECT a.*, m.author, m.text, m.url, m.created_at AS posted_at FROM alerts a"
            " LEFT JOIN mentions m ON m.source = a.source AND m.external_id = a.external_id"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY a.created_at DESC, a.id DESC LIMIT ?"
        )
        return list(self.db.query(sql, [*params, limit]))

    def alert_counts(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self.conn.execute("SELECT status, count(*) FROM alerts GROUP BY 1")}

    def alert_record(self, row: dict[str, Any]) -> Alert:
        return Alert(
            id=row["id"], source=row["source"], external_id=row["external_id"], brand=row["brand"],
            channel=row["channel"], kind=row["kind"], status=row["status"],
            attempts=row["attempts"], created_at=parse_ts(row["created_at"]) or utcnow(),
            group_key=row.get("group_key"), channel_message_id=row.get("channel_message_id"),
        )

    # -- labeled examples -------------------------------------------------------------------

    def add_labeled_example(self, *, source: str, external_id: str, text: str, label: str,
                            origin: str, created_by: str = "") -> None:
        self.db.table("labeled_examples").insert({
            "source": source, "external_id": external_id, "text": text, "label": label,
            "origin": origin, "created_by": created_by, "created_at": ts(utcnow()),
        })

    def latest_label(self, source: str, external_id: str) -> tuple[str, float | None] | None:
        """The newest verdict on a mention: (label, negative probability)."""
        row = self.conn.execute(
            "SELECT label, negative FROM latest_labels WHERE source = ? AND external_id = ?",
            [source, external_id],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def gold_and_predicted(self, model: str) -> list[tuple[str, str, bool]]:
        """(label in the raw payload, model's label, alerted) for imported rows that carry a hand label."""
        return [(r[0], r[1], bool(r[2])) for r in self.conn.execute(
            "SELECT json_extract(m.raw, '$.label'), c.label, " + ALERTED.replace("= 1", "= 1 AND c.label = 'negative'")
            + " FROM mentions m JOIN classifications c"
            " ON c.source = m.source AND c.external_id = m.external_id AND c.model = ?"
            " WHERE json_extract(m.raw, '$.label') IS NOT NULL AND c.label != 'unscored'", [model],
        )]

    def rated_reviews(self, brand: str | None = None) -> list[dict[str, Any]]:
        """Stored mentions with a star rating (reviews), oldest first: labels the customer gave."""
        sql = ("SELECT source, external_id, brand, title, text, rating FROM mentions"
               " WHERE rating BETWEEN 1 AND 5" + (" AND brand = ?" if brand else "") + " ORDER BY created_at")
        return list(self.db.query(sql, [brand] if brand else []))

    def labeled_examples(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT text, label, origin FROM labeled_examples ORDER BY id"))

    def size_bytes(self) -> int:
        if self.path == ":memory:":
            return 0
        return sum(
            os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p)
        )


    # -- digest and report: aggregates over a time window ------------------------------------

    def period_counts(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Mentions posted in [since, until) per brand, source and latest label."""
        return list(self.db.query(
            "SELECT m.brand, m.source, coalesce(c.label, 'unclassified') AS label, count(*) AS n"
            " FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 1, 2, 3",
            [ts(since), ts(until)],
        ))

    def hourly_counts(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per brand and UTC hour ('YYYY-MM-DDTHH'): mentions and negatives posted."""
        return list(self.db.query(
            "SELECT m.brand, substr(m.created_at, 1, 13) AS hour, count(*) AS n,"
            " sum(c.label = 'negative') AS negatives"
            " FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 1, 2",
            [ts(since), ts(until)],
        ))

    def top_negatives(self, since: datetime, until: datetime, *, per_brand: int) -> list[dict[str, Any]]:
        """The most negative mentions posted in [since, until), at most ``per_brand`` per brand."""
        return list(self.db.query(
            "SELECT * FROM (SELECT m.brand, m.source, m.external_id, m.author, m.url, m.title,"
            " substr(m.text, 1, 2000) AS text, m.created_at, c.negative, row_number() OVER"
            " (PARTITION BY m.brand ORDER BY c.negative DESC, m.created_at DESC) AS rank"
            " FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? AND c.label = 'negative' AND " + ALERTED + ")"
            " WHERE rank <= ? ORDER BY brand, rank",
            [ts(since), ts(until), per_brand],
        ))

    def unanswered_negatives(self, since: datetime, *, per_brand: int) -> list[dict[str, Any]]:
        """Negatives posted since ``since`` with no reply or close recorded on any alert.

        Oldest first, at most ``per_brand`` per brand; ``total`` is the brand's full count.
        """
        return list(self.db.query(
            "SELECT * FROM (SELECT m.brand, m.source, m.external_id, m.author, m.url, m.title,"
            " substr(m.text, 1, 2000) AS text, m.created_at,"
            " (SELECT max(a.claimed_by) FROM alerts a WHERE a.source = m.source"
            "  AND a.external_id = m.external_id) AS claimed_by,"
            " (SELECT min(a.claimed_at) FROM alerts a WHERE a.source = m.source"
            "  AND a.external_id = m.external_id) AS claimed_at,"
            " row_number() OVER (PARTITION BY m.brand ORDER BY m.created_at) AS rank,"
            " count(*) OVER (PARTITION BY m.brand) AS total"
            " FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND c.label = 'negative' AND " + ALERTED + " AND NOT EXISTS ("
            "  SELECT 1 FROM alerts a WHERE a.source = m.source AND a.external_id = m.external_id"
            "  AND (a.replied_at IS NOT NULL OR a.closed_at IS NOT NULL)))"
            " WHERE rank <= ? ORDER BY brand, rank",
            [ts(since), per_brand],
        ))

    def worth_a_look(self, since: datetime, until: datetime, *, per_brand: int) -> list[dict[str, Any]]:
        """Negatives below the alert threshold posted in [since, until): not alerted, not lost.

        Most negative first, at most ``per_brand`` per brand; ``total`` is the brand's full count.
        """
        return list(self.db.query(
            "SELECT * FROM (SELECT m.brand, m.source, m.external_id, m.author, m.url, m.title,"
            " substr(m.text, 1, 2000) AS text, m.created_at, c.negative, row_number() OVER"
            " (PARTITION BY m.brand ORDER BY c.negative DESC, m.created_at DESC) AS rank,"
            " count(*) OVER (PARTITION BY m.brand) AS total"
            " FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? AND c.label = 'negative'"
            " AND c.reason = 'low-confidence')"
            " WHERE rank <= ? ORDER BY brand, rank",
            [ts(since), ts(until), per_brand],
        ))

    def triage_counts(self, since: datetime, until: datetime) -> dict[str, int]:
        """Mentions posted in [since, until) per triage reason (alerts.triage): spam, off-topic, ..."""
        rows = self.conn.execute(
            "SELECT coalesce(c.reason, ''), count(*) FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? GROUP BY 1",
            [ts(since), ts(until)],
        )
        return {r[0]: r[1] for r in rows if r[0]}

    def negative_texts(self, since: datetime, until: datetime, *, limit: int) -> list[dict[str, Any]]:
        """Negatives posted in [since, until) that were worth an alert (not spam, off-topic or a
        narrow call), newest first, for grouping into themes."""
        return list(self.db.query(
            "SELECT m.brand, m.source, m.url, m.title, substr(m.text, 1, 2000) AS text,"
            " m.created_at, c.negative FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.created_at >= ? AND m.created_at < ? AND c.label = 'negative'"
            " AND coalesce(c.alert, 1) = 1"
            " ORDER BY m.created_at DESC LIMIT ?",
            [ts(since), ts(until), limit],
        ))

    def response_times(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per source and step: how many alerted mentions got there, median and p90 seconds.

        A mention alerted on several channels counts once, at its first delivery, claim and
        reply. Steps are measured from when the mention was posted: 'collect' (stored here),
        'alert' (first sent), 'claim' and 'reply'; 'total' counts mentions alerted in
        [since, until). Each row also names the channels used. Percentiles are nearest-rank,
        computed in SQL so large windows stay cheap.
        """
        rows = list(self.db.query(
            "WITH cases AS (SELECT source, external_id, min(sent_at) AS sent_at,"
            " min(claimed_at) AS claimed_at, min(replied_at) AS replied_at FROM alerts a"
            " WHERE kind = 'mention' AND created_at >= ? AND created_at < ? GROUP BY source, external_id),"
            # k: the window's cases, read from alerts through the created_at index
            " base AS (SELECT k.source,"
            " max(0, julianday(m.collected_at) - julianday(m.created_at)) * 86400.0 AS collect_s,"
            " max(0, julianday(k.sent_at) - julianday(m.created_at)) * 86400.0 AS alert_s,"
            " max(0, julianday(k.claimed_at) - julianday(m.created_at)) * 86400.0 AS claim_s,"
            " max(0, julianday(k.replied_at) - julianday(m.created_at)) * 86400.0 AS reply_s"
            " FROM cases k JOIN mentions m ON m.source = k.source AND m.external_id = k.external_id),"
            " steps AS (SELECT source, 'total' AS step, 0.0 AS secs FROM base"
            "  UNION ALL SELECT source, 'collect', collect_s FROM base"
            "  UNION ALL SELECT source, 'alert', alert_s FROM base"
            "  UNION ALL SELECT source, 'claim', claim_s FROM base"
            "  UNION ALL SELECT source, 'reply', reply_s FROM base),"
            " ranked AS (SELECT source, step, secs,"
            "  row_number() OVER (PARTITION BY source, step ORDER BY secs) AS rn,"
            "  count(*) OVER (PARTITION BY source, step) AS n"
            "  FROM steps WHERE secs IS NOT NULL)"
            " SELECT source, step, max(n) AS n,"
            " min(CASE WHEN rn >= (n + 1) / 2 THEN secs END) AS median,"
            " min(CASE WHEN rn >= (9 * n + 9) / 10 THEN secs END) AS p90"
            " FROM ranked GROUP BY 1, 2 ORDER BY 1, 2",
            [ts(since), ts(until)],
        ))
        channels: dict[str, set[str]] = {}
        for source, channel in self.conn.execute(
            "SELECT DISTINCT source, channel FROM alerts WHERE kind = 'mention' AND created_at >= ?"
            " AND created_at < ?", [ts(since), ts(until)],
        ):
            channels.setdefault(source, set()).add(channel)
        for row in rows:
            row["channels"] = sorted(channels.get(row["source"], ()))
        return rows

    def run_summary(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per source: collector runs started in [since, until), how many failed, the last error."""
        return list(self.db.query(
            "SELECT source, count(*) AS runs, count(error) AS failed,"
            " (SELECT r2.error FROM runs r2 WHERE r2.source = runs.source AND r2.error IS NOT NULL"
            "  AND r2.started_at >= ? AND r2.started_at < ? ORDER BY r2.started_at DESC LIMIT 1)"
            " AS last_error FROM runs WHERE started_at >= ? AND started_at < ?"
            " GROUP BY source ORDER BY source",
            [ts(since), ts(until), ts(since), ts(until)],
        ))

    # -- scheduled jobs (`listenpost run`) ------------------------------------------------

    def schedule_jobs(self, next_runs: dict[str, datetime | None]) -> None:
        """Record the daemon's job plan at start; jobs it no longer runs are forgotten.

        Workers sharing the database schedule the same jobs: a starting worker updates the
        plan in place and leaves the others' running jobs alone."""
        now = ts(utcnow())
        with self.transaction():
            marks = ",".join("?" for _ in next_runs) or "NULL"
            self.conn.execute(f"DELETE FROM jobs WHERE id NOT IN ({marks})", list(next_runs))
            for job_id, when in next_runs.items():
                self.conn.execute(
                    "INSERT INTO jobs (id, next_run_at, updated_at) VALUES (?, ?, ?) ON CONFLICT (id)"
                    " DO UPDATE SET next_run_at = excluded.next_run_at, running_since = NULL,"
                    " updated_at = excluded.updated_at",
                    [job_id, ts(when) if when else None, now])

    def job_started(self, job_id: str) -> None:
        now = ts(utcnow())
        self.conn.execute(
            "UPDATE jobs SET running_since = ?, updated_at = ? WHERE id = ?", [now, now, job_id]
        )

    def job_finished(self, job_id: str, *, next_run_at: datetime | None, error: str | None) -> None:
        now = ts(utcnow())
        self.conn.execute(
            "UPDATE jobs SET running_since = NULL, last_finished_at = ?, last_error = ?,"
            " next_run_at = ?, updated_at = ? WHERE id = ?",
            [now, error, ts(next_run_at) if next_run_at else None, now, job_id],
        )

    def unschedule_jobs(self) -> None:
        """The daemon stopped cleanly: nothing is due any more, so nothing is overdue."""
        self.conn.execute(
            "UPDATE jobs SET next_run_at = NULL, running_since = NULL, updated_at = ?", [ts(utcnow())]
        )

    def scheduled_jobs(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self.db.query("SELECT * FROM jobs ORDER BY id")}

    # -- alert handling: claims, incidents, escalation, Slack interactivity ------------------

    def case_alert_ids(self, alert_id: int) -> list[int]:
        """The rows that are one case with this alert: its mention's alerts on every channel,
        and those of every mention in the same incident. Praise and status notices are cases of
        their own: a praise alert's rows of that mention, a notice's rows of that incident."""
        return [r[0] for r in self.conn.execute(
            "SELECT b.id FROM alerts a JOIN alerts b ON ((b.source = a.source AND b.external_id = a.external_id)"
            " OR b.group_key = a.group_key)"
            " AND CASE WHEN a.kind IN ('praise', 'notice') THEN b.kind = a.kind"
            " ELSE b.kind IN ('mention', 'escalation') END"
            " WHERE a.id = ? ORDER BY b.id", [alert_id],
        )]

    def update_case(self, alert_id: int, *, only_unset: str | None = None, **values: Any) -> list[int]:
        """Set fields on every row of the alert's case; ``only_unset`` keeps the first writer
        (a second Claim does not take a claimed alert). Returns the rows changed."""
        with self.transaction():
            ids = self.case_alert_ids(alert_id)
            if only_unset:
                ids = [i for i in ids if self.conn.execute(
                    f"SELECT {only_unset} IS NULL FROM alerts WHERE id = ?", [i]).fetchone()[0]]
            for i in ids:
                self.set_alert_fields(i, **values)
        return ids

    def requeue_alerts(self, ids: Sequence[int]) -> int:
        """Failed (or pending) alerts back into the outbox, due now, with fresh attempts."""
        if not ids:
            return 0
        marks = ",".join("?" for _ in ids)
        cur = self.conn.execute(
            f"UPDATE alerts SET status = 'pending', attempts = 0, next_attempt_at = ?"
            f" WHERE id IN ({marks}) AND status IN ('failed', 'pending', 'suppressed')",
            [ts(utcnow()), *ids],
        )
        return cur.rowcount

    def group_root(self, group_key: str, channel: str, before_id: int) -> dict[str, Any] | None:
        """The first delivered alert of an incident on a channel: later ones join its thread."""
        rows = list(self.db.query(
            "SELECT * FROM alerts WHERE group_key = ? AND channel = ? AND id < ? AND status = 'sent'"
            " AND channel_message_id IS NOT NULL ORDER BY id LIMIT 1",
            [group_key, channel, before_id],
        ))
        return rows[0] if rows else None

    def group_size(self, group_key: str, channel: str, upto_id: int | None = None) -> int:
        """How many alerts an incident has on a channel (up to and including ``upto_id``)."""
        return int(self.conn.execute(
            "SELECT count(*) FROM alerts WHERE group_key = ? AND channel = ? AND id <= ? AND kind != 'notice'",
            [group_key, channel, upto_id if upto_id is not None else 2**62],
        ).fetchone()[0])

    def recent_incidents(self, brand: str, since: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Newest first: each recent mention alert of a brand with its incident key and text."""
        # Only the newest alert rows are read (a mention has one per channel it went to): grouping
        # every alert of the window cost a scan per negative mention when a brand had thousands.
        return list(self.db.query(
            "SELECT recent.group_key, recent.source, recent.external_id, m.text, m.created_at FROM ("
            " SELECT source, external_id, group_key, max(id) AS newest FROM ("
            "  SELECT id, source, external_id, group_key FROM alerts"
            "  WHERE brand = ? AND kind = 'mention' AND created_at >= ? AND group_key IS NOT NULL"
            "  ORDER BY created_at DESC LIMIT ?)"
            " GROUP BY source, external_id ORDER BY newest DESC LIMIT ?) recent"
            " JOIN mentions m ON m.source = recent.source AND m.external_id = recent.external_id"
            " ORDER BY recent.newest DESC",
            [brand, ts(since), limit * ALERT_ROWS_PER_MENTION, limit],
        ))

    def hourly_negatives(self, brand: str, since: datetime, until: datetime) -> dict[str, int]:
        """Negative mentions of a brand per hour ('YYYY-MM-DDTHH'), by posting time."""
        rows = self.conn.execute(
            "SELECT substr(m.created_at, 1, 13), count(*) FROM mentions m JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id"
            " WHERE m.brand = ? AND c.label = 'negative' AND m.created_at >= ? AND m.created_at < ?"
            " AND coalesce(c.reason, '') NOT IN ('spam', 'off-topic')"
            " GROUP BY 1",
            [brand, ts(since), ts(until)],
        )
        return {r[0]: r[1] for r in rows}

    def history_start(self, brand: str) -> datetime | None:
        """When collection began for this brand: the later of the first run and its oldest mention."""
        first_run = self.conn.execute("SELECT min(started_at) FROM runs").fetchone()[0]
        oldest = self.conn.execute(
            "SELECT created_at FROM mentions WHERE brand = ? ORDER BY created_at LIMIT 1", [brand]
        ).fetchone()
        if first_run is None or oldest is None:
            return None
        return max(parse_ts(first_run), parse_ts(oldest[0]))  # type: ignore[type-var]

    def last_alert_at(self, brand: str, kind: str) -> datetime | None:
        row = self.conn.execute(
            "SELECT max(created_at) FROM alerts WHERE brand = ? AND kind = ?", [brand, kind]
        ).fetchone()
        return parse_ts(row[0]) if row else None

    def unclaimed_alerts(self, *, sent_before: datetime, now: datetime) -> list[dict[str, Any]]:
        """Delivered mention alerts nobody claimed or closed, not snoozed, not escalated yet."""
        return list(self.db.query(
            "SELECT a.* FROM alerts a WHERE a.kind = 'mention' AND a.status = 'sent'"
            " AND a.sent_at <= ? AND a.escalated_at IS NULL"
            # Implied by NOT EXISTS below (b can be a itself); spelled out so the partial index applies.
            " AND a.claimed_at IS NULL AND a.closed_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM alerts b WHERE ((b.source = a.source"
            "  AND b.external_id = a.external_id) OR b.group_key = a.group_key) AND (b.claimed_at IS NOT NULL"
            "  OR b.closed_at IS NOT NULL OR b.snoozed_until > ?))"
            " ORDER BY a.id",
            [ts(sent_before), ts(now)],
        ))

    def remember_request(self, signature: str, *, now: datetime, keep: float) -> bool:
        """Record a signed request; False when it was seen before (a replay)."""
        with self.transaction():
            self.conn.execute("DELETE FROM slack_requests WHERE received_at < ?",
                              [ts(now - timedelta(seconds=keep))])
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO slack_requests (signature, received_at) VALUES (?, ?)",
                [signature, ts(now)],
            )
        return cur.rowcount == 1

    # -- maintenance ------------------------------------------------------------------------

    def drop_raw_payloads(self, collected_before: datetime, *, chunk: int = 1000) -> int:
        """Replace raw API payloads of mentions collected before the cutoff with '{}'.

        In rowid order and in chunks, each its own short transaction: collectors writing
        meanwhile wait for one chunk, not the whole sweep, and no chunk rescans the rows
        already done.
        """
        cleared, last = 0, 0
        while True:
            with self.transaction():
                ids = [r[0] for r in self.conn.execute(
                    "SELECT rowid FROM mentions WHERE rowid > ? AND collected_at < ? AND raw != '{}'"
                    " ORDER BY rowid LIMIT ?",
                    [last, ts(collected_before), chunk],
                )]
                if not ids:
                    return cleared
                self.conn.execute(
                    f"UPDATE mentions SET raw = '{{}}' WHERE rowid IN ({','.join('?' for _ in ids)})", ids
                )
            cleared += len(ids)
            last = ids[-1]

    def analyze(self) -> None:
        self.conn.execute("ANALYZE")

    def vacuum(self) -> None:
        """Give free pages back to the file system; VACUUM cannot run inside a transaction."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.execute("VACUUM")


def author_phrase(author: str) -> str | None:
    """An FTS5 query for an author name as a phrase in the author column; None if it has no words."""
    author = clean_text(author)
    if not any(ch.isalnum() for ch in author):
        return None
    # Inside quotes FTS5 splits the name with the index's own tokenizer; quotes are doubled.
    return 'author : "' + author.replace('"', '""') + '"'


def _fts_query(text: str) -> str | None:
    """The search as an FTS5 expression, in the brands' query syntax: OR, -exclusion, "phrases".

    Single words match as prefixes (leak finds leaks). Every term is quoted, so nothing a
    person types is FTS5 syntax (a stray quote or NEAR); text that does not parse as a query
    is searched as plain words. None when nothing searchable is left.
    """
    try:
        root: Node = parse_query(text).root
    except ConfigError:
        root = All(tuple(Term(w) for w in text.split()))
    return _fts(root)


def _fts(node: Node) -> str | None:
    if isinstance(node, Term):
        term = clean_text(node.text)
        if not any(ch.isalnum() for ch in term):
            return None
        return '"' + term.replace('"', '""') + '"' + ("" if len(term.split()) > 1 else "*")
    if isinstance(node, Any_):
        parts = [p for p in (_fts(n) for n in node.nodes) if p]
        return "(" + " OR ".join(parts) + ")" if parts else None
    if isinstance(node, All):
        wanted = [p for p in (_fts(n) for n in node.nodes if not isinstance(n, Not)) if p]
        unwanted = [p for p in (_fts(n.node) for n in node.nodes if isinstance(n, Not)) if p]
        if not wanted:
            return None  # FTS5 cannot search for "everything but": an exclusion needs a word to look for
        return "(" + " AND ".join(wanted) + ")" + "".join(f" NOT {p}" for p in unwanted)
    return None  # a lone exclusion

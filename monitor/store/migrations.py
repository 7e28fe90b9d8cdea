"""The schema as named migrations, applied in order on open and recorded in ``migrations``.

A migration's name never changes once released: databases record the names they have. A new
one goes at the end of ``MIGRATIONS`` with the next number.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from monitor.core.records import utcnow
from monitor.store.connection import Connection
from monitor.store.pg_schema import POSTGRES_MIGRATIONS
from monitor.store.sqlite import SqliteDialect, StoreError
from monitor.store.values import ts


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

def _m0005_alert_handling(db: sqlite_utils.Database) -> None:
    # Signatures of Slack interactivity requests already handled: a replay inside the
    # five-minute window is refused. Plus the lookups escalation and incidents make.
    db.table("slack_requests").create({"signature": str, "received_at": str}, pk="signature")
    db.table("slack_requests").create_index(["received_at"], if_not_exists=True)
    db.table("alerts").create_index(["status", "kind", "sent_at"], if_not_exists=True)
    db.table("alerts").create_index(["brand", "kind", "created_at"], if_not_exists=True)

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

def _m0012_bulk_fulltext(db: sqlite_utils.Database) -> None:
    # save_mentions indexes each batch for search in one statement; the per-row insert trigger
    # cost more than the row itself. (Update and delete triggers stay.) The created_at index
    # duplicates the leading column of the covering (created_at, brand, ...) index.
    db.execute("DROP TRIGGER IF EXISTS mentions_ai")
    db.execute("DROP INDEX IF EXISTS idx_mentions_created_at")

def _m0013_author_lookup_by_fulltext(db: sqlite_utils.Database) -> None:
    # An author index takes every new mention at a random page, which slows the store down as
    # it grows (docs/data-model.md). Author history reads the full-text index's author column
    # instead (see Store.author_history).
    db.execute("DROP INDEX IF EXISTS idx_mentions_source_author_created_at")

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

def _m0018_thanks(db: sqlite_utils.Database) -> None:
    # A thank-you sent for a mention of praise, whichever channel it was recorded from.
    db.execute("CREATE TABLE IF NOT EXISTS thanks (source TEXT NOT NULL, external_id TEXT NOT NULL,"
               " thanked_at TEXT NOT NULL, thanked_by TEXT NOT NULL, PRIMARY KEY (source, external_id))")

def _m0019_labeled_mentions(db: sqlite_utils.Database) -> None:
    # One row per mention with its latest verdict and why it was or was not alerted: what people
    # browse and facet by brand, source and label.
    db.create_view(
        "labeled_mentions",
        "SELECT m.created_at AS posted, m.brand, m.source, m.kind, m.author, m.text,"
        " m.url AS post, m.reach, m.rating, m.language, coalesce(c.label, 'unclassified') AS label,"
        " c.reason, c.negative, c.positive, m.external_id"
        " FROM mentions m LEFT JOIN latest_labels c ON c.source = m.source AND c.external_id = m.external_id",
        replace=True,
    )

def _m0020_workers_and_leases(db: sqlite_utils.Database) -> None:
    # Workers of `listenpost run` sharing this database, the jobs they hold, the mentions they
    # are classifying, and which worker is sending an alert.
    db.execute("CREATE TABLE IF NOT EXISTS workers (id TEXT PRIMARY KEY, host TEXT NOT NULL,"
               " pid INTEGER NOT NULL, started_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL, stopped_at TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, worker_id TEXT,"
               " acquired_at TEXT NOT NULL, expires_at TEXT NOT NULL, next_due_at TEXT)")
    db.execute("CREATE INDEX IF NOT EXISTS leases_worker ON leases (worker_id, expires_at)")
    db.execute("CREATE TABLE IF NOT EXISTS mention_claims (source TEXT NOT NULL, external_id TEXT NOT NULL,"
               " model TEXT NOT NULL, worker_id TEXT NOT NULL, expires_at TEXT NOT NULL,"
               " PRIMARY KEY (source, external_id, model))")
    db.execute("CREATE INDEX IF NOT EXISTS mention_claims_worker ON mention_claims (worker_id)")
    db.execute("ALTER TABLE alerts ADD COLUMN sending_worker TEXT")


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("0001_core_tables", _m0001_core),
    ("0002_mention_fulltext", _m0002_fts),
    ("0003_indexes", _m0003_indexes),
    ("0004_latest_labels_view", _m0004_latest_labels),
    ("0005_alert_handling", _m0005_alert_handling),
    ("0007_digest_indexes", _m0007_digest_indexes),
    ("0010_scheduled_jobs", _m0010_scheduled_jobs),
    ("0011_outbox_indexes", _m0011_outbox_indexes),
    ("0012_bulk_fulltext", _m0012_bulk_fulltext),
    ("0013_author_lookup_by_fulltext", _m0013_author_lookup_by_fulltext),
    ("0014_alert_decisions", _m0014_alert_decisions),
    ("0015_sent_reply_drafts", _m0015_sent_reply_drafts),
    ("0016_mention_reach", _m0016_mention_reach),
    ("0017_mention_engagement", _m0017_mention_engagement),
    ("0018_thanks", _m0018_thanks),
    ("0019_labeled_mentions_view", _m0019_labeled_mentions),
    ("0020_workers_and_leases", _m0020_workers_and_leases),
]


class Migrations(Connection):
    """Applying and listing the migrations; a database from a newer listenpost is refused."""

    def _opened(self, *, migrate: bool) -> None:
        self._refuse_newer()
        if migrate:
            self.migrate()

    def _refuse_newer(self) -> None:
        """A database a newer listenpost migrated has tables this version would misread."""
        known = {name for name, _ in MIGRATIONS}
        unknown = sorted(set(self.applied_migrations()) - known)
        if unknown:
            raise StoreError(
                f"{self.path}: written by a newer listenpost (migration {unknown[-1]} is unknown to "
                f"this version); upgrade listenpost to open it"
            )

    def applied_migrations(self) -> list[str]:
        if "migrations" not in self.sql.table_names():
            return []
        return [r[0] for r in self._rows("SELECT name FROM migrations ORDER BY name")]

    def migrate(self, upto: str | None = None) -> list[str]:
        """Apply the named migrations not yet recorded, in order; returns their names."""
        if "migrations" not in self.sql.table_names():
            # Under the write lock: a plain CREATE that read the schema first cannot wait for
            # another process creating the same new database (SQLite answers "locked" at once).
            with self.transaction():
                self.sql.lock_migrations()
                self._execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
        done = set(self.applied_migrations())
        applied = []
        for name, step in MIGRATIONS:
            if name in done:
                continue
            with self.transaction():
                self.sql.lock_migrations()
                if name in set(self.applied_migrations()):
                    continue  # another process got here first
                if isinstance(self.sql, SqliteDialect):
                    step(self.sql.db)
                else:
                    for statement in POSTGRES_MIGRATIONS[name]:
                        self._execute(statement)
                self._execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", [name, ts(utcnow())])
            applied.append(name)
            if name == upto:
                break
        return applied

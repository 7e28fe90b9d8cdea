"""The store: every SQL statement listenpost runs lives in this package, one module per concern.

An ordinary SQLite file (WAL mode) that Datasette and the sqlite-utils CLI open as they are, or
a PostgreSQL database named by a ``postgresql://`` URL, for several workers. Open one ``Store``
per thread; read-then-write steps run under ``BEGIN IMMEDIATE`` on SQLite and take row locks on
PostgreSQL. docs/data-model.md tells which module holds what.
"""

from __future__ import annotations

from monitor.store.audience import AudienceQueries, ReachSummary, ThanksSummary
from monitor.store.cases import CaseQueries
from monitor.store.classifications import ClassificationQueries
from monitor.store.copying import COPIED_TABLES, CopiedTable, CopyQueries
from monitor.store.maintenance import Maintenance
from monitor.store.mentions import MENTION_COLUMNS, MentionQueries
from monitor.store.migrations import MIGRATIONS, Migrations
from monitor.store.notices import Evidence, NoticeQueries
from monitor.store.outbox import ALERT_STATUSES, OutboxQueries
from monitor.store.reports import ReportQueries
from monitor.store.runs import RunQueries
from monitor.store.sqlite import StoreError, author_phrase
from monitor.store.sqlite import fts_query as _fts_query
from monitor.store.values import MAX_TEXT, clean_text, engagement_of, parse_ts, raw_json, ts
from monitor.store.workers import WorkerQueries


class Store(
    MentionQueries, ClassificationQueries, CaseQueries, OutboxQueries, NoticeQueries, AudienceQueries,
    RunQueries, ReportQueries, WorkerQueries, CopyQueries, Maintenance, Migrations,
):
    """One connection to the listenpost database, with every query the application makes.
    Not shared between threads."""

    def __enter__(self) -> Store:
        return self


__all__ = [
    "ALERT_STATUSES", "COPIED_TABLES", "MAX_TEXT", "MENTION_COLUMNS", "MIGRATIONS", "CopiedTable", "Evidence",
    "ReachSummary", "Store", "StoreError", "ThanksSummary", "_fts_query", "author_phrase", "clean_text",
    "engagement_of", "parse_ts", "raw_json", "ts",
]

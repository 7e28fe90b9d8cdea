"""One connection to the database and the few methods every query goes through.

The per-concern parts of ``Store`` run SQL only through ``_query``, ``_rows``, ``_one``, ``_execute_many``,
``_execute`` and ``transaction``, which hand it to the dialect (``self.sql``: sqlite.py or
postgres.py); the few fragments that differ between the two come from the dialect too.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from monitor.core.database import DatabaseLocation, parse_database
from monitor.core.workers import this_process, worker_name
from monitor.store import sqlite
from monitor.store.sqlite import StoreError

if TYPE_CHECKING:
    from monitor.store.postgres import PostgresDialect

    Dialect = sqlite.SqliteDialect | PostgresDialect

Params = Sequence[Any]


class Connection:
    """One connection to the listenpost database. Not shared between threads."""

    worker_id: str | None = None

    @property
    def claimant(self) -> str:
        """Who this connection claims work for: the worker it runs in, else host:pid."""
        if self.worker_id:
            return self.worker_id
        return worker_name(*this_process())

    def __init__(self, database: str | Path, *, migrate: bool = True, read_only: bool = False) -> None:
        """``read_only``: the database as it is, never migrated nor written (`db copy`'s source)."""
        migrate = migrate and not read_only
        location = _location(database)
        self.location = location
        self.path = location.display()
        self.sql: Dialect
        if location.kind == "postgresql":
            from monitor.store.postgres import PostgresDialect

            self.sql = PostgresDialect(location)
            self._opened(migrate=migrate)
            return
        try:
            self.sql = sqlite.SqliteDialect(location.path, read_only=read_only)
            self._opened(migrate=migrate)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the database: {exc}") from None

    def _opened(self, *, migrate: bool) -> None:
        """Called once the connection is up: the migrations check and apply themselves here."""

    @property
    def CLAIM_LOCK(self) -> str:
        """Appended to a claiming SELECT ... LIMIT ?: " FOR UPDATE SKIP LOCKED" on PostgreSQL."""
        return self.sql.CLAIM_LOCK

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils database of an SQLite store (the tests and tools read it directly)."""
        if not isinstance(self.sql, sqlite.SqliteDialect):
            raise StoreError(f"{self.path}: a PostgreSQL database has no SQLite file to open")
        return self.sql.db

    @property
    def conn(self) -> Any:
        return self.sql.conn

    def close(self) -> None:
        self.sql.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Take the write lock up front so read-then-write cannot interleave; nested calls join.
        (On PostgreSQL a plain BEGIN: each read-then-write step locks the rows it changes.)"""
        if self.sql.in_transaction:
            yield
            return
        self.sql.begin()
        try:
            yield
        except BaseException:
            self.sql.rollback()
            raise
        self._execute("COMMIT")

    def _execute(self, sql: str, params: Params = ()) -> Any:
        """A statement; the cursor tells rowcount and gives rows as tuples."""
        return self.sql.execute(sql, params)

    def _execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        self.sql.execute_many(sql, rows)

    def _query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Rows as column-name dicts, for building records from."""
        return self.sql.query(sql, params)

    def _rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Rows as tuples, for counts and single columns."""
        return list(self.sql.execute(sql, params).fetchall())

    def _one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.sql.execute(sql, params).fetchone()
        return row

    def size_bytes(self) -> int:
        return self.sql.size_bytes()


def _location(database: str | Path) -> DatabaseLocation:
    """A path stays a path (an empty one is refused when opened); a URL is parsed."""
    if isinstance(database, Path) or not str(database).strip():
        return DatabaseLocation("sqlite", path=str(database))
    return parse_database(str(database))

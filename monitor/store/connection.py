"""One connection to the database and the few methods every query goes through.

The per-concern parts of ``Store`` run SQL only through ``_query``, ``_rows``, ``_one``, ``_execute_many``,
``_execute`` and ``transaction``, so a second dialect needs to provide these, not rewrite them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from monitor.core.workers import this_process
from monitor.store import sqlite
from monitor.store.sqlite import StoreError

Params = Sequence[Any]


class Connection:
    """One connection to the listenpost database. Not shared between threads."""

    # Appended to a claiming SELECT ... LIMIT ?: PostgreSQL's dialect sets " FOR UPDATE SKIP LOCKED".
    CLAIM_LOCK = ""
    worker_id: str | None = None

    @property
    def claimant(self) -> str:
        """Who this connection claims work for: the worker it runs in, else host:pid."""
        if self.worker_id:
            return self.worker_id
        host, pid = this_process()
        return f"{host}:{pid}"

    def __init__(self, path: str | Path, *, migrate: bool = True) -> None:
        self.path = str(path)
        try:
            self.db: sqlite_utils.Database = sqlite.connect(self.path)
            self._opened(migrate=migrate)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the database: {exc}") from None

    def _opened(self, *, migrate: bool) -> None:
        """Called once the connection is up: the migrations check and apply themselves here."""

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Take the write lock up front so read-then-write cannot interleave; nested calls join."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute(sqlite.BEGIN_WRITE)
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def _execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """A statement; the cursor tells rowcount and lastrowid."""
        return self.conn.execute(sql, params)

    def _execute_many(self, sql: str, rows: Iterable[Params]) -> None:
        self.conn.executemany(sql, rows)

    def _query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Rows as column-name dicts, for building records from."""
        return list(self.db.query(sql, params))

    def _rows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Rows as tuples, for counts and single columns."""
        return list(self.conn.execute(sql, params).fetchall())

    def _one(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.conn.execute(sql, params).fetchone()
        return row

    def size_bytes(self) -> int:
        return sqlite.size_bytes(self.path)

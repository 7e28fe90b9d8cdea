"""What is SQLite's own: opening a file (WAL, PRAGMAs), the write lock, full-text (FTS5) queries.

The rest of the store speaks SQL that PostgreSQL accepts as well; a second dialect goes beside
this module and provides the same names.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils

from monitor.core.errors import ConfigError, ListenpostError
from monitor.core.query import All, Any_, Node, Not, Term, parse_query
from monitor.store.values import clean_text

# Page cache per connection, in KiB (SQLite's default is 2 MiB): the mention indexes' hot pages
# stay in memory while a large backfill or import appends to them.
CACHE_KIB = 64 * 1024
# Take the write lock up front, so read-then-write steps cannot interleave.
BEGIN_WRITE = "BEGIN IMMEDIATE"


class StoreError(ListenpostError):
    """The database cannot be opened or migrated."""


def connect(path: str, *, read_only: bool = False) -> sqlite_utils.Database:
    """One connection, in autocommit mode (transactions are explicit), WAL for a file.

    ``read_only`` opens an existing file as it is, never writing to it (`db copy`'s source): no
    WAL switch, no new file, SQLite itself refusing any write."""
    if read_only and path != ":memory:":
        if not Path(path).is_file():
            raise StoreError(f"{path}: no such database file")
        uri = "file:" + quote(str(Path(path).resolve())) + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 60000")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        return sqlite_utils.Database(conn)
    if path != ":memory:":
        _prepare_file(path)
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 60000")
    db = sqlite_utils.Database(conn)
    if path != ":memory:":
        _enable_wal(db)
    # In WAL mode NORMAL survives a killed process; only power loss can drop the last commits.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return db


def _enable_wal(db: sqlite_utils.Database) -> None:
    # Switching a new file to WAL needs the exclusive lock, and SQLite answers "locked" at
    # once (no busy wait) while another process is opening the same new file: wait for it.
    deadline = time.monotonic() + 60
    while True:
        try:
            db.enable_wal()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


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


class SqliteDialect:
    """One connection to an SQLite file through sqlite-utils, in autocommit mode."""

    name = "sqlite"
    CLAIM_LOCK = ""  # the write transaction already lets one claimer at a time in
    ROW_LOCK = ""
    MATCH_MENTIONS = "m.rowid IN (SELECT rowid FROM mentions_fts WHERE mentions_fts MATCH ?)"

    def __init__(self, path: str, *, read_only: bool = False) -> None:
        self.path = path
        self.db = connect(path, read_only=read_only)
        self.conn = self.db.conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def begin(self) -> None:
        self.conn.execute(BEGIN_WRITE)

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    def table_names(self) -> list[str]:
        return self.db.table_names()

    def lock_migrations(self) -> None:
        """BEGIN IMMEDIATE has taken the write lock already."""

    def insert_mentions(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> set[tuple[str, str]]:
        """Insert mentions not stored yet (inside a write transaction); the keys of the new ones.

        With the write lock held, rows added now get rowids above the largest before: that tells
        new from already stored, and feeds the full-text index in one go (a per-row trigger cost
        more than the insert itself).
        """
        last = self.conn.execute("SELECT coalesce(max(rowid), 0) FROM mentions").fetchone()[0]
        self.conn.executemany(f"INSERT INTO mentions ({', '.join(columns)})"
                              f" VALUES ({', '.join('?' for _ in columns)}) ON CONFLICT DO NOTHING", rows)
        added = {(r[0], r[1]) for r in self.conn.execute(
            "SELECT source, external_id FROM mentions WHERE rowid > ?", [last])}
        if added:
            self.conn.execute("INSERT INTO mentions_fts (rowid, text, title, author)"
                              " SELECT rowid, text, title, author FROM mentions WHERE rowid > ?", [last])
        return added

    def size_bytes(self) -> int:
        return size_bytes(self.path)

    def vacuum(self) -> None:
        vacuum(self.conn)

    @staticmethod
    def days_between(later: str, earlier: str) -> str:
        return f"(julianday({later}) - julianday({earlier}))"

    @staticmethod
    def seconds_after(later: str, earlier: str) -> str:
        """Seconds from ``earlier`` to ``later``, never below 0; NULL when either is."""
        return f"(max(0, julianday({later}) - julianday({earlier})) * 86400.0)"

    @staticmethod
    def json_text(column: str, key: str) -> str:
        return f"json_extract({column}, '$.{key}')"

    @staticmethod
    def group_concat(expr: str) -> str:
        return f"group_concat(DISTINCT {expr})"

    @staticmethod
    def fts_query(text: str) -> str | None:
        return fts_query(text)

    @staticmethod
    def author_phrase(author: str) -> str | None:
        return author_phrase(author)


def size_bytes(path: str) -> int:
    """The database file and its write-ahead log, in bytes."""
    if path == ":memory:":
        return 0
    return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))


def vacuum(conn: sqlite3.Connection) -> None:
    """Give free pages back to the file system; VACUUM cannot run inside a transaction."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")


# -- full-text search (FTS5) -----------------------------------------------------------------


def author_phrase(author: str) -> str | None:
    """An FTS5 query for an author name as a phrase in the author column; None if it has no words."""
    author = clean_text(author)
    if not any(ch.isalnum() for ch in author):
        return None
    # Inside quotes FTS5 splits the name with the index's own tokenizer; quotes are doubled.
    return 'author : "' + author.replace('"', '""') + '"'


def fts_query(text: str) -> str | None:
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

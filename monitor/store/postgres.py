"""What is PostgreSQL's own: one psycopg connection, explicit transactions, row locks that concurrent
claimers skip, full-text search with a ``tsvector`` column, and the few SQL functions that differ.

The shared queries use ``?`` placeholders; they are rewritten to psycopg's ``%s`` here, outside
string literals, with every literal ``%`` doubled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from monitor.core.database import DatabaseLocation, connect_failure, connect_postgres, mask_url
from monitor.core.errors import ConfigError
from monitor.core.query import All, Any_, Node, Not, Term, parse_query
from monitor.store.sqlite import StoreError
from monitor.store.values import clean_text

# Mentions are inserted this many rows per statement, well under PostgreSQL's 65,535 parameters.
INSERT_CHUNK = 500
# Schema changes from two workers opening a new database at once wait for each other on this key.
MIGRATION_LOCK = 0x6C69_7374_656E  # "listen"
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[?%]|[^'\"?%]+")
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as the index splits words


@lru_cache(maxsize=1024)
def placeholders(sql: str) -> str:
    """``?`` → ``%s`` outside quoted literals and names; every ``%`` doubled, for psycopg."""
    out = []
    for token in _TOKEN.findall(sql):
        if token == "?":
            out.append("%s")
        else:
            out.append(token.replace("%", "%%"))
    return "".join(out)


class PostgresDialect:
    """One connection to a PostgreSQL database, in autocommit mode: transactions are explicit."""

    name = "postgresql"
    # Appended to a claiming SELECT: rows another worker is claiming now are passed over.
    CLAIM_LOCK = " FOR UPDATE SKIP LOCKED"
    # Appended to a SELECT that reads a row before changing it: a concurrent writer waits.
    ROW_LOCK = " FOR UPDATE"
    MATCH_MENTIONS = "m.search @@ to_tsquery('simple', ?)"

    def __init__(self, location: DatabaseLocation) -> None:
        import psycopg

        self.location = location
        self._errors: type[Exception] = psycopg.Error
        self.conn = connect_postgres(location.url)
        self.conn.autocommit = True

    # -- running statements ----------------------------------------------------------------

    @contextmanager
    def _failures(self) -> Iterator[None]:
        try:
            yield
        except self._errors as exc:
            raise StoreError(f"PostgreSQL at {self.location.server}: {failure(exc, self.location.url)}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        from psycopg.rows import tuple_row

        with self._failures():
            cur = self.conn.cursor(row_factory=tuple_row)
            cur.execute(placeholders(sql), list(params))
            return cur

    def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._failures():
            self.conn.cursor().executemany(placeholders(sql), [list(r) for r in rows])

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._failures():
            return list(self.conn.execute(placeholders(sql), list(params)).fetchall())

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.conn.info.transaction_status != TransactionStatus.IDLE

    def begin(self) -> None:
        self.execute("BEGIN")

    def rollback(self) -> None:
        if not self.conn.closed:
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    # -- what differs from SQLite ----------------------------------------------------------

    def table_names(self) -> list[str]:
        return [r[0] for r in self.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]

    def lock_migrations(self) -> None:
        """Inside a transaction: wait while another process migrates this database."""
        self.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK])

    def insert_mentions(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> set[tuple[str, str]]:
        """Insert mentions not stored yet, many rows a statement; the keys of the new ones. The
        search column is generated from the row, so the full-text index needs nothing more."""
        added: set[tuple[str, str]] = set()
        marks = "(" + ", ".join("?" for _ in columns) + ")"
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start:start + INSERT_CHUNK]
            added.update(self.execute(
                f"INSERT INTO mentions ({', '.join(columns)}) VALUES {', '.join(marks for _ in chunk)}"
                " ON CONFLICT DO NOTHING RETURNING source, external_id",
                [v for row in chunk for v in row]).fetchall())
        return added

    def size_bytes(self) -> int:
        row = self.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0

    def vacuum(self) -> None:
        self.execute("VACUUM (ANALYZE)")  # autocommit: VACUUM cannot run inside a transaction

    @staticmethod
    def days_between(later: str, earlier: str) -> str:
        return f"(extract(epoch from ({_when(later)} - {_when(earlier)}))::float8 / 86400.0)"

    @staticmethod
    def seconds_after(later: str, earlier: str) -> str:
        """Seconds from ``earlier`` to ``later``, never below 0; NULL when either is."""
        seconds = f"extract(epoch from ({_when(later)} - {_when(earlier)}))::float8"
        return f"(CASE WHEN {later} IS NULL OR {earlier} IS NULL THEN NULL ELSE greatest(0, {seconds}) END)"

    @staticmethod
    def json_text(column: str, key: str) -> str:
        return f"({column}::jsonb ->> '{key}')"

    @staticmethod
    def group_concat(expr: str) -> str:
        return f"string_agg(DISTINCT {expr}, ',')"

    # -- full-text search ------------------------------------------------------------------

    @staticmethod
    def fts_query(text: str) -> str | None:
        """The search as a ``to_tsquery`` expression: the same syntax, words and prefixes as on SQLite."""
        try:
            root: Node = parse_query(text).root
        except ConfigError:
            root = All(tuple(Term(w) for w in text.split()))
        return _tsquery(root)

    @staticmethod
    def author_phrase(author: str) -> str | None:
        """The author's words as a phrase in the author part of the index (weight C)."""
        words = _WORD.findall(clean_text(author).lower())
        return " <-> ".join(f"'{w}':C" for w in words) or None


def _when(expr: str) -> str:
    return f"({expr})::timestamptz"


def _tsquery(node: Node) -> str | None:
    if isinstance(node, Term):
        term = clean_text(node.text)
        words = _WORD.findall(term.lower())
        if not words:
            return None
        lexemes = [f"'{w}'" for w in words]
        if len(term.split()) == 1:
            lexemes[-1] += ":*"  # a single word matches as a prefix, as on SQLite
        return "(" + " <-> ".join(lexemes) + ")"
    if isinstance(node, Any_):
        parts = [p for p in (_tsquery(n) for n in node.nodes) if p]
        return "(" + " | ".join(parts) + ")" if parts else None
    if isinstance(node, All):
        wanted = [p for p in (_tsquery(n) for n in node.nodes if not isinstance(n, Not)) if p]
        unwanted = [p for p in (_tsquery(n.node) for n in node.nodes if isinstance(n, Not)) if p]
        if not wanted:
            return None  # as on SQLite: an exclusion needs a word to look for
        return "(" + " & ".join(wanted) + ")" + "".join(f" & !{p}" for p in unwanted)
    return None


def failure(exc: BaseException, url: str) -> str:
    """A psycopg error in one line: the server's first line, the password never in it."""
    import psycopg

    if isinstance(exc, psycopg.OperationalError):
        return connect_failure(exc, url)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    first = first.replace(url, mask_url(url)) if url else first
    if "permission denied for schema public" in first:
        # PostgreSQL 15 lets only a database's owner create tables in it.
        first += " (the database must belong to the account listenpost connects as: createdb --owner PGUSER NAME)"
    return first

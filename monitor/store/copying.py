"""Copying a database into another (`listenpost db copy`): tables read in key order, in batches,
and written with ``ON CONFLICT DO NOTHING``, so a second copy adds nothing and keeps what is there.

The SQL here is the same for SQLite and PostgreSQL. What differs: mentions go in through the
dialect's ``insert_mentions`` (SQLite indexes them for search there), PostgreSQL's generated
columns are left to the server, and its id sequences are moved past the copied ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.store.connection import Connection

# Bound parameters per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535).
MAX_PARAMS = 30_000
BATCH_ROWS = 500


@dataclass(frozen=True)
class CopiedTable:
    """A table `db copy` carries over, and the columns that identify a row in it."""

    name: str
    key: tuple[str, ...]
    # A table whose ids are numbered by the database: the next id must follow the copied ones.
    numbered: bool = False
    # For a numbered table, the columns that say which row an id stands for: the same id holding
    # another mention's alert (or another run) in the target is a different install's row, not an
    # earlier copy of this one that has moved on (an alert sent or claimed since).
    identity: tuple[str, ...] = ()


# What an install's history is; workers, leases, claims and the schedule belong to the daemons
# running against a database, and `listenpost run` rebuilds them on the target.
COPIED_TABLES: tuple[CopiedTable, ...] = (
    CopiedTable("mentions", ("source", "external_id")),
    CopiedTable("classifications", ("source", "external_id", "model")),
    CopiedTable("alerts", ("id",), numbered=True,
                identity=("source", "external_id", "channel", "kind", "created_at")),
    CopiedTable("cursors", ("source", "query")),
    CopiedTable("runs", ("id",), numbered=True, identity=("source", "kind", "started_at")),
    CopiedTable("labeled_examples", ("id",), numbered=True,
                identity=("source", "external_id", "text", "created_at")),
    CopiedTable("thanks", ("source", "external_id")),
    CopiedTable("slack_requests", ("signature",)),
)

Row = tuple[Any, ...]


def batch_rows(columns: Sequence[str]) -> int:
    """Rows per batch: as many as the bound-parameter limit allows, at most BATCH_ROWS."""
    return max(1, min(BATCH_ROWS, MAX_PARAMS // max(1, len(columns))))


def _after(key: Sequence[str]) -> str:
    """The keyset condition: rows after the last one read, in key order."""
    if len(key) == 1:
        return f"{key[0]} > ?"
    return f"({', '.join(key)}) > ({', '.join('?' for _ in key)})"


class CopyQueries(Connection):
    """Reading a table in key order and writing rows as they are, for `db copy`."""

    def table_columns(self, table: str) -> list[str]:
        """The table's columns, in their order."""
        cursor = self._execute(f"SELECT * FROM {table} LIMIT 0")
        return [column[0] for column in cursor.description]

    def generated_columns(self, table: str) -> set[str]:
        """Columns the database fills itself and refuses values for (PostgreSQL's search vector
        and mentions' rowid); SQLite's rowid and full-text table are not columns of ``SELECT *``."""
        if self.sql.name != "postgresql":
            return set()
        return {r[0] for r in self._rows(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
            " AND table_name = ? AND (is_generated = 'ALWAYS' OR identity_generation = 'ALWAYS')", [table])}

    def count_rows(self, table: str) -> int:
        row = self._one(f"SELECT count(*) FROM {table}")
        return int(row[0]) if row else 0

    def read_rows(self, table: CopiedTable, columns: Sequence[str], *, after: Row | None,
                  limit: int) -> list[Row]:
        """The next ``limit`` rows in key order after the key ``after`` (None: from the first)."""
        order = ", ".join(table.key)
        where = f" WHERE {_after(table.key)}" if after is not None else ""
        return [tuple(r) for r in self._rows(
            f"SELECT {', '.join(columns)} FROM {table.name}{where} ORDER BY {order} LIMIT ?",
            [*(after or ()), limit],
        )]

    def write_rows(self, table: CopiedTable, columns: Sequence[str], rows: Sequence[Row]) -> int:
        """Insert the rows that are not in the table yet (by key); returns how many were added."""
        if not rows:
            return 0
        marks = "(" + ", ".join("?" for _ in columns) + ")"
        sql = (f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
               + ", ".join(marks for _ in rows) + " ON CONFLICT DO NOTHING")
        with self.transaction():
            if table.name == "mentions":
                return len(self.sql.insert_mentions(columns, rows))
            return int(self._execute(sql, [value for row in rows for value in row]).rowcount or 0)

    def rows_by_key(self, table: CopiedTable, columns: Sequence[str], keys: Sequence[Row]) -> dict[Row, Row]:
        """The rows with these keys, by key (for telling a row already copied from a different one)."""
        if not keys:
            return {}
        width = len(table.key)
        selected = ", ".join(f"t.{c}" for c in (*table.key, *columns))
        params = [value for key in keys for value in key]
        if width == 1:
            sql = (f"SELECT {selected} FROM {table.name} t"
                   f" WHERE t.{table.key[0]} IN ({', '.join('?' for _ in keys)})")
        else:
            # Joined to the keys as a table: SQLite looks a list of row values up by scanning.
            one = "(" + ", ".join("?" for _ in table.key) + ")"
            names = ", ".join(f"k{i}" for i in range(width))
            sql = (f"WITH wanted ({names}) AS (VALUES {', '.join(one for _ in keys)})"
                   f" SELECT {selected} FROM wanted JOIN {table.name} t ON "
                   + " AND ".join(f"t.{k} = wanted.k{i}" for i, k in enumerate(table.key)))
        return {tuple(r[:width]): tuple(r[width:]) for r in self._rows(sql, params)}

    def copy_finished(self, table: CopiedTable) -> None:
        """After the last batch of a table: on PostgreSQL the next id follows the copied ones
        (SQLite takes the largest id plus one by itself)."""
        if table.numbered and self.sql.name == "postgresql":
            self._execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                          f" coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table.name}")

"""Copying a database into another (`listenpost db copy`): tables read in key order, in batches,
and written with ``ON CONFLICT DO NOTHING``, so a second copy adds nothing and keeps what is there.

The SQL here is the same for SQLite and PostgreSQL; what differs after a batch (SQLite's
full-text index of mentions, PostgreSQL's id sequences) goes through the dialect's own hooks.
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


# What an install's history is; workers, leases, claims and the schedule belong to the daemons
# running against a database, and `listenpost run` rebuilds them on the target.
COPIED_TABLES: tuple[CopiedTable, ...] = (
    CopiedTable("mentions", ("source", "external_id")),
    CopiedTable("classifications", ("source", "external_id", "model")),
    CopiedTable("alerts", ("id",), numbered=True),
    CopiedTable("cursors", ("source", "query")),
    CopiedTable("runs", ("id",), numbered=True),
    CopiedTable("labeled_examples", ("id",), numbered=True),
    CopiedTable("thanks", ("source", "external_id")),
    CopiedTable("slack_requests", ("signature",)),
)

Row = tuple[Any, ...]


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

    def count_rows(self, table: str) -> int:
        row = self._one(f"SELECT count(*) FROM {table}")
        return int(row[0]) if row else 0

    def batch_rows(self, table: CopiedTable, columns: Sequence[str]) -> int:
        """Rows per batch: as many as the bound-parameter limit allows, at most BATCH_ROWS."""
        return max(1, min(BATCH_ROWS, MAX_PARAMS // max(1, len(columns))))

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
        params = [value for row in rows for value in row]
        with self.transaction():
            before = self._copy_started(table)
            added = int(self._execute(sql, params).rowcount or 0)
            if added:
                self._copy_added(table, before)
        return added

    def rows_by_key(self, table: CopiedTable, columns: Sequence[str], keys: Sequence[Row]) -> dict[Row, Row]:
        """The rows with these keys, by key (for telling a row already copied from a different one)."""
        if not keys:
            return {}
        width = len(table.key)
        one = "(" + ", ".join("?" for _ in table.key) + ")"
        target = table.key[0] if width == 1 else "(" + ", ".join(table.key) + ")"
        wanted = ", ".join("?" for _ in keys) if width == 1 else ", ".join(one for _ in keys)
        rows = self._rows(
            f"SELECT {', '.join(table.key)}, {', '.join(columns)} FROM {table.name} WHERE {target} IN ({wanted})",
            [value for key in keys for value in key],
        )
        return {tuple(r[:width]): tuple(r[width:]) for r in rows}

    def copy_finished(self, table: CopiedTable) -> None:
        """After the last batch of a table: the dialect's own tidying (id sequences)."""

    # -- dialect hooks around a batch ----------------------------------------------------------

    def _copy_started(self, table: CopiedTable) -> Any:
        """Inside the batch's transaction, before the insert: what ``_copy_added`` needs."""
        if table.name == "mentions":
            row = self._one("SELECT coalesce(max(rowid), 0) FROM mentions")
            return row[0] if row else 0
        return None

    def _copy_added(self, table: CopiedTable, before: Any) -> None:
        """Inside the batch's transaction, after rows were added: SQLite indexes new mentions
        for search here, as ``save_mentions`` does (there is no insert trigger)."""
        if table.name == "mentions":
            self._execute("INSERT INTO mentions_fts (rowid, text, title, author)"
                          " SELECT rowid, text, title, author FROM mentions WHERE rowid > ?", [before])

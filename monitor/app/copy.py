"""Copying an install's database into another (`listenpost db copy`): SQLite to PostgreSQL when
an install outgrows one machine, or to another SQLite file as a backup.

Every table of the install's history is read in key order and written in batches; rows already in
the target are kept, so the copy can be run again. The counts are checked at the end, and rows
the target holds with different contents are reported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from alerts.message import plural
from monitor.core.database import DatabaseLocation, parse_database
from monitor.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    from monitor.store import CopiedTable, Store

Progress = Callable[[int, str], AbstractContextManager[Any]]


@dataclass(frozen=True)
class TableCopy:
    """One table: rows in the source, rows in the target after the copy, added now, and rows whose
    key the target held already with other contents (kept as they were)."""

    table: str
    source: int
    target: int
    added: int
    conflicts: int
    conflict_keys: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        return self.source == self.target and not self.conflicts


@dataclass(frozen=True)
class CopyReport:
    source: str  # for people: a file path, or a URL with its password masked
    target: str
    tables: tuple[TableCopy, ...]
    elapsed: float

    @property
    def ok(self) -> bool:
        return all(t.matches for t in self.tables)

    @property
    def added(self) -> int:
        return sum(t.added for t in self.tables)


def _no_progress(length: int, label: str) -> AbstractContextManager[Any]:
    return nullcontext(SimpleNamespace(update=lambda n: None))


def open_store(location: DatabaseLocation, *, read_only: bool = False) -> Store:
    """The database; ``read_only`` (the source) opens it as it is: never migrated, never written."""
    from monitor.store import Store

    return Store(location.path if location.kind == "sqlite" else location.url, read_only=read_only)


def same_database(a: DatabaseLocation, b: DatabaseLocation) -> bool:
    """Whether two locations name one database: one file (by its real path), or one server's database."""
    if a.kind != b.kind:
        return False
    if a.kind == "postgresql":
        return a.server == b.server
    if a.path == ":memory:" or b.path == ":memory:":
        return False
    first, second = Path(a.path).expanduser(), Path(b.path).expanduser()
    if first.exists() and second.exists():
        return os.path.samefile(first, second)
    return first.resolve() == second.resolve()


def copy_database(source: str, target: str, *, progress: Progress = _no_progress) -> CopyReport:
    """Copy the install's history from ``source`` into ``target`` (either a file or a URL).

    ``progress(length, label)`` gives a context whose value has ``update(n)``, told of every row read.
    """
    started = time.perf_counter()
    origin, destination = parse_database(source), parse_database(target)
    if same_database(origin, destination):
        raise ConfigError(f"db copy: {destination.display()} is the database being copied; "
                          "name another database with --to")
    if origin.kind == "sqlite" and origin.path != ":memory:" and not Path(origin.path).expanduser().is_file():
        raise ConfigError(f"db copy: {origin.display()}: no such database file to copy from")
    from monitor.store import COPIED_TABLES

    with open_store(origin, read_only=True) as reader, open_store(destination) as writer:
        # A source from an older listenpost is copied as it is, never migrated: a table it lacks
        # has nothing to copy, a column it lacks is left to the target's default.
        present = set(reader.sql.table_names())
        tables = [t for t in COPIED_TABLES if t.name in present]
        _refuse_clashing_ids(reader, writer, [t for t in tables if t.identity])
        totals = {t.name: reader.count_rows(t.name) for t in tables}
        results = []
        with progress(sum(totals.values()), "Copying") as bar:
            for table in COPIED_TABLES:
                if table.name in present:
                    results.append(_copy_table(reader, writer, table, totals[table.name], bar.update))
                else:
                    results.append(TableCopy(table=table.name, source=0, target=writer.count_rows(table.name),
                                             added=0, conflicts=0))
    return CopyReport(source=origin.display(), target=destination.display(), tables=tuple(results),
                      elapsed=time.perf_counter() - started)


# Keys of rows that differ named in the report, per table; the count says how many there are.
SHOWN_CONFLICTS = 3


def _refuse_clashing_ids(reader: Store, writer: Store, tables: Sequence[CopiedTable]) -> None:
    """Before anything is written: ids the database numbered (alerts, runs, labeled examples) that
    the target already gives to other rows. Copying would skip the source's rows under those ids
    and leave a mix of both installs, so the copy is refused whole. The same rows from an earlier
    copy (even an alert sent or claimed since) are no clash: a copy can always be run again."""
    from monitor.store.copying import batch_rows

    for table in tables:
        target_columns = set(writer.table_columns(table.name))
        identity = [c for c in table.identity if c in target_columns and c in reader.table_columns(table.name)]
        columns = [*table.key, *identity]
        width = len(table.key)
        clashes: list[str] = []
        after = None
        while True:
            rows = reader.read_rows(table, columns, after=after, limit=batch_rows(columns))
            if not rows:
                break
            keys = [row[:width] for row in rows]
            held = writer.rows_by_key(table, identity, keys)
            clashes += ["/".join(str(v) for v in row[:width]) for row in rows
                        if row[:width] in held and not _same(held[row[:width]], row[width:])]
            after = rows[-1][:width]
        if clashes:
            first = ", ".join(clashes[:SHOWN_CONFLICTS]) + ("…" if len(clashes) > SHOWN_CONFLICTS else "")
            raise InputError(f"db copy: the target already holds other {table.name.replace('_', ' ')} under "
                             f"{plural(len(clashes), 'id')} of the source's ({first}); nothing was copied: "
                             "copy into a new, empty database (or one holding an earlier copy of this source)")


def _copy_table(reader: Store, writer: Store, table: CopiedTable, total: int,
                advance: Callable[[int], Any]) -> TableCopy:
    from monitor.store.copying import batch_rows

    target_columns = set(writer.table_columns(table.name)) - writer.generated_columns(table.name)
    columns = [c for c in reader.table_columns(table.name) if c in target_columns]
    key_at = [columns.index(k) for k in table.key]
    size = batch_rows(columns)
    added = conflicts = 0
    shown: list[str] = []
    after = None
    while True:
        rows = reader.read_rows(table, columns, after=after, limit=size)
        if not rows:
            break
        new = writer.write_rows(table, columns, rows)
        added += new
        if new < len(rows):
            # Some keys were in the target already: the same row from an earlier copy, or another.
            keys = [tuple(row[i] for i in key_at) for row in rows]
            held = writer.rows_by_key(table, columns, keys)
            for key, row in zip(keys, rows, strict=True):
                if key in held and not _same(held[key], row):
                    conflicts += 1
                    if len(shown) < SHOWN_CONFLICTS:
                        shown.append("/".join(str(v) for v in key))
        after = tuple(rows[-1][i] for i in key_at)
        advance(len(rows))
    writer.copy_finished(table)
    return TableCopy(table=table.name, source=total, target=writer.count_rows(table.name), added=added,
                     conflicts=conflicts, conflict_keys=tuple(shown))


def _same(held: Sequence[Any], copied: Sequence[Any]) -> bool:
    return [_plain(v) for v in held] == [_plain(v) for v in copied]


def _plain(value: Any) -> Any:
    """A value as both databases give it back: a PostgreSQL timestamp or boolean as SQLite stores it."""
    if isinstance(value, datetime):
        from monitor.store import ts

        return ts(value)
    if isinstance(value, bool):
        return int(value)
    return value

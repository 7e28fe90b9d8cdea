"""The store: migrations (fresh and from an older schema), dedupe, outbox leases, search, hostile text."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from monitor.core.records import Classification, Mention
from monitor.store import MIGRATIONS, Store, clean_text, ts

pytestmark = pytest.mark.both_backends


def mention(i: int, text: str = "acme lost my parcel", **kw: object) -> Mention:
    base = {"source": "x", "external_id": str(i), "text": text,
            "created_at": datetime(2026, 11, 20, 12, tzinfo=UTC) + timedelta(minutes=i), "author": "bob"}
    base.update(kw)
    return Mention(**base)  # type: ignore[arg-type]


def test_fresh_database_gets_every_migration_in_order(db_path: Path) -> None:
    with Store(db_path) as store:
        assert store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)
        assert {"mentions", "classifications", "alerts", "cursors", "runs", "mentions_fts"} <= set(
            store.db.table_names())
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Plain SQLite and sqlite-utils open it as it is.
    assert sqlite_utils.Database(db_path)["mentions"].count == 0
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


def test_database_at_the_previous_schema_version_is_upgraded_keeping_data(db_path: Path) -> None:
    first = min(name for name, _ in MIGRATIONS)
    with Store(db_path, migrate=False) as old:
        assert old.migrate(upto=first) == [first]
        old.db["mentions"].insert({"source": "x", "external_id": "1", "text": "acme outage again",
                                   "created_at": ts(datetime.now(UTC)), "collected_at": ts(datetime.now(UTC))})
    with Store(db_path) as store:
        assert store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)
        # Data from before the upgrade is searchable once full-text search is added.
        assert [r.external_id for r in store.list_mentions(search="outage")] == ["1"]
    with Store(db_path) as again:  # re-opening applies nothing twice
        assert again.migrate() == []


def test_saving_twice_adds_nothing(store: Store) -> None:
    batch = [mention(i) for i in range(10)]
    assert len(store.save_mentions(batch)) == 10
    assert store.save_mentions(batch) == []
    assert store.save_mentions([mention(3), mention(3), mention(11)]) == [mention(11)]
    assert store.count_mentions() == 11


def test_hostile_text_is_stored_without_loss_of_the_row(store: Store) -> None:
    nasty = "nul\x00byte \ud800 lone surrogate <!channel> =cmd|' /C calc'!A0 " + "x" * 2_000_000
    [saved] = store.save_mentions([mention(1, nasty, author="\ud83d")])
    row = store.mention("x", "1")
    assert row is not None
    assert "\x00" not in row.text and "\ufffd" in row.text and "<!channel>" in row.text
    assert len(row.text) == 1_000_000
    assert clean_text("fine") == "fine"
    assert saved.external_id == "1"


def test_search_treats_user_input_as_words_not_syntax(store: Store) -> None:
    store.save_mentions([mention(1, 'refund "please" NEAR now'), mention(2, "all good")])
    assert [r.external_id for r in store.list_mentions(search='refund "please')] == ["1"]
    # FTS5 operators in user input are searched for as plain words, never parsed.
    assert [r.external_id for r in store.list_mentions(search="NEAR(")] == ["1"]
    assert store.list_mentions(search="good -all") == []


@pytest.mark.parametrize(("search", "found"), [
    ("leak", ["1", "2"]),                      # a word matches as a prefix: leaks, leaking
    ("refund OR charged", ["3", "4"]),
    ("lid -leaks", ["5"]),
    ('"lid leaks"', ["1"]),
    ("(refund OR charged) -twice", ["3"]),
    ("-leaks", []),
])
def test_search_takes_the_brand_query_syntax(store: Store, search: str, found: list[str]) -> None:
    store.save_mentions([mention(1, "the lid leaks everywhere"), mention(2, "still leaking"),
                         mention(3, "waiting for a refund"), mention(4, "charged twice"),
                         mention(5, "new lid fits")])
    assert sorted(r.external_id for r in store.list_mentions(search=search)) == found


def test_latest_label_and_filters(store: Store) -> None:
    store.save_mentions([mention(1, brand="Acme"), mention(2, brand="Other")])
    store.save_classifications([Classification("x", "1", "m1", "neutral", 0.2, 0.6, 0.2,
                                                datetime(2026, 1, 1, tzinfo=UTC))])
    store.save_classifications([Classification("x", "1", "m2", "negative", 0.9, 0.05, 0.05,
                                                datetime(2026, 1, 2, tzinfo=UTC))])
    assert [r.label for r in store.list_mentions(brand="Acme")] == ["negative"]
    assert store.list_mentions(label="negative", brand="Other") == []
    assert store.label_counts() == {"negative": 1, "unclassified": 1}


def test_outbox_claims_each_alert_once_and_recovers_a_dead_sender(store: Store) -> None:
    store.save_mentions([mention(1)])
    alert_id = store.enqueue_alert(source="x", external_id="1", brand="Acme", channel="slack")
    assert alert_id is not None
    assert store.enqueue_alert(source="x", external_id="1", brand="Acme", channel="slack") is None
    now = datetime.now(UTC)
    [claimed] = store.claim_due_alerts(now=now)
    assert claimed.attempts == 1
    assert store.claim_due_alerts(now=now + timedelta(seconds=10)) == []  # leased to the first sender
    [again] = store.claim_due_alerts(now=now + timedelta(minutes=5))  # lease expired: sender died
    assert again.id == alert_id and again.attempts == 2
    store.mark_sent(alert_id, "ts-1")
    assert store.claim_due_alerts(now=now + timedelta(hours=1)) == []
    assert store.alert_counts() == {"sent": 1}


def test_two_connections_write_concurrently_without_lock_errors(database: str) -> None:
    import threading

    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            with Store(database) as s:
                for i in range(20):
                    s.save_mentions([mention(offset + j) for j in range(i * 10, i * 10 + 10)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    Store(database).close()
    threads = [threading.Thread(target=writer, args=(n * 1000,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(database) as s:
        assert s.count_mentions() == 600


def test_cursors_and_runs(store: Store) -> None:
    assert store.cursor("x", "Acme:acme") is None
    store.save_cursor("x", "Acme:acme", "123")
    store.save_cursor("x", "Acme:acme", "456")
    assert store.cursor("x", "Acme:acme") == "456"
    run = store.start_run("x", "collect")
    store.finish_run(run, fetched=3, new=2, error="boom")
    [last] = store.last_runs()
    assert last.source == "x" and last.last_error == "boom" and last.last_success is None


def test_corrupt_database_file_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from monitor.store import StoreError

    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="cannot open the database"):
        Store(bad)
    assert sqlite3.sqlite_version


def test_author_history_counts_exactly_that_author_by_label(store: Store) -> None:
    # Looked up through the full-text author column, then matched exactly: names sharing words,
    # punctuation, quotes and names with no letters at all are each counted on their own.
    authors = ["jane_doe", "jane-doe", "Jane Doe", "jane", 'say "hi"', "🔥🔥", "🔥", "user5"]
    created = datetime(2026, 11, 20, 12, tzinfo=UTC)
    mentions = [mention(i * 10 + k, author=name, created_at=created - timedelta(days=k))
                for i, name in enumerate(authors) for k in range(i + 1)]
    mentions.append(mention(999, author="jane_doe", source="reddit"))  # another source
    mentions.append(mention(998, author="jane_doe", created_at=created - timedelta(days=40)))  # too old
    store.save_mentions(mentions)
    store.save_classifications([Classification("x", "0", "lexicon", "negative", 0.9, 0.05, 0.05)])
    before = created + timedelta(hours=1)
    for i, name in enumerate(authors):
        history = store.author_history("x", name, before=before, days=30)
        assert sum(history.values()) == i + 1, (name, history)
    assert store.author_history("x", "jane_doe", before=before) == {"negative": 1}
    assert store.author_history("x", "nobody", before=before) == {}
    assert store.author_history("x", "", before=before) == {}


def test_migrations_are_listed_in_the_order_they_run() -> None:
    names = [name for name, _ in MIGRATIONS]
    assert names == sorted(names) and len(names) == len(set(names))


def test_no_store_method_returns_a_dict_of_columns() -> None:
    import inspect
    import typing

    for name, method in inspect.getmembers(Store, inspect.isfunction):
        if name.startswith("_"):
            continue
        returned = str(typing.get_type_hints(method).get("return", ""))
        assert "dict[str, typing.Any]" not in returned, f"Store.{name} returns {returned}"


def test_store_and_its_records_pass_mypy_strict(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    root = Path(__file__).resolve().parent.parent
    paths = [str(root / p) for p in ("monitor/store", "monitor/core/records.py", "monitor/core/rows.py")]
    out, err, status = api.run(["--strict", "--cache-dir", str(tmp_path / "cache"), *paths])
    assert status == 0, out + err


def test_all_sql_lives_in_the_store() -> None:
    import ast
    import re

    root = Path(__file__).resolve().parent.parent
    statement = re.compile(r"^\s*(SELECT\s|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX|VIEW)|"
                           r"DROP (TABLE|INDEX|TRIGGER)|PRAGMA\s|BEGIN\b|WITH \w+ AS)")
    found = []
    for package in ("monitor", "collectors", "classifiers", "alerts"):
        for path in sorted((root / package).rglob("*.py")):
            if (root / "monitor" / "store") in path.parents:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and statement.match(node.value):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
                elif isinstance(node, ast.Attribute) and node.attr in ("conn", "db") and isinstance(
                        node.value, ast.Name) and node.value.id == "store":
                    found.append(f"{path.relative_to(root)}:{node.lineno} store.{node.attr}")
    assert found == []

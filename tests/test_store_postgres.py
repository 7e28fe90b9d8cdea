"""What is PostgreSQL's own in the store: migrations under an advisory lock, the placeholder
rewrite, row locks between concurrent connections, search, housekeeping, one-line errors."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.core.database import DatabaseError
from monitor.core.errors import ConfigError
from monitor.core.records import Mention, utcnow
from monitor.store import MIGRATIONS, Store, StoreError
from monitor.store.postgres import PostgresDialect, placeholders
from tests.pgserver import PASSWORD, PostgresServer

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def mention(i: int, text: str = "acme lost my parcel", **kw: object) -> Mention:
    base = {"source": "x", "external_id": str(i), "text": text, "created_at": T0 + timedelta(minutes=i)}
    base.update(kw)
    return Mention(**base)  # type: ignore[arg-type]


def test_placeholders_become_psycopg_ones_outside_literals_and_percent_signs_are_kept() -> None:
    assert placeholders("SELECT ? FROM t WHERE a LIKE '%x?%' AND b = ?") == (
        "SELECT %s FROM t WHERE a LIKE '%%x?%%' AND b = %s")
    assert placeholders("SELECT \"odd?name\", 'it''s ?' FROM t WHERE c = ?") == (
        "SELECT \"odd?name\", 'it''s ?' FROM t WHERE c = %s")


@pytest.mark.parametrize(("search", "query"), [
    ("leak", "('leak':*)"),
    ('"lid leaks"', "('lid' <-> 'leaks')"),
    ("refund OR charged", "(('refund':*) | ('charged':*))"),
    ("lid -leaks", "(('lid':*)) & !('leaks':*)"),
    ("wi-fi", "('wi' <-> 'fi':*)"),
    ("-leaks", None),
    ("!!! ???", None),
])
def test_searches_become_tsquery_expressions(search: str, query: str | None) -> None:
    assert PostgresDialect.fts_query(search) == query


def test_a_new_database_gets_every_migration_once_even_when_two_workers_open_it_at_once(
        pg_server: PostgresServer, pg_url: str) -> None:
    errors: list[BaseException] = []
    gate = threading.Barrier(3)

    def open_it() -> None:
        gate.wait()
        try:
            Store(pg_url).close()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Store(pg_url) as store:
        assert store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)
        assert store.migrate() == []  # re-opening applies nothing twice
        assert {"mentions", "alerts", "latest_labels", "labeled_mentions", "workers", "leases"} <= set(
            store.sql.table_names())
        assert store._rows("SELECT count(*) FROM migrations") == [(len(MIGRATIONS),)]


def test_the_store_works_on_postgresql_like_on_sqlite(pg_store_url: str) -> None:
    with Store(pg_store_url) as store:
        assert [m.external_id for m in store.save_mentions([mention(1), mention(2, "refund please")])] == ["1", "2"]
        assert [m.external_id for m in store.save_mentions([mention(2), mention(3)])] == ["3"]
        assert [r.external_id for r in store.list_mentions(search="refun")] == ["2"]
        run = store.start_run("x", "collect")
        assert store.start_run("x", "collect") == run + 1
        first = store.enqueue_alert(source="x", external_id="1", brand="Acme", channel="slack",
                                    payload={"reason": "reach 12000"})
        assert first is not None
        assert store.enqueue_alert(source="x", external_id="1", brand="Acme", channel="slack") is None
        store.enqueue_alert(source="x", external_id="1", brand="Acme", channel="oncall", kind="escalation",
                            payload={"reason": "reach 12000"})
        assert store.reach_summary().escalated == 1  # a LIKE pattern with % signs
        assert store.size_bytes() > 0


def test_old_raw_payloads_are_dropped_in_identity_order_and_vacuum_runs(pg_store_url: str) -> None:
    with Store(pg_store_url) as store:
        store.save_mentions([mention(i, raw={"i": i}) for i in range(25)])
        assert store.drop_raw_payloads(utcnow() + timedelta(seconds=1), chunk=10) == 25
        assert store.mention("x", "3").raw == {}  # type: ignore[union-attr]
        store.analyze()
        store.vacuum()


def test_two_people_claiming_one_case_at_once_one_wins(pg_store_url: str) -> None:
    with Store(pg_store_url) as store:
        store.save_mentions([mention(1)])
        alert_id = store.enqueue_alert(source="x", external_id="1", brand="Acme", channel="slack")
        assert alert_id is not None
    gate = threading.Barrier(4)
    won: list[list[int]] = []

    def claim(who: str) -> None:
        with Store(pg_store_url) as s:
            gate.wait()
            won.append(s.update_case(alert_id, only_unset="claimed_at", claimed_at=utcnow(), claimed_by=who))

    threads = [threading.Thread(target=claim, args=(f"user{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == [[], [], [], [alert_id]]


def test_a_lost_connection_is_one_line_without_the_password(pg_server: PostgresServer, pg_store_url: str) -> None:
    url = pg_store_url.replace("postgresql://", f"postgresql://postgres:{PASSWORD}@")
    with Store(url) as store:
        with pg_server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                          " WHERE datname = current_database() AND pid != pg_backend_pid()")
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name"
                          " = 'listenpost'")
        with pytest.raises(StoreError) as caught:
            store.count_mentions()
    text = str(caught.value)
    assert "\n" not in text and PASSWORD not in text
    assert text.startswith(f"PostgreSQL at 127.0.0.1:{pg_server.port}/")


def test_a_url_is_never_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseError, match="connection refused"):
        Store("postgresql://127.0.0.1:1/listenpost")
    with pytest.raises(ConfigError, match="mysql:// is not a database listenpost can use"):
        Store("mysql://db/listenpost")
    assert list(tmp_path.iterdir()) == []

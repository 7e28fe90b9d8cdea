"""One post per alert however many dispatchers share the outbox: each alert's lease is renewed
right before its send, a live worker's alerts are never taken over, `config check` refuses a
send_lease shorter than a channel's timeout; jobs and heartbeats that cannot reach the database
say so in one line; a collection whose lease another worker took stops before storing more."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alerts.outbox.dispatch import dispatch_due
from collectors.base import Batch, BrandQuery, Window
from monitor.app.guards import UntilStopped as _UntilStopped
from monitor.app.pipeline import ingest
from monitor.app.scheduler import Daemon, JobSpec
from monitor.app.workers import Heartbeat
from monitor.cli import cli
from monitor.core.records import Mention, utcnow
from monitor.store import Store
from tests.fakeslack import TOKEN, FakeSlack, settings_toml

COMPLAINT = "Acme lost my parcel and nobody answers. Terrible service, worst company ever."
UNREACHABLE = "postgresql://listenpost@127.0.0.1:1/listenpost"


@pytest.fixture
def slack(fake, monkeypatch) -> FakeSlack:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", TOKEN)
    return FakeSlack(fake).install()


def complaints(n: int) -> list[Mention]:
    return [Mention(source="reddit", external_id=f"t3_{i}", text=COMPLAINT, brand="Acme", author=f"user{i}",
                    url=f"https://reddit.example/r/x/{i}", created_at=utcnow()) for i in range(n)]


def dispatch_until_empty(database: str, settings: Any, worker: str, *, register: bool, lease: float,
                         gate: threading.Barrier) -> None:
    with Store(database) as store:
        if register:
            store.worker_id = store.register_worker("host", 1 if worker.endswith("a") else 2).id
        else:
            store.worker_id = worker  # a one-off `alerts dispatch`: no worker row
        gate.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            dispatch_due(store, settings, lease=lease)
            counts = store.alert_counts()
            if not counts.get("pending") and not counts.get("sending"):
                return
            time.sleep(0.05)


@pytest.mark.both_backends
@pytest.mark.parametrize("workers", [True, False], ids=["live-workers", "one-off-dispatchers"])
def test_two_dispatchers_post_each_alert_once_to_a_slow_slack(
        store, database, make_settings, slack, lexicon, workers: bool) -> None:
    settings = make_settings(settings_toml(slack.base_url))
    ingest(store, settings, complaints(8), lexicon)
    ids = [a.id for a in store.list_alerts(limit=100)]  # the complaints, and the incident's notice
    assert len(ids) >= 8 and store.alert_counts() == {"pending": len(ids)}
    # Eight posts of 0.2 s are longer than the 0.5 s lease: a batch claimed under one lease
    # would be taken over half way by the other dispatcher, and posted twice.
    slack.post_delay = 0.2
    gate = threading.Barrier(2)
    threads = [threading.Thread(target=dispatch_until_empty,
                                args=(database, settings, name),
                                kwargs={"register": workers, "lease": 0.5, "gate": gate})
               for name in ("dispatcher-a", "dispatcher-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {i: len(slack.posts(i)) for i in ids} == {i: 1 for i in ids}
    assert store.alert_counts() == {"sent": len(ids)}


@pytest.mark.both_backends
def test_a_stale_sending_alert_is_taken_over_only_from_a_worker_that_is_gone(
        store, database, make_settings, slack, lexicon) -> None:
    settings = make_settings(settings_toml(slack.base_url))
    ingest(store, settings, complaints(4), lexicon)
    pending = {a.id for a in store.list_alerts(status="pending", limit=100)} - {1, 2, 3, 4}
    long_ago = utcnow() - timedelta(hours=1)
    store.register_worker("live", 1, now=long_ago - timedelta(minutes=1))
    store.heartbeat("live:1", 60)  # heard from now
    store.register_worker("silent", 2, now=long_ago)  # last heard from an hour ago
    store.register_worker("restarted", 3)  # restarted since it claimed its alert
    by_worker = dict(zip((1, 2, 3, 4), ("live:1", "silent:2", "restarted:3", "one-off:9"), strict=True))
    for alert_id, worker in by_worker.items():
        store.set_alert_fields(alert_id, status="sending", sending_since=long_ago, sending_worker=worker)
    store.worker_id = "other:7"
    taken = {a.id for a in store.claim_due_alerts(lease=120, worker_ttl=60)}
    assert taken == {2, 3, 4} | pending
    assert store._one("SELECT sending_worker FROM alerts WHERE id = 1", [])[0] == "live:1"


@pytest.mark.both_backends
def test_a_dispatcher_skips_an_alert_taken_over_before_its_send(store, make_settings, slack, lexicon, caplog) -> None:
    settings = make_settings(settings_toml(slack.base_url))
    ingest(store, settings, complaints(1), lexicon)
    store.worker_id = "mine:1"
    [row] = store.claim_due_alerts()
    store.set_alert_fields(row.id, sending_worker="theirs:2")
    assert not store.renew_sending(row.id)
    store.set_alert_fields(row.id, sending_worker="mine:1")
    assert store.renew_sending(row.id)


def test_config_check_refuses_a_send_lease_shorter_than_a_channel_timeout(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", TOKEN)
    base = settings_toml("http://127.0.0.1:9/api/") + '\n[classifier]\nmodel = "lexicon"\n'
    (tmp_path / "settings.toml").write_text(base + '[schedule]\nsend_lease = "5s"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert "schedule.send_lease" in errors[0] and "team" in errors[0] and "15s" in errors[0]
    # A channel told to give up sooner allows a shorter lease.
    short = base.replace('base_url = "http://127.0.0.1:9/api/"', 'base_url = "http://127.0.0.1:9/api/", timeout = 4')
    (tmp_path / "settings.toml").write_text(short + '[schedule]\nsend_lease = "5s"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 0, result.output


def test_a_job_that_cannot_reach_the_database_logs_one_line_per_outage(
        make_settings, tmp_path: Path, caplog) -> None:
    settings = make_settings('[[brands]]\nname = "Acme"\nqueries = ["acme"]\n')
    down = dataclasses.replace(settings, database=UNREACHABLE)
    daemon = Daemon(down, classifier=None, collectors={}, channels={})
    ran: list[str] = []

    def body(store: Store) -> str:
        ran.append("ran")
        return "done"

    from apscheduler.triggers.interval import IntervalTrigger

    spec = JobSpec("escalate", body, IntervalTrigger(seconds=60), utcnow(), grace=1)
    caplog.set_level(logging.DEBUG)
    job = daemon._wrap(spec)
    for _ in range(3):
        job()  # never raises into the scheduler
    assert not ran
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) == 1, caplog.text
    message = errors[0].getMessage()
    assert message.startswith("escalate: not run, the database is unreachable") and "\n" not in message
    assert errors[0].exc_info is None and "Traceback" not in caplog.text
    # The server is back: the job runs again and says so.
    caplog.clear()
    daemon.settings = dataclasses.replace(settings, database=str(tmp_path / "back.db"))
    job()
    assert ran == ["ran"]
    assert any("reachable again" in r.getMessage() for r in caplog.records)


def test_heartbeat_failure_shows_its_real_retry_delay(caplog) -> None:
    caplog.set_level(logging.WARNING)
    beat = Heartbeat(UNREACHABLE, "host:1", ttl=2.0, every=0.2)
    beat.start()
    time.sleep(0.5)
    beat.stop()
    lines = [r.getMessage() for r in caplog.records if "heartbeat failed" in r.getMessage()]
    assert lines and all("retrying in 0.2s" in line for line in lines), lines


class _Three:
    """A source that yields three batches."""

    settings = None
    source = None
    secrets = None
    name = "three"

    def queries(self) -> list[BrandQuery]:
        return []

    def fetch(self, query: BrandQuery | None, cursor: str | None, window: Window) -> Iterator[Batch]:
        for i in range(3):
            yield Batch([], cursor=str(i))


def test_a_collection_stops_before_storing_once_another_worker_took_its_lease(caplog) -> None:
    answers = iter([True, True, False])
    wrapped = _UntilStopped(_Three(), threading.Event(), lambda: next(answers))  # type: ignore[arg-type]
    caplog.set_level(logging.INFO)
    assert [b.cursor for b in wrapped.fetch(None, None, Window())] == ["0"]
    assert list(wrapped.fetch(None, None, Window())) == []  # later queries of the run too
    lines = [r.getMessage() for r in caplog.records if "took over" in r.getMessage()]
    assert lines == ["three: stopped, another worker took over this collection"]


@pytest.mark.both_backends
def test_a_paused_worker_whose_collection_lease_was_taken_stores_nothing_more(
        store, database, make_settings, monkeypatch) -> None:
    import collectors
    from tests.test_scheduler import Scripted

    monkeypatch.setitem(collectors.SOURCES, Scripted.name, "tests.test_scheduler:Scripted")
    settings = make_settings(f'database = "{database}"\n[[brands]]\nname = "Acme"\nqueries = ["acme"]\n'
                             '[sources.fast]\nenabled = true\ninterval = "1h"\n')
    release = threading.Event()
    source = Scripted(settings, batches=3, hold_before={1: release})
    daemon = Daemon(settings, classifier=None, collectors={"fast": source}, channels={})
    spec = next(s for s in daemon.jobs() if s.id == "collect:fast")
    runner = threading.Thread(target=daemon._wrap(spec))
    runner.start()
    assert source.started.wait(10)
    deadline = time.monotonic() + 10
    while not store.mention("fast", "fast-1") and time.monotonic() < deadline:
        time.sleep(0.05)
    # Paused past worker_ttl: another worker took the collection's lease over.
    store._execute("UPDATE leases SET worker_id = 'other:1' WHERE name = 'collect:fast'")
    release.set()
    runner.join(10)
    assert store.mention("fast", "fast-1") is not None
    assert store.mention("fast", "fast-2") is None and store.mention("fast", "fast-3") is None
    assert store.cursor("fast", "") == "1"

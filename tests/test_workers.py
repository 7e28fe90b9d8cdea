"""Several workers on one database: leases taken by one worker at a time, expiry, release,
heartbeats, mention and outbox claims never handed to two workers, and `status` listing them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

import collectors
from monitor.app.pipeline import classify_pending
from monitor.app.scheduler import Daemon, JobSpec
from monitor.app.workers import lease_name, next_due
from monitor.cli import cli
from monitor.core.config import Settings
from monitor.core.errors import ConfigError
from monitor.core.records import Mention
from monitor.store import Store
from tests.test_scheduler import SETTINGS, Scripted, source

pytestmark = pytest.mark.both_backends

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def race(database: str, n: int, body: Callable[[Store, int], object]) -> list[object]:
    """Run ``body`` in ``n`` threads at once, each with its own connection, as separate workers would."""
    gate = threading.Barrier(n)
    results: list[object] = [None] * n

    def one(i: int) -> None:
        with Store(database) as store:
            gate.wait()
            results[i] = body(store, i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_one_of_many_racing_workers_gets_a_free_lease(store: Store, database: str) -> None:
    won = race(database, 8, lambda s, i: s.take_lease("collect:reddit", f"w{i}", 60))
    holders = [lease for lease in won if lease is not None]
    assert len(holders) == 1
    assert store.lease("collect:reddit") == holders[0]


def test_a_held_lease_is_refused_to_others_renewed_for_its_holder_and_free_once_expired(store: Store) -> None:
    first = store.take_lease("escalate", "a", 60, now=T0)
    assert first is not None and first.worker_id == "a" and first.expires_at == later(60)
    assert store.take_lease("escalate", "b", 60, now=later(30)) is None
    renewed = store.take_lease("escalate", "a", 60, now=later(30))
    assert renewed is not None and renewed.acquired_at == T0 and renewed.expires_at == later(90)
    assert store.take_lease("escalate", "b", 60, now=later(89)) is None
    taken = store.take_lease("escalate", "b", 60, now=later(90))  # "a" was killed: its lease lapsed
    assert taken is not None and taken.worker_id == "b" and taken.acquired_at == later(90)
    assert store.held_leases(now=later(100)) == [taken]


def test_a_released_lease_is_not_taken_again_before_it_is_due(store: Store) -> None:
    assert store.take_lease("collect:x", "a", 60, now=T0)
    assert store.release_lease("collect:x", "a", next_due_at=later(600), now=later(5))
    assert not store.release_lease("collect:x", "b", now=later(5))  # only the holder gives it back
    assert store.held_leases(now=later(5)) == []
    assert store.take_lease("collect:x", "b", 60, now=later(300)) is None
    assert store.take_lease("collect:x", "a", 60, now=later(300)) is None  # not even by the one who ran it
    assert store.take_lease("collect:x", "b", 60, now=later(600)) is not None


def test_heartbeats_renew_what_a_worker_holds_and_a_clean_stop_hands_it_back(store: Store) -> None:
    worker = store.register_worker("box", 41, now=T0)
    assert (worker.id, worker.host, worker.pid, worker.stopped_at) == ("box:41", "box", 41, None)
    assert store.take_lease("collect:x", worker.id, 60, now=T0)
    assert store.take_lease("digest:2026-05-01", worker.id, 60, now=T0)
    assert store.heartbeat(worker.id, 60, now=later(50)) == 2
    assert {lease.expires_at for lease in store.held_leases(now=later(100))} == {later(110)}
    assert store.workers()[0].heartbeat_at == later(50)
    store.stop_worker(worker.id, now=later(60))
    assert store.held_leases(now=later(60)) == []
    stopped = store.workers()[0]
    assert stopped.stopped_at == later(60) and not stopped.alive(later(61), 60)
    assert store.take_lease("collect:x", "other", 60, now=later(61)) is not None
    again = store.register_worker("box", 41, now=later(70))  # restarted with the same pid
    assert again.stopped_at is None and again.alive(later(71), 60)


def test_a_silent_worker_is_not_alive_after_its_ttl(store: Store) -> None:
    worker = store.register_worker("box", 7, now=T0)
    assert worker.alive(later(60), 60) and not worker.alive(later(61), 60)


def _mentions(store: Store, n: int) -> None:
    store.save_mentions(Mention(source="rss", external_id=str(i), text=f"Acme post {i}", created_at=T0)
                        for i in range(n))


def test_two_workers_never_claim_the_same_mention_to_classify(store: Store, database: str) -> None:
    _mentions(store, 60)

    def claim(s: Store, i: int) -> list[str]:
        s.worker_id = f"w{i}"
        return [p.mention.external_id for p in s.claim_unclassified("lexicon", limit=20)]

    got = race(database, 4, claim)
    claimed = [eid for ids in got for eid in ids]  # type: ignore[attr-defined]
    assert len(claimed) == len(set(claimed)) == 60


def test_a_dead_workers_claim_on_mentions_lapses(store: Store, database: str) -> None:
    _mentions(store, 3)
    with Store(database) as dying:
        dying.worker_id = "dead:1"
        assert len(dying.claim_unclassified("lexicon", ttl=60, now=T0)) == 3
    store.worker_id = "live:2"
    assert store.claim_unclassified("lexicon", now=later(30)) == []
    pending = store.claim_unclassified("lexicon", now=later(61))
    assert {p.mention.external_id for p in pending} == {"0", "1", "2"}
    assert not any(p.classified_before for p in pending)
    store.release_claims("lexicon")
    assert len(store.claim_unclassified("lexicon", now=later(62))) == 3


def test_classify_pending_hands_its_claims_back_even_when_the_model_fails(store: Store,
                                                                         make_settings: Callable[..., Settings],
                                                                         lexicon: object) -> None:
    _mentions(store, 4)
    settings = make_settings('[[brands]]\nname = "Acme"\nqueries = ["acme"]\n')

    class Failing:
        name = "lexicon"
        languages = None
        negative_threshold = 0.5
        alert_threshold = 0.5

        def classify(self, texts: object) -> list[object]:
            raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError):
        classify_pending(store, settings, Failing())  # type: ignore[arg-type]
    assert classify_pending(store, settings, lexicon) == 4  # type: ignore[arg-type]


def test_the_outbox_hands_each_due_alert_to_one_worker_and_records_it(store: Store, database: str) -> None:
    for i in range(40):
        store.enqueue_alert(source="rss", external_id=str(i), brand="Acme", channel="team")

    def claim(s: Store, i: int) -> list[int]:
        s.worker_id = f"w{i}"
        return [row.id for row in s.claim_due_alerts(limit=15)]

    got = race(database, 4, claim)
    ids = [a for batch in got for a in batch]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids)) == 40
    owners = {r[0] for r in store._rows("SELECT DISTINCT sending_worker FROM alerts")}
    assert owners <= {"w0", "w1", "w2", "w3"} and owners


def test_lease_names_and_when_a_given_back_lease_is_due(make_settings: Callable[..., Settings]) -> None:
    tz = make_settings('timezone = "Pacific/Auckland"').tz
    assert lease_name("collect:reddit", T0, tz) == "collect:reddit"
    assert lease_name("digest", T0, tz) == "digest:2026-05-02"  # the local date
    assert lease_name("dispatch", T0, tz) is None
    assert next_due(later(600), T0) == later(599)
    assert next_due(later(2), T0) == later(1.8)
    assert next_due(None, T0) is None


class Counted(Scripted):
    name: ClassVar[str] = "counted"


@pytest.fixture
def two_daemons(make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch) -> list[Daemon]:
    monkeypatch.setitem(collectors.SOURCES, "counted", f"{__name__}:Counted")
    body = SETTINGS.format(tz="UTC", dispatch="30s", maintenance="03:30", recipients="[]")
    settings = make_settings(body + source("counted", "10m"))
    shared = Counted(settings)
    daemons = [Daemon(settings, classifier=None, channels={}, collectors={"counted": shared}) for _ in range(2)]
    for i, daemon in enumerate(daemons):
        with Store(settings.database) as s:
            daemon.worker_id = s.register_worker("box", 100 + i).id
    return daemons


def _collect(daemon: Daemon) -> JobSpec:
    return next(spec for spec in daemon.jobs() if spec.id == "collect:counted")


def test_a_source_is_collected_once_per_interval_across_workers(two_daemons: list[Daemon],
                                                               caplog: pytest.LogCaptureFixture) -> None:
    first, second = two_daemons
    collector = first.collectors["counted"]
    assert isinstance(collector, Counted)
    caplog.set_level(logging.INFO)
    first._wrap(_collect(first))()
    second._wrap(_collect(second))()
    assert collector.runs == 1
    assert "collect:counted: skipped, already run; due again" in caplog.text
    with Store(first.settings.database) as s:
        lease = s.lease("collect:counted")
        assert lease is not None and lease.worker_id == "box:100" and lease.next_due_at is not None
        s.take_lease("collect:counted", "box:100", 60, now=lease.next_due_at)  # running again
    second._wrap(_collect(second))()
    assert collector.runs == 1
    assert "collect:counted: skipped, worker box:100 is running it" in caplog.text


def test_a_stopped_worker_hands_its_jobs_back_and_the_last_one_unschedules(two_daemons: list[Daemon]) -> None:
    first, second = two_daemons
    first.schedule()
    second.schedule()
    with Store(first.settings.database) as s:
        assert s.take_lease("escalate", "box:100", 60)
    first.stop()
    with Store(first.settings.database) as s:
        assert s.held_leases() == []
        assert any(job.next_run_at for job in s.scheduled_jobs().values())  # the other still runs them
    second.stop()
    with Store(first.settings.database) as s:
        assert all(job.next_run_at is None for job in s.scheduled_jobs().values())


def test_a_heartbeat_slower_than_the_ttl_is_a_settings_error(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings('[schedule]\nworker_ttl = "10s"\nheartbeat_every = "10s"\n')
    with pytest.raises(ConfigError, match=r"schedule\.heartbeat_every"):
        Daemon(settings, classifier=None, channels={}, collectors={}).register()


def test_status_lists_live_workers_with_their_leases_and_counts_the_others(
        make_settings: Callable[..., Settings], runner: CliRunner, tmp_path: Path) -> None:
    make_settings('database = "listenpost.db"\n[schedule]\nworker_ttl = "1m"\n')
    args = ["--config", str(tmp_path / "settings.toml"), "status"]
    assert "Workers" not in runner.invoke(cli, args).output  # never run with workers: nothing to say
    now = datetime.now(UTC)
    with Store(tmp_path / "listenpost.db") as s:
        live = s.register_worker("alpha", 11, now=now)
        s.take_lease("collect:reddit", live.id, 60, now=now)
        s.take_lease("escalate", live.id, 60, now=now)
        s.register_worker("beta", 12, now=now)
        s.register_worker("gamma", 13, now=now - timedelta(minutes=5))  # killed: silent since
        s.stop_worker(s.register_worker("delta", 14, now=now).id, now=now)
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "Workers: 2 live" in out
    assert "alpha:11: started" in out and "holds collect:reddit, escalate" in out
    assert "beta:12: started" in out and "holds nothing" in out
    assert "gamma" not in out and "delta" not in out
    assert "1 stopped, 1 silent" in out


def test_maintenance_forgets_expired_claims_old_leases_and_long_gone_workers(store: Store, database: str) -> None:
    _mentions(store, 2)
    with Store(database) as dying:
        dying.worker_id = "dead:1"
        assert len(dying.claim_unclassified("lexicon", ttl=60, now=T0)) == 2
    store.register_worker("gone", 3, now=T0)
    assert store.take_lease("collect:rss", "gone:3", 60, now=T0) is not None
    assert store.prune_worker_rows(later(30)) == 0  # the claim still lives
    assert store.prune_worker_rows(later(61)) == 2  # both claims expired
    week = 7 * 86400
    assert store.prune_worker_rows(later(week + 120)) == 2  # the lease and the silent worker
    assert store.workers() == [] and store.lease("collect:rss") is None

"""The daemon's scheduling decisions: job plan and fire times, misfires, coalescing, overlaps, stops."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from click.testing import CliRunner

import collectors
from collectors.base import Batch, BrandQuery, Collector, Window
from monitor.app.scheduler import Daemon, first_collection
from monitor.cli import cli
from monitor.core.config import Settings
from monitor.core.errors import SourceError
from monitor.core.records import Mention
from monitor.store import Store, ts

NOW = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)  # a Saturday; Berlin moves to summer time overnight

SETTINGS = """
database = "listenpost.db"
timezone = "{tz}"
[[brands]]
name = "Acme"
queries = ["acme"]
[schedule]
dispatch_every = "{dispatch}"
maintenance_at = "{maintenance}"
[digest]
recipients = {recipients}
send_at = "08:00"
[alerts.channels.out]
type = "jsonl"
options = {{ path = "alerts.jsonl" }}
[[alerts.routes]]
channels = ["out"]
"""


def source(name: str, interval: str, enabled: bool = True) -> str:
    return f"[sources.{name}]\nenabled = {str(enabled).lower()}\ninterval = \"{interval}\"\n"


class Scripted(Collector):
    """Yields ``batches`` one-mention batches after the cursor; can hold before a batch until released."""

    name: ClassVar[str] = "fast"

    def __init__(self, settings: Settings, *, batches: int = 1, hold_before: dict[int, threading.Event] | None = None,
                 fail: BaseException | None = None) -> None:
        super().__init__(settings)
        self.batches = batches
        self.hold_before = hold_before or {}
        self.fail = fail
        self.runs = 0
        self.active = 0
        self.max_active = 0
        self.fetched_batches = 0
        self.started = threading.Event()
        self._lock = threading.Lock()

    def queries(self) -> list[BrandQuery]:
        return []

    def fetch(self, query: BrandQuery | None, cursor: str | None, window: Window) -> Iterator[Batch]:
        with self._lock:
            self.runs += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self.started.set()
        try:
            if self.fail is not None:
                raise self.fail
            n = int(cursor or 0)
            for i in range(self.batches):
                if i in self.hold_before:
                    assert self.hold_before[i].wait(10), "the test never released the source"
                n += 1
                self.fetched_batches += 1
                yield Batch([Mention(source=self.name, external_id=f"{self.name}-{n}", text="Acme never answers",
                                     created_at=NOW)], cursor=str(n))
        finally:
            with self._lock:
                self.active -= 1


class Slow(Scripted):
    name: ClassVar[str] = "slow"


class Broken(Scripted):
    name: ClassVar[str] = "broken"


class Needy(Scripted):
    name: ClassVar[str] = "needy"
    credentials: ClassVar[tuple[str, ...]] = ("NEEDY_TOKEN",)


@pytest.fixture(autouse=True)
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in (Scripted, Slow, Broken, Needy):
        monkeypatch.setitem(collectors.SOURCES, cls.name, f"{__name__}:{cls.__name__}")


@pytest.fixture
def settings_for(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def build(*sources: str, tz: str = "UTC", dispatch: str = "30s", maintenance: str = "03:30",
              recipients: str = "[]", extra: str = "") -> Settings:
        body = SETTINGS.format(tz=tz, dispatch=dispatch, maintenance=maintenance, recipients=recipients)
        return make_settings(body + "".join(sources) + extra)

    return build


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons a test started are stopped even when it fails, so no thread outlives it."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        for collector in daemon.collectors.values():
            for gate in getattr(collector, "hold_before", {}).values():
                gate.set()
        if daemon.scheduler is not None and daemon.scheduler.running:
            daemon.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def events(daemon: Daemon, mask: int) -> list[JobEvent]:
    seen: list[JobEvent] = []
    assert daemon.scheduler is not None
    daemon.scheduler.add_listener(seen.append, mask)
    return seen


# -- the plan: deterministic, from a fixed "now" ----------------------------------------------


def test_job_plan_and_fire_times(settings_for: Callable[..., Settings], store: Store) -> None:
    settings = settings_for(source("fast", "10m"), source("slow", "1h"), tz="Europe/Berlin",
                            recipients='["leads@acme.example"]')
    store.db.table("runs").insert({"source": "slow", "kind": "collect", "started_at": ts(NOW - timedelta(minutes=20)),
                             "finished_at": ts(NOW - timedelta(minutes=19)), "fetched": 0, "new": 0})
    daemon = Daemon(settings, classifier=None, channels={},
                    collectors={"fast": Scripted(settings), "slow": Slow(settings)})
    plan = {spec.id: spec for spec in daemon.jobs(NOW)}

    assert set(plan) == {"collect:fast", "collect:slow", "dispatch", "escalate", "digest", "maintenance", "vacuum"}
    fast = plan["collect:fast"]
    assert fast.next_run == NOW  # never collected: right away
    second = fast.trigger.get_next_fire_time(fast.next_run, fast.next_run)
    assert second == NOW + timedelta(minutes=10)
    assert fast.trigger.get_next_fire_time(second, second) == NOW + timedelta(minutes=20)
    assert plan["collect:slow"].next_run == NOW + timedelta(minutes=40)  # an hour after its last run
    # 08:00 in Berlin is 06:00 UTC on the first day of summer time, 07:00 UTC the day before.
    digest = plan["digest"]
    assert digest.next_run == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    following = digest.trigger.get_next_fire_time(digest.next_run, digest.next_run)
    assert following == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)
    assert plan["maintenance"].next_run == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    vacuum = plan["vacuum"]
    assert vacuum.next_run == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # Sundays only
    following = vacuum.trigger.get_next_fire_time(vacuum.next_run, vacuum.next_run)
    assert following == datetime(2026, 4, 5, 1, 30, tzinfo=UTC)
    assert plan["dispatch"].next_run == NOW
    assert {k: s.grace for k, s in plan.items()} == {
        "collect:fast": 600, "collect:slow": 3600, "dispatch": 30, "escalate": 60,
        "digest": 3600, "maintenance": 3600, "vacuum": 3600,
    }


def test_no_digest_job_without_recipients(settings_for: Callable[..., Settings]) -> None:
    settings = settings_for()
    assert "digest" not in {spec.id for spec in Daemon(settings, classifier=None, channels={}).jobs(NOW)}


@pytest.mark.parametrize(("last_run", "interval", "expected"), [
    (None, 900, NOW),
    (NOW - timedelta(minutes=5), 900, NOW + timedelta(minutes=10)),
    (NOW - timedelta(hours=2), 900, NOW),
    (NOW - timedelta(minutes=15), 900, NOW),
])
def test_restart_collects_when_the_source_is_next_due(last_run: datetime | None, interval: float,
                                                      expected: datetime) -> None:
    assert first_collection(last_run, interval, NOW) == expected


def test_scheduler_jobs_coalesce_run_alone_and_are_recorded(settings_for: Callable[..., Settings],
                                                           store: Store) -> None:
    settings = settings_for(source("fast", "10m"))
    daemon = Daemon(settings, classifier=None, channels={}, collectors={"fast": Scripted(settings)})
    scheduler = daemon.schedule(NOW)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())
    assert jobs["collect:fast"].misfire_grace_time == 600
    assert jobs["collect:fast"].next_run_time == NOW
    recorded = store.scheduled_jobs()
    assert set(recorded) == set(jobs)
    assert recorded["collect:fast"].next_run_at == ts(NOW)


def test_bad_intervals_are_settings_errors(settings_for: Callable[..., Settings]) -> None:
    from monitor.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"sources\.fast\.interval: must be more than 0"):
        Daemon(settings_for(source("fast", "0s")), classifier=None, channels={})
    with pytest.raises(ConfigError, match=r"schedule\.dispatch_every"):
        Daemon(settings_for(dispatch="0s"), classifier=None, channels={}).jobs(NOW)
    with pytest.raises(ConfigError, match=r"schedule\.maintenance_at: expected a local time"):
        settings_for(maintenance="3am")


# -- the running scheduler: misfires, coalescing, overlaps, stops -------------------------------


def test_daily_job_missed_by_more_than_its_grace_is_skipped(settings_for: Callable[..., Settings], store: Store,
                                                            daemons: list[Daemon]) -> None:
    due = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    daemon = Daemon(settings_for(maintenance=due.strftime("%H:%M")), classifier=None, channels={})
    daemon.schedule(due - timedelta(seconds=30))
    missed = events(daemon, EVENT_JOB_MISSED)
    daemons.append(daemon)
    daemon.start()
    wait_for(lambda: any(e.job_id == "maintenance" for e in missed))
    wait_for(lambda: (store.scheduled_jobs()["maintenance"].last_error or "").startswith("missed"))
    row = store.scheduled_jobs()["maintenance"]
    assert row.next_run_at == ts(due + timedelta(days=1))


def test_daily_job_late_within_its_grace_still_runs(settings_for: Callable[..., Settings], store: Store,
                                                    daemons: list[Daemon]) -> None:
    due = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    daemon = Daemon(settings_for(maintenance=due.strftime("%H:%M")), classifier=None, channels={})
    daemon.schedule(due - timedelta(seconds=30))
    ran = events(daemon, EVENT_JOB_EXECUTED)
    daemons.append(daemon)
    daemon.start()
    wait_for(lambda: any(e.job_id == "maintenance" for e in ran))
    wait_for(lambda: store.scheduled_jobs()["maintenance"].last_finished_at is not None)
    assert store.scheduled_jobs()["maintenance"].last_error is None


def test_an_hour_of_missed_intervals_runs_once(settings_for: Callable[..., Settings], daemons: list[Daemon]) -> None:
    settings = settings_for(source("fast", "1m"), dispatch="1m")
    fast = Scripted(settings)
    daemon = Daemon(settings, classifier=None, channels={}, collectors={"fast": fast})
    daemon.schedule(datetime.now(UTC) - timedelta(hours=1))  # as after a suspended machine wakes
    ran = events(daemon, EVENT_JOB_EXECUTED)
    daemons.append(daemon)
    daemon.start()
    wait_for(lambda: {"collect:fast", "dispatch"} <= {e.job_id for e in ran})
    time.sleep(0.3)
    assert fast.runs == 1
    assert [e.job_id for e in ran].count("dispatch") == 1


def test_a_slow_source_runs_alone_and_never_delays_the_others(settings_for: Callable[..., Settings], store: Store,
                                                              daemons: list[Daemon]) -> None:
    settings = settings_for(source("fast", "0.1s"), source("slow", "0.1s"))
    gate = threading.Event()
    fast, slow = Scripted(settings), Slow(settings, hold_before={0: gate})
    daemon = Daemon(settings, classifier=None, channels={}, collectors={"fast": fast, "slow": slow})
    daemon.schedule()
    skipped = events(daemon, EVENT_JOB_MAX_INSTANCES)
    daemons.append(daemon)
    daemon.start()
    wait_for(lambda: fast.runs >= 4 and any(e.job_id == "collect:slow" for e in skipped))
    assert slow.runs == 1 and slow.max_active == 1
    assert store.scheduled_jobs()["collect:slow"].running_since is not None
    gate.set()
    wait_for(lambda: store.mention("slow", "slow-1") is not None)
    daemon.stop()
    assert slow.max_active == 1 and fast.max_active == 1
    assert store.count_mentions() >= 5


def test_stop_finishes_the_batch_in_hand_and_keeps_its_cursor(settings_for: Callable[..., Settings], store: Store,
                                                              daemons: list[Daemon]) -> None:
    settings = settings_for(source("slow", "1h"))
    gate = threading.Event()
    slow = Slow(settings, batches=3, hold_before={1: gate})
    daemon = Daemon(settings, classifier=None, channels={}, collectors={"slow": slow})
    daemons.append(daemon)
    daemon.start()
    wait_for(lambda: store.cursor("slow", "") == "1")
    stopper = threading.Thread(target=daemon.stop)
    stopper.start()
    wait_for(daemon.stopping.is_set)
    assert stopper.is_alive()  # waiting for the run in progress
    gate.set()  # the second batch's request comes back
    stopper.join(10)
    assert not stopper.is_alive()
    assert store.cursor("slow", "") == "2"
    assert slow.fetched_batches == 2  # the third batch was never asked for
    run = store.last_runs()[0]
    assert run.last_success is not None and run.last_error is None
    assert all(job.next_run_at is None for job in store.scheduled_jobs().values())


def test_failing_sources_are_logged_and_the_others_keep_running(settings_for: Callable[..., Settings], store: Store,
                                                                daemons: list[Daemon],
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="monitor")
    settings = settings_for(source("fast", "0.1s"), source("broken", "0.1s"), source("slow", "0.1s"))
    fast = Scripted(settings)
    daemon = Daemon(settings, classifier=None, channels={}, collectors={
        "fast": fast,
        "broken": Broken(settings, fail=SourceError("broken: HTTP 503 from the API")),
        "slow": Slow(settings, fail=RuntimeError("a bug")),
    })
    daemons.append(daemon)
    daemon.start()
    wait_for(lambda: fast.runs >= 3 and store.scheduled_jobs()["collect:slow"].last_error is not None)
    daemon.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.app.scheduler"]
    assert any(line.startswith("collect:fast: source fast: fetched 1, new 1, negatives 0, alerts 0 (")
               for line in lines)
    assert any("collect:broken: source broken: fetched 0, new 0" in line and "HTTP 503" in line for line in lines)
    assert any(line.startswith("collect:slow: failed: RuntimeError: a bug") for line in lines)
    runs = {r.source: r for r in store.last_runs()}
    assert "HTTP 503" in runs["broken"].last_error
    assert "interrupted: RuntimeError" in runs["slow"].last_error
    assert runs["fast"].last_success is not None


def test_missing_credentials_skip_that_source_and_channel_only(
    settings_for: Callable[..., Settings], store: Store, monkeypatch: pytest.MonkeyPatch, runner: CliRunner,
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("LISTENPOST_NEEDY_TOKEN", raising=False)
    monkeypatch.delenv("LISTENPOST_SLACK_BOT_TOKEN", raising=False)
    slack = '[alerts.channels.team]\ntype = "slack"\noptions = { channel = "C0123" }\n'
    settings = settings_for(source("fast", "10m"), source("needy", "10m"), extra=slack)
    daemon = Daemon(settings, classifier=None)
    assert set(daemon.collectors) == {"fast"}
    assert set(daemon.channels) == {"out"}
    messages = caplog.text
    assert "needy: skipped" in messages and "LISTENPOST_NEEDY_TOKEN" in messages
    assert "channel team: skipped" in messages and "LISTENPOST_SLACK_BOT_TOKEN" in messages
    assert "LISTENPOST_NEEDY_TOKEN" in {r.source: r for r in store.last_runs()}["needy"].last_error
    result = runner.invoke(cli, ["--config", str(tmp_path / "settings.toml"), "status"])
    assert result.exit_code == 1
    assert "needy" in result.output and "LISTENPOST_NEEDY_TOKEN" in result.output


def test_maintenance_drops_old_raw_payloads_and_vacuum_compacts(settings_for: Callable[..., Settings],
                                                                store: Store) -> None:
    settings = settings_for()
    old, recent = (Mention(source="fast", external_id=i, text="Acme", created_at=NOW, raw={"payload": "x" * 20000})
                   for i in ("old", "recent"))
    store.save_mentions([old, recent])
    store.db.table("mentions").update(("fast", "old"), {"collected_at": ts(datetime.now(UTC) - timedelta(days=91))})
    daemon = Daemon(settings, classifier=None, channels={})
    assert daemon._maintain(store) == "raw payloads dropped from 1 mentions, statistics updated"
    raw = dict(store.conn.execute("SELECT external_id, raw FROM mentions WHERE source = 'fast'").fetchall())
    assert raw["old"] == "{}"
    assert "payload" in raw["recent"]
    assert daemon._maintain(store).startswith("raw payloads dropped from 0 mentions")
    assert "compacted" in daemon._vacuum(store)
    assert store.conn.execute("PRAGMA freelist_count").fetchone()[0] == 0


def test_status_shows_next_runs_and_fails_when_the_daemon_died(settings_for: Callable[..., Settings], store: Store,
                                                               runner: CliRunner, tmp_path: Path) -> None:
    settings_for(source("fast", "10m"))
    args = ["--config", str(tmp_path / "settings.toml"), "status"]
    now = datetime.now(UTC)

    def status() -> Any:
        return runner.invoke(cli, args)

    result = status()
    assert result.exit_code == 0
    assert "next run not scheduled" in result.output
    store.schedule_jobs({"collect:fast": now + timedelta(minutes=5), "dispatch": now + timedelta(seconds=20)})
    result = status()
    assert result.exit_code == 0, result.output
    assert f"next run {(now + timedelta(minutes=5)).strftime('%Y-%m-%d %H:%M')}" in result.output
    assert "Daemon: dispatch next" in result.output
    store.schedule_jobs({"collect:fast": now - timedelta(hours=1), "dispatch": now - timedelta(hours=1)})
    result = status()
    assert result.exit_code == 1
    assert "overdue (collect:fast, dispatch)" in result.output
    store.job_started("collect:fast")
    store.job_started("dispatch")
    assert status().exit_code == 0  # late because they are still running, not because the daemon died
    store.unschedule_jobs()
    assert status().exit_code == 0


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


def test_escalation_and_digest_jobs_do_their_work(settings_for: Callable[..., Settings], store: Store) -> None:
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        settings = settings_for(recipients='["leads@acme.example"]',
                                extra='[alerts.escalation]\nafter = "30m"\nchannels = ["out"]\n')
        settings = replace(settings, digest=replace(settings.digest, smtp_host="127.0.0.1", smtp_port=port,
                                                    smtp_security="plain"))
        store.save_mentions([Mention(source="fast", external_id="1", text="Acme never answers", brand="Acme",
                                     created_at=NOW)])
        alert_id = store.enqueue_alert(source="fast", external_id="1", brand="Acme", channel="out")
        assert alert_id is not None
        store.set_alert_fields(alert_id, status="sent", sent_at=datetime.now(UTC) - timedelta(hours=1))
        daemon = Daemon(settings, classifier=None, channels={})
        assert daemon._escalate(store) == "escalations queued 1"
        assert daemon._escalate(store) == "escalations queued 0"  # once per alert
        assert daemon._digest(store).startswith("digest sent, Message-ID <")
        assert len(inbox.messages) == 1 and b"leads@acme.example" in inbox.messages[0]
    finally:
        smtp.stop()


def test_ctrl_c_finishes_the_batch_in_hand_then_returns(settings_for: Callable[..., Settings], store: Store,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="monitor")
    settings = settings_for(source("slow", "1h"))
    gate = threading.Event()
    slow = Slow(settings, batches=3, hold_before={1: gate})
    daemon = Daemon(settings, classifier=None, channels={}, collectors={"slow": slow})
    before = signal.getsignal(signal.SIGINT)

    def press_ctrl_c() -> None:
        wait_for(lambda: store.cursor("slow", "") == "1")
        os.kill(os.getpid(), signal.SIGINT)
        wait_for(daemon.stopping.is_set)
        gate.set()

    helper = threading.Thread(target=press_ctrl_c)
    helper.start()
    try:
        daemon.run_until_signalled()
    finally:
        gate.set()
        helper.join(10)
    assert store.cursor("slow", "") == "2" and slow.fetched_batches == 2
    assert "SIGINT received: finishing the current step, then stopping" in caplog.text
    assert signal.getsignal(signal.SIGINT) is before

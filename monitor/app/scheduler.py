"""The `listenpost run` daemon: APScheduler jobs for collection, alert delivery, escalation,
the daily digest and database maintenance, and a clean stop on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING, cast

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from alerts.channels import build_channels
from collectors.base import Collector
from monitor.app.guards import Serialized, UntilStopped
from monitor.app.workers import Heartbeat, collect_job, lease_name, next_due, take_lease
from monitor.core.config import Settings
from monitor.core.errors import ConfigError, ListenpostError
from monitor.core.records import utcnow
from monitor.core.workers import this_process
from monitor.store import Store, parse_ts

if TYPE_CHECKING:
    from alerts.channels.base import Channel
    from classifiers.base import Classifier

log = logging.getLogger(__name__)

VACUUM_DAY = "sun"
# A digest or maintenance run that could not start within this long (machine asleep,
# daemon stopped) is skipped rather than sent hours late; the next one comes as usual.
DAILY_GRACE = 3600
# `status` calls a job overdue when it is this late and not running: the daemon is gone.


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: stable id, what it runs, when, and how late it may still start."""

    id: str
    run: Callable[[Store], str]
    trigger: BaseTrigger
    next_run: datetime
    grace: int


def _at(local_time: str) -> tuple[int, int]:
    hour, minute = (int(part) for part in local_time.split(":"))
    return hour, minute


def first_collection(last_run: datetime | None, interval: float, now: datetime) -> datetime:
    """A restarted daemon collects when the source is next due, not all at once on start."""
    if last_run is None:
        return now
    return max(now, last_run + timedelta(seconds=interval))


class Daemon:
    """Builds the job plan from the settings and runs it until asked to stop."""

    def __init__(self, settings: Settings, *, classifier: Classifier | None,
                 collectors: dict[str, Collector] | None = None,
                 channels: dict[str, Channel] | None = None) -> None:
        self.settings = settings
        self.stopping = threading.Event()
        self.classifier = Serialized(classifier) if classifier is not None else None
        self.collectors = self._build_collectors() if collectors is None else collectors
        self.channels = build_channels(self.settings) if channels is None else channels
        self.scheduler: BackgroundScheduler | None = None
        self.worker_id: str | None = None
        self.heartbeat: Heartbeat | None = None
        # Jobs whose last run could not reach the database: logged once per outage.
        self._outage: set[str] = set()
        self._outage_lock = threading.Lock()

    # -- what runs ---------------------------------------------------------------------------

    def _skip(self, name: str, why: str) -> None:
        """A source that cannot run is logged and recorded as a failed run, so `status` shows it."""
        log.warning("%s: skipped: %s", name, why)
        with Store(self.settings.database) as store:
            store.finish_run(store.start_run(name, "collect"), fetched=0, new=0, error=f"skipped: {why}")

    def _build_collectors(self) -> dict[str, Collector]:
        from collectors import IMPORTED_ONLY, build_collectors

        for name, source in self.settings.sources.items():
            if source.enabled and name not in IMPORTED_ONLY and source.interval <= 0:
                raise ConfigError(f"sources.{name}.interval: must be more than 0")
        out: dict[str, Collector] = {}
        for built in build_collectors(self.settings):
            if built.imported_only:
                log.warning("%s: not scheduled; import files with `listenpost import FILE`", built.name)
            elif built.error is not None:
                self._skip(built.name, str(built.error))
            elif built.collector is not None:
                out[built.name] = built.collector
        return out

    def jobs(self, now: datetime | None = None) -> list[JobSpec]:
        """The job plan as of ``now``: ids, triggers and first fire times."""
        now = now or utcnow()
        tz = self.settings.tz
        schedule = self.settings.schedule
        with Store(self.settings.database) as store:
            last = {r.source: parse_ts(r.last_run) for r in store.last_runs()}
        specs = []
        for name, collector in self.collectors.items():
            interval = self.settings.source(name).interval
            first = first_collection(last.get(name), interval, now)
            specs.append(JobSpec(
                collect_job(name), self._collect_job(collector),
                IntervalTrigger(seconds=interval, start_date=first, timezone=tz), first,
                grace=max(1, int(interval)),
            ))
        for job_id, run, every in (
            ("dispatch", self._dispatch, schedule.dispatch_every),
            ("escalate", self._escalate, schedule.escalate_every),
        ):
            if every <= 0:
                raise ConfigError(f"schedule.{job_id}_every: must be more than 0")
            specs.append(JobSpec(job_id, run, IntervalTrigger(seconds=every, start_date=now, timezone=tz),
                                 now, grace=max(1, int(every))))
        m_hour, m_minute = _at(schedule.maintenance_at)
        daily: list[tuple[str, Callable[[Store], str], BaseTrigger]] = [
            ("maintenance", self._maintain, CronTrigger(hour=m_hour, minute=m_minute, timezone=tz)),
            ("vacuum", self._vacuum,
             CronTrigger(day_of_week=VACUUM_DAY, hour=m_hour, minute=m_minute, timezone=tz)),
        ]
        if self.settings.digest.recipients:
            hour, minute = _at(self.settings.digest.send_at)
            daily.append(("digest", self._digest, CronTrigger(hour=hour, minute=minute, timezone=tz)))
        else:
            log.info("digest: not scheduled; digest.recipients is empty")
        for job_id, body, trigger in daily:
            first = trigger.get_next_fire_time(None, now.astimezone(tz))
            assert first is not None  # a daily or weekly cron always fires again
            specs.append(JobSpec(job_id, body, trigger, first, grace=DAILY_GRACE))
        return specs

    # -- job bodies: each returns its log line -----------------------------------------------

    def _collect_job(self, collector: Collector) -> Callable[[Store], str]:
        def collect(store: Store) -> str:
            from monitor.app.pipeline import run_collector

            report = run_collector(store, self.settings,
                                   UntilStopped(collector, self.stopping, self._lease_check(store, collector)),
                                   classifier=cast("Classifier | None", self.classifier))
            line = (f"source {collector.name}: fetched {report.fetched}, new {report.new}, "
                    f"negatives {report.negatives}, alerts {report.alerts}")
            line += f", errors: {'; '.join(report.errors)}" if report.errors else ""
            if report.alerts and self.channels:
                # Send now rather than at the next dispatch tick: answering fast is the point.
                line += "; " + self._dispatch(store)
            return line

        return collect

    def _lease_check(self, store: Store, collector: Collector) -> Callable[[], bool] | None:
        """Renews this worker's lease on a collection; False once another worker has it."""
        worker_id = store.worker_id
        if worker_id is None:  # run outside the daemon's jobs: no lease to hold
            return None
        job = collect_job(collector.name)
        ttl = self.settings.schedule.worker_ttl
        return lambda: store.take_lease(job, worker_id, ttl) is not None

    def _dispatch(self, store: Store) -> str:
        from alerts.outbox.dispatch import dispatch_due

        classified = 0
        if self.classifier is not None:
            from monitor.app.pipeline import PENDING_PER_PASS, classify_pending

            # Imports stored with --no-classify, or everything after a model change: a bounded
            # share per tick, so that re-scoring a large history never holds up sending alerts.
            classified = classify_pending(store, self.settings, cast("Classifier", self.classifier),
                                          limit=PENDING_PER_PASS)
        prefix = f"classified {classified} waiting mentions, " if classified else ""
        if not self.channels:
            return prefix + "no channel can send; alerts stay queued"
        report = dispatch_due(store, self.settings, self.channels, lease=self.settings.schedule.send_lease)
        return prefix + f"alerts sent {report.sent}, to retry {report.retried}, failed {report.failed}"

    def _escalate(self, store: Store) -> str:
        from alerts.outbox.escalation import escalate_due

        return f"escalations queued {escalate_due(store, self.settings)}"

    def _digest(self, store: Store) -> str:
        from alerts.digest import send_digest

        return f"digest sent, Message-ID {send_digest(store, self.settings)}"

    def _maintain(self, store: Store) -> str:
        cutoff = utcnow() - timedelta(seconds=self.settings.raw_retention)
        cleared = store.drop_raw_payloads(cutoff)
        pruned = store.prune_worker_rows(utcnow())
        if pruned:
            log.info("maintenance: %d expired claims, leases and workers forgotten", pruned)
        store.analyze()
        return f"raw payloads dropped from {cleared} mentions, statistics updated"

    def _vacuum(self, store: Store) -> str:
        before = store.size_bytes()
        store.vacuum()
        return f"database compacted from {before / 1e6:.1f} MB to {store.size_bytes() / 1e6:.1f} MB"

    # -- running -----------------------------------------------------------------------------

    def register(self) -> str:
        """Announce this worker in the database; its leases and claims carry this id."""
        if self.worker_id is None:
            schedule = self.settings.schedule
            if schedule.heartbeat_every >= schedule.worker_ttl:
                raise ConfigError("schedule.heartbeat_every: must be less than schedule.worker_ttl")
            with Store(self.settings.database) as store:
                self.worker_id = store.register_worker(*this_process()).id
            log.info("worker %s started", self.worker_id)
        return self.worker_id

    def _wrap(self, spec: JobSpec) -> Callable[[], None]:
        """One log line and one jobs-table update per run; a failure never reaches the scheduler.

        The run first takes the job's lease, so that of several workers one runs it."""

        def run() -> None:
            try:
                run_once()
            except Exception as exc:  # the database is unreachable: one line, never a traceback
                self._unreachable(spec.id, exc)
            else:
                self._reachable(spec.id)

        def run_once() -> None:
            started = time.monotonic()
            error = None
            with Store(self.settings.database) as store:
                store.worker_id = self.register()
                self._reachable(spec.id)
                lease = lease_name(spec.id, utcnow(), self.settings.tz)
                if lease is not None and not take_lease(store, spec.id, lease, self.register(), self.settings):
                    return
                store.job_started(spec.id)
                try:
                    line = spec.run(store)
                except ListenpostError as exc:
                    error = line = f"failed: {exc}"
                except Exception as exc:
                    log.exception("%s: failed", spec.id)
                    error = line = f"failed: {type(exc).__name__}: {exc}"
                log.log(logging.ERROR if error else logging.INFO, "%s: %s (%.2fs)",
                        spec.id, line, time.monotonic() - started)
                # From the trigger, not the scheduler: asking the scheduler while it shuts
                # down waits on a lock it holds until this very job returns.
                next_run = spec.trigger.get_next_fire_time(None, datetime.now(self.settings.tz))
                store.job_finished(spec.id, next_run_at=next_run, error=error)
                if lease is not None:
                    store.release_lease(lease, self.register(), next_due_at=next_due(next_run, utcnow()))

        return run

    def _unreachable(self, job_id: str, exc: Exception) -> None:
        """A run that could not reach the database: one line per job and outage, then quiet."""
        with self._outage_lock:
            first = job_id not in self._outage
            self._outage.add(job_id)
        text = str(exc).strip().splitlines()
        log.log(logging.ERROR if first else logging.DEBUG, "%s: not run, the database is unreachable: %s%s",
                job_id, "" if isinstance(exc, ListenpostError) else f"{type(exc).__name__}: ",
                text[0] if text else "")

    def _reachable(self, job_id: str) -> None:
        with self._outage_lock:
            if job_id not in self._outage:
                return
            self._outage.discard(job_id)
        log.info("%s: the database is reachable again", job_id)

    def schedule(self, now: datetime | None = None) -> BackgroundScheduler:
        """The scheduler with every job added and the plan recorded; not started yet."""
        specs = self.jobs(now)
        scheduler = BackgroundScheduler(
            # A worker per job: a slow source never waits for a free thread, nor delays others.
            executors={"default": ThreadPoolExecutor(max_workers=len(specs))},
            timezone=self.settings.tz,
        )
        for spec in specs:
            # Coalesce: a backlog of missed runs (a suspended machine) becomes one run.
            # One instance: a run still going when the next is due makes that one skip.
            scheduler.add_job(self._wrap(spec), spec.trigger, id=spec.id, name=spec.id,
                              next_run_time=spec.next_run, misfire_grace_time=spec.grace,
                              coalesce=True, max_instances=1)
        triggers = {spec.id: spec.trigger for spec in specs}
        scheduler.add_listener(lambda event: self._missed(event, triggers), EVENT_JOB_MISSED)
        self.register()
        with Store(self.settings.database) as store:
            store.schedule_jobs({s.id: s.next_run for s in specs})
        for spec in specs:
            log.info("%s: next run %s", spec.id, spec.next_run.astimezone(self.settings.tz).isoformat())
        self.scheduler = scheduler
        return scheduler

    def _missed(self, event: JobExecutionEvent, triggers: dict[str, BaseTrigger]) -> None:
        """A run too late to start (APScheduler logs it): record when the job runs next."""
        next_run = triggers[event.job_id].get_next_fire_time(None, datetime.now(self.settings.tz))
        try:
            with Store(self.settings.database) as store:
                store.job_finished(event.job_id, next_run_at=next_run,
                                   error=f"missed the run due at {event.scheduled_run_time.isoformat()}")
        except Exception as exc:
            self._unreachable(event.job_id, exc)

    def start(self, now: datetime | None = None) -> None:
        scheduler = self.scheduler or self.schedule(now)
        schedule = self.settings.schedule
        self.heartbeat = Heartbeat(self.settings.database, self.register(), ttl=schedule.worker_ttl,
                                   every=schedule.heartbeat_every)
        self.heartbeat.start()
        scheduler.start()

    def stop(self) -> None:
        """Let running jobs finish their current batch, then stop; nothing new starts."""
        self.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.heartbeat is not None:
            self.heartbeat.stop()
        with Store(self.settings.database) as store:
            if self.worker_id is not None:
                store.stop_worker(self.worker_id)
            now, ttl = utcnow(), self.settings.schedule.worker_ttl
            if not any(w.alive(now, ttl) for w in store.workers()):
                store.unschedule_jobs()  # the last worker: nothing runs the jobs any more
        log.info("stopped")

    def run_until_signalled(self) -> None:
        """Run in the foreground until SIGTERM or SIGINT; a second signal ends it at once."""
        signalled = threading.Event()
        received: list[str] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            # Only flags here; logging from inside a signal handler can interleave with a log
            # line the main thread was writing.
            received.append(signal.Signals(signum).name)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signalled.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not signalled.wait(1.0):
                pass
            log.info("%s received: finishing the current step, then stopping", received[0])
            self.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

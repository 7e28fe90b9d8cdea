"""Several `listenpost run` workers on one database: which job needs a lease, the heartbeat
that keeps a worker's leases alive, and the report `status` prints about the workers."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitor.core.config import Settings
from monitor.core.records import utcnow
from monitor.core.workers import Lease, Worker
from monitor.store import Store

log = logging.getLogger(__name__)

# Jobs named after their day: each day's run is its own lease, whenever each worker started.
DAILY_JOBS = ("digest", "maintenance", "vacuum")
# Every worker sends: the outbox and the mentions waiting for a verdict are claimed row by row.
UNLEASED_JOBS = ("dispatch",)
# A lease given back is due again this much before the next fire time, so that the worker
# that ran the job always finds it due when its own scheduler fires; at most this share of
# the interval.
DUE_SLACK = 1.0
DUE_SLACK_SHARE = 0.1


def collect_job(source: str) -> str:
    """The daemon's job that collects ``source``; its id is also the lease its runs take."""
    return f"collect:{source}"


def lease_name(job_id: str, now: datetime, tz: ZoneInfo) -> str | None:
    """The lease a job's run needs (None: every worker runs it)."""
    if job_id in UNLEASED_JOBS:
        return None
    if job_id in DAILY_JOBS:
        return f"{job_id}:{now.astimezone(tz).date().isoformat()}"
    return job_id


def next_due(next_run: datetime | None, now: datetime) -> datetime | None:
    """When a lease given back now may be taken again: shortly before the job's next run."""
    if next_run is None:
        return None
    slack = min(DUE_SLACK, max(0.0, (next_run - now).total_seconds()) * DUE_SLACK_SHARE)
    return next_run - timedelta(seconds=slack)


def take_lease(store: Store, job_id: str, name: str, worker_id: str, settings: Settings) -> bool:
    """Take a job's lease for one run; False, with a line saying why, when another worker has
    it or ran the job already."""
    if store.take_lease(name, worker_id, settings.schedule.worker_ttl) is not None:
        return True
    held = store.lease(name)
    if held is not None and held.held(utcnow()):
        log.info("%s: skipped, worker %s is running it", job_id, held.worker_id)
    else:
        due = held.next_due_at if held else None
        log.info("%s: skipped, already run; due again %s", job_id,
                 due.astimezone(settings.tz).isoformat() if due else "later")
    return False


class Heartbeat:
    """A thread that tells the database every ``every`` seconds that this worker is alive,
    renewing its leases and claims for ``ttl``."""

    def __init__(self, database: str, worker_id: str, *, ttl: float, every: float) -> None:
        self.database = database
        self.worker_id = worker_id
        self.ttl = ttl
        self.every = every
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def _beat(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with Store(self.database, migrate=False) as store:
                    store.heartbeat(self.worker_id, self.ttl)
            except Exception as exc:  # a database hiccup must not end the heartbeat for good
                log.warning("heartbeat failed, retrying in %.1fs: %s: %s", self.every, type(exc).__name__, exc)


@dataclass(frozen=True)
class LiveWorker:
    worker: Worker
    leases: list[Lease]


@dataclass(frozen=True)
class WorkersReport:
    """The workers heard from within their TTL with what each holds; the others counted."""

    live: list[LiveWorker]
    stopped: int
    silent: int

    @property
    def any(self) -> bool:
        return bool(self.live or self.stopped or self.silent)


def workers_report(store: Store, ttl: float, now: datetime) -> WorkersReport:
    held: dict[str | None, list[Lease]] = {}
    for lease in store.held_leases(now=now):
        held.setdefault(lease.worker_id, []).append(lease)
    live, stopped, silent = [], 0, 0
    for worker in store.workers():
        if worker.alive(now, ttl):
            live.append(LiveWorker(worker, held.get(worker.id, [])))
        elif worker.stopped_at is not None:
            stopped += 1
        else:
            silent += 1
    return WorkersReport(live=live, stopped=stopped, silent=silent)

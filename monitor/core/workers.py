"""Records for sharing one database between several `listenpost run` workers: who is alive,
which job each holds, and the mentions handed to one worker for classification."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

from monitor.core.records import Mention


@dataclass(frozen=True)
class Worker:
    """One `listenpost run` process, known by its host and process id."""

    id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None = None

    def alive(self, now: datetime, ttl: float) -> bool:
        """Stopped workers are gone; a silent one (killed, frozen, cut off) is gone after ``ttl``."""
        return self.stopped_at is None and (now - self.heartbeat_at).total_seconds() <= ttl


@dataclass(frozen=True)
class Lease:
    """The right to run one job (``collect:reddit``, ``digest:2026-05-01``) until ``expires_at``.

    After a run the lease is given back with ``next_due_at``: no worker takes it before then,
    so a job runs once per interval however many workers schedule it.
    """

    name: str
    worker_id: str | None
    acquired_at: datetime
    expires_at: datetime
    next_due_at: datetime | None = None

    def held(self, now: datetime) -> bool:
        return self.expires_at > now


@dataclass(frozen=True)
class PendingMention:
    """A stored mention this model has not scored yet, claimed by one worker to classify."""

    mention: Mention
    # Another model scored it already: a re-score after a model change, never alerted again.
    classified_before: bool


def this_process() -> tuple[str, int]:
    return socket.gethostname() or "localhost", os.getpid()


def worker_name(host: str, pid: int) -> str:
    """How a worker (or a one-off command) is named in the workers table and on claimed rows."""
    return f"{host}:{pid}"

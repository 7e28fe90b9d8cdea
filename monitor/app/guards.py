"""What the daemon wraps around what its jobs share: the model (one batch at a time across
threads) and each collector (stopped after the batch in hand, or when another worker took over);
and the rule that tells a dead daemon from its overdue jobs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from collectors.base import Batch, BrandQuery, Collector, Window
from monitor.core.rows import Job
from monitor.store import parse_ts

if TYPE_CHECKING:
    from classifiers.base import Classifier, Scores

log = logging.getLogger("monitor.app.scheduler")  # its lines are the daemon's

OVERDUE_AFTER = timedelta(minutes=10)


class Serialized:
    """A classifier shared by collection threads; one batch at a time, since model
    and tokenizer objects are not safe to call from several threads at once."""

    def __init__(self, inner: Classifier) -> None:
        self.inner = inner
        self.name = inner.name
        self.languages = inner.languages
        self.negative_threshold = inner.negative_threshold
        self.alert_threshold = inner.alert_threshold
        self._lock = threading.Lock()

    def classify(self, texts: Sequence[str]) -> list[Scores]:
        with self._lock:
            return self.inner.classify(texts)


class UntilStopped(Collector):
    """Runs another collector but ends its run after the batch in hand once a stop is asked.

    Every batch the pipeline received is stored with its cursor, so a restart resumes there.
    Before each batch is handed on (to be stored, with its cursor), ``held`` renews the job's
    lease: a worker that lost it (paused past worker_ttl while another took over) stops there.
    """

    def __init__(self, inner: Collector, stop: threading.Event,
                 held: Callable[[], bool] | None = None) -> None:
        # No super().__init__(): the wrapped collector has checked its credentials already.
        self.inner = inner
        self.stop = stop
        self.held = held
        self.lost = False
        self.settings = inner.settings
        self.source = inner.source
        self.secrets = inner.secrets

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.inner.name

    def queries(self) -> list[BrandQuery]:
        return self.inner.queries()

    def fetch(self, query: BrandQuery | None, cursor: str | None, window: Window) -> Iterator[Batch]:
        if self.stop.is_set() or not self._still_held():
            return
        for batch in self.inner.fetch(query, cursor, window):
            if not self._still_held():
                return
            yield batch
            if self.stop.is_set():
                return

    def _still_held(self) -> bool:
        if self.lost:
            return False
        if self.held is None or self.held():
            return True
        self.lost = True
        log.info("%s: stopped, another worker took over this collection", self.inner.name)
        return False


def overdue(jobs: dict[str, Job], now: datetime) -> list[str]:
    """Jobs that should have started a while ago and are not running: the daemon has died."""
    late = []
    for job_id, row in jobs.items():
        due = parse_ts(row.next_run_at)
        if due and not row.running_since and due < now - OVERDUE_AFTER:
            late.append(job_id)
    return late

"""`listenpost status` judged: what each source, the outbox and the daemon say about listenpost's health."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from collectors import IMPORTED_ONLY
from monitor.app.guards import overdue
from monitor.app.preflight import channels_missing_credentials, missing_credentials
from monitor.app.workers import collect_job
from monitor.core.config import Settings
from monitor.core.records import UNSCORED, utcnow
from monitor.core.rows import Job, SourceRuns
from monitor.store import Store

# A pending alert due longer ago than this has not been sent by anyone.
WAITING_TOO_LONG = timedelta(minutes=10)


@dataclass(frozen=True)
class SourceHealth:
    name: str
    last_run: str | None
    last_success: str | None
    last_error_at: str | None
    failing: str | None  # the last run's error when nothing succeeded since
    collected: bool  # collected by `listenpost run`; otherwise ``why_not`` says why
    why_not: str
    job: Job | None  # the daemon's collect job for this source


@dataclass(frozen=True)
class ChannelWaiting:
    """An enabled channel whose secret is not set here, with alerts waiting for it."""

    name: str
    variable: str
    pending: int
    overdue: int


@dataclass(frozen=True)
class Health:
    database: str
    size_bytes: int
    mentions: int
    unscored: int
    sources: list[SourceHealth]
    credentials: list[str]  # sources that cannot run without a secret
    alert_counts: dict[str, int]
    channels_enabled: int
    waiting: list[ChannelWaiting]
    daemon_jobs: dict[str, Job]  # jobs other than collecting, with a next run
    unhealthy: list[str] = field(default_factory=list)


def check_health(settings: Settings, store: Store, now: datetime | None = None) -> Health:
    now = now or utcnow()
    runs = {r.source: r for r in store.last_runs()}
    counts = store.alert_counts()
    jobs = store.scheduled_jobs()
    unhealthy: list[str] = []
    sources = []
    for name in sorted(set(runs) | {n for n, s in settings.sources.items() if s.enabled}):
        run = runs.get(name) or SourceRuns(name, None, None, None, None)
        failing = run.last_error and (run.last_error_at or "") >= (run.last_success or "")
        source = settings.sources.get(name)
        collected = source is not None and source.enabled and name not in IMPORTED_ONLY
        sources.append(SourceHealth(
            name, run.last_run, run.last_success, run.last_error_at,
            run.last_error if failing else None, collected,
            "" if collected else "imported" if name in IMPORTED_ONLY else "not enabled",  # imported rows name it too
            jobs.get(collect_job(name))))
        if failing:
            unhealthy.append(name)
    credentials = []
    for name, problem in missing_credentials(settings):
        if name.startswith("alert channel "):
            continue  # a channel is judged by its waiting alerts, below
        credentials.append(problem)
        unhealthy.append(f"{name} lacks credentials")
    if counts.get("failed"):
        unhealthy.append(f"{counts['failed']} failed alerts")
    waiting = _channels_waiting(settings, store, now)
    # The daemon may run with secrets this shell lacks (systemd's secrets.env), so such a channel
    # is unhealthy only when its alerts are overdue, i.e. nothing has been able to send them.
    unhealthy.extend(f"alert channel {w.name} cannot send ({w.variable} is not set), "
                     f"{w.overdue} alert{'' if w.overdue == 1 else 's'} overdue" for w in waiting if w.overdue)
    late = overdue(jobs, now)
    if late:
        # An overdue job means the daemon died without stopping.
        unhealthy.append(f"`listenpost run` jobs overdue ({', '.join(late)}); is the daemon running?")
    return Health(
        database=settings.database_location.display(), size_bytes=store.size_bytes(), mentions=store.count_mentions(),
        unscored=store.label_counts().get(UNSCORED, 0), sources=sources, credentials=credentials,
        alert_counts=counts, channels_enabled=sum(1 for c in settings.alerts.channels.values() if c.enabled),
        waiting=waiting,
        daemon_jobs={k: v for k, v in jobs.items() if not k.startswith("collect:") and v.next_run_at},
        unhealthy=unhealthy,
    )


def _channels_waiting(settings: Settings, store: Store, now: datetime) -> list[ChannelWaiting]:
    missing = channels_missing_credentials(settings)
    if not missing:
        return []
    # Per channel: alerts pending, and of those the ones due longer ago than WAITING_TOO_LONG.
    waiting = store.waiting_alerts(now - WAITING_TOO_LONG)
    out = []
    for name, exc in missing.items():
        pending, late = waiting.get(name, (0, 0))
        if pending:
            out.append(ChannelWaiting(name, exc.variable, pending, late))
    return out


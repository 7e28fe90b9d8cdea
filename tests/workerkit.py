"""Crash trials across workers: several real `listenpost run` processes share one database while
a random one is killed with SIGKILL and restarted, over and over.

Each worker runs the real daemon (a loopback feed source, the lexicon model, the Slack channel).
After the kills the workers run until every mention the feed served is stored and judged and
the outbox is empty, then stop on SIGTERM. Counted: mentions and alerts lost, alerts posted to
the fake Slack twice, and collections of the source closer together than half its interval
(two workers collecting in the same interval).
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from monitor.store import Store, parse_ts
from tests.crashkit import TEXTS, _count, _done
from tests.fakeslack import TOKEN, FakeSlack
from tests.fakesource import REGISTRATION, FeedServer
from tests.httpfake import fake_server

ROOT = Path(__file__).resolve().parent.parent
INTERVAL = 0.5  # seconds between collections of the feed, across all workers

SETTINGS = """
database = "{database}"
[[brands]]
name = "Acme"
queries = ["acme"]
[classifier]
model = "lexicon"
[schedule]
dispatch_every = "0.1s"
worker_ttl = "1s"
heartbeat_every = "0.25s"
send_lease = "2s"
[sources.fakefeed]
enabled = true
interval = "{interval}s"
base_url = "{feed}"
[alerts.channels.team]
type = "slack"
options = {{ channel = "C0ALERTS", base_url = "{slack}" }}
[[alerts.routes]]
channels = ["team"]
"""


@dataclass
class WorkersOutcome:
    """One trial across workers: what was served, stored and sent, and what went wrong."""

    workers: int
    kills: int
    mentions: int
    stored: int
    alerts: int
    delivered: int  # alerts of every kind (mentions, incidents) posted to Slack
    lost_mentions: int
    lost_alerts: int
    duplicate_alerts: int
    collections: int
    double_collections: int
    finished: bool
    clean_stops: int
    elapsed: float


def work(config: Path) -> None:
    """The child: `listenpost run` with the test-only feed source registered."""
    import collectors
    from monitor.cli import cli

    collectors.SOURCES["fakefeed"] = REGISTRATION
    cli(["--config", str(config), "run"], prog_name="listenpost")


class Workers:
    """The worker processes of one trial; each one's log goes to its own file."""

    def __init__(self, folder: Path, config: Path, count: int) -> None:
        self.folder = folder
        self.config = config
        self.started = 0
        self.processes: list[subprocess.Popen[bytes]] = [self._start() for _ in range(count)]

    def _start(self) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENPOST_")}
        env["LISTENPOST_SLACK_BOT_TOKEN"] = TOKEN
        self.started += 1
        with open(self.folder / f"worker-{self.started}.log", "wb") as log:
            return subprocess.Popen([sys.executable, "-m", "tests.workerkit", str(self.config)], cwd=ROOT,
                                    env=env, stdout=subprocess.DEVNULL, stderr=log)

    def kill_and_restart(self, index: int) -> None:
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait()
        self.processes[index] = self._start()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM to all; returns how many stopped cleanly (exit status 0) in time."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        clean = 0
        for process in self.processes:
            try:
                clean += process.wait(timeout) == 0
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return clean

    def failures(self) -> str:
        """Logs of workers that ended by themselves (a crash, not one of our signals)."""
        return "\n".join((self.folder / f"worker-{n}.log").read_text(errors="replace")[-4000:]
                         for n in range(1, self.started + 1)
                         if "Traceback" in (self.folder / f"worker-{n}.log").read_text(errors="replace"))


def _wait_for_progress(feed: FeedServer, slack: FakeSlack, rng: random.Random, deadline: float) -> None:
    """Until the next feed request or Slack post (of any worker), plus a random delay: the kill
    then lands mid-collection, mid-classification, mid-send or between "posted" and "recorded"."""
    watch = rng.choice(("feed", "slack"))
    before = len(feed.server.requests) if watch == "feed" else len(slack.messages)
    wanted = before + rng.randint(1, 2)
    while time.monotonic() < deadline:
        if (len(feed.server.requests) if watch == "feed" else len(slack.messages)) >= wanted:
            break
        time.sleep(0.002)
    time.sleep(rng.uniform(0, 0.1))


def double_collections(database: str, interval: float) -> tuple[int, int]:
    """Collections of the feed, and those starting within half an interval of the one before."""
    with Store(database) as store:
        starts = [parse_ts(r[0]) for r in store._rows(
            "SELECT started_at FROM runs WHERE source = 'fakefeed' AND kind = 'collect' ORDER BY started_at")]
    times = [s for s in starts if s is not None]
    close = sum((b - a).total_seconds() < interval / 2 for a, b in itertools.pairwise(times))
    return len(times), close


def trial(folder: Path, rng: random.Random, *, workers: int = 2, kills: int = 3, mentions: int = 24,
          database: str | None = None, timeout: float = 60.0) -> WorkersOutcome:
    """One trial on a fresh feed and Slack; ``database`` is an SQLite file (default) or a URL."""
    database = database or str(folder / "workers.db")
    started = time.monotonic()
    deadline = started + timeout
    with fake_server() as server:
        feed = FeedServer(server, TEXTS, per_request=rng.randint(2, 6), limit=mentions)
        slack = FakeSlack(server).install()
        slack.post_delay = rng.uniform(0, 0.03)  # room to die between "posted" and "recorded"
        config = folder / "settings.toml"
        config.write_text(SETTINGS.format(database=database, interval=INTERVAL, feed=server.url,
                                          slack=slack.base_url), encoding="utf-8")
        crew = Workers(folder, config, workers)
        try:
            made = 0
            while made < kills and time.monotonic() < deadline:
                _wait_for_progress(feed, slack, rng, deadline)
                crew.kill_and_restart(rng.randrange(workers))
                made += 1
            while not _done(database, mentions) and time.monotonic() < deadline:
                if any(p.poll() is not None for p in crew.processes):
                    break
                time.sleep(0.05)
            finished = _done(database, mentions)
        finally:
            clean = crew.stop()
        if clean < workers:
            raise RuntimeError(f"a worker failed:\n{crew.failures()}")
        outcome = _count(database, feed, slack, made, finished)
        collections, close = double_collections(database, INTERVAL)
        delivered = len({p["metadata"]["event_payload"]["alert_id"] for p in slack.posts()})
        return WorkersOutcome(
            workers=workers, kills=made, mentions=outcome.mentions, stored=outcome.stored, alerts=outcome.alerts,
            delivered=delivered, lost_mentions=outcome.lost_mentions, lost_alerts=outcome.lost_alerts,
            duplicate_alerts=outcome.duplicate_alerts, collections=collections, double_collections=close,
            finished=finished, clean_stops=clean, elapsed=time.monotonic() - started,
        )


if __name__ == "__main__":
    work(Path(sys.argv[1]))

"""Crash trials: collection plus delivery in a child process, killed with SIGKILL and restarted.

The child runs the real pipeline (a loopback feed source, the lexicon model, the Slack channel)
and the real dispatcher in a loop. After the kills a last child runs to the end; then every
mention the feed served must be stored, and every alert posted to the fake Slack exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from monitor.store import MIGRATIONS, Store
from tests.fakeslack import TOKEN, FakeSlack
from tests.fakesource import REGISTRATION, FeedServer
from tests.httpfake import fake_server

ROOT = Path(__file__).resolve().parent.parent
LEASE = 0.3  # seconds before a restarted child takes over an alert the killed one was sending
TEXTS = [
    "Acme lost my parcel again, worst service ever, I am furious.",
    "Acme shipped early, thanks a lot!",
    "Acme support is useless and rude, I want a refund now.",
    "What time does the Acme store open?",
    "Terrible Acme app, it crashes every time, awful.",
    "Love the new Acme update, great work.",
    "Acme charged me twice, this is a scam, horrible.",
]

SETTINGS = """
database = "{db}"
[[brands]]
name = "Acme"
queries = ["acme"]
[classifier]
model = "lexicon"
[sources.fakefeed]
enabled = true
base_url = "{feed}"
[alerts.channels.team]
type = "slack"
options = {{ channel = "C0ALERTS", base_url = "{slack}" }}
[[alerts.routes]]
channels = ["team"]
"""


@dataclass
class Outcome:
    """One trial: mentions served and stored, negatives, alerts, and what was lost or sent twice."""

    kills: int
    mentions: int
    stored: int
    negatives: int
    alerts: int
    lost_mentions: int
    lost_alerts: int
    duplicate_alerts: int
    finished: bool


def work(config: Path) -> None:
    """The child: collect and deliver until killed (the test-only feed source registered)."""
    import collectors
    from alerts.channels import build_channels
    from alerts.outbox.dispatch import dispatch_due
    from classifiers import load_classifier
    from monitor.app.pipeline import run_collector
    from monitor.core.config import load_settings

    collectors.SOURCES["fakefeed"] = REGISTRATION
    settings = load_settings(config)
    classifier = load_classifier("lexicon")
    collector = collectors.collector_class("fakefeed")(settings)
    channels = build_channels(settings, skip_broken=False)
    with Store(settings.database) as store:
        while True:
            run_collector(store, settings, collector, classifier=classifier)
            dispatch_due(store, settings, channels, lease=LEASE)
            time.sleep(0.01)


def start(config: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENPOST_")}
    env["LISTENPOST_SLACK_BOT_TOKEN"] = TOKEN
    return subprocess.Popen([sys.executable, "-m", "tests.crashkit", str(config)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _done(db: Path | str, limit: int) -> bool:
    """Every mention stored and classified, nothing left in the outbox (an SQLite file or a URL)."""
    if "://" not in str(db) and not Path(db).exists():
        return False
    with Store(str(db), migrate=False) as store:
        if MIGRATIONS[-1][0] not in store.applied_migrations():
            return False  # the first child is still creating the tables
        stored = store._one(
            "SELECT count(*), count(c.label) FROM mentions m LEFT JOIN latest_labels c"
            " ON c.source = m.source AND c.external_id = m.external_id")
        return bool(stored and stored[0] == stored[1] == limit and not store._rows(
            "SELECT count(*) FROM alerts WHERE status IN ('pending', 'sending')")[0][0])


def _kill_at_random(process: subprocess.Popen[bytes], feed: FeedServer, slack: FakeSlack,
                    rng: random.Random, deadline: float) -> None:
    """SIGKILL after the child's next feed request or Slack post, plus a random delay:
    mid-transaction, mid-classification, mid-send or between "posted" and "recorded"."""
    watch = rng.choice(("feed", "slack"))
    before = len(feed.server.requests) if watch == "feed" else len(slack.messages)
    wanted = before + rng.randint(1, 3)
    while process.poll() is None and time.monotonic() < deadline:
        seen = len(feed.server.requests) if watch == "feed" else len(slack.messages)
        if seen >= wanted:
            break
        time.sleep(0.002)
    time.sleep(rng.uniform(0, 0.05))
    process.send_signal(signal.SIGKILL)
    process.wait()


def trial(folder: Path, rng: random.Random, *, mentions: int = 24, kills: int = 3,
          timeout: float = 60.0) -> Outcome:
    """One crash trial on a fresh database, feed and Slack."""
    with fake_server() as server:
        feed = FeedServer(server, TEXTS, per_request=rng.randint(2, 6), limit=mentions)
        slack = FakeSlack(server).install()
        slack.post_delay = rng.uniform(0, 0.03)  # room to die between "posted" and "recorded"
        db = folder / "crash.db"
        config = folder / "settings.toml"
        config.write_text(SETTINGS.format(db=db, feed=server.url, slack=slack.base_url), encoding="utf-8")
        deadline = time.monotonic() + timeout
        made = 0
        for _ in range(kills):
            if _done(db, mentions):
                break
            _kill_at_random(start(config), feed, slack, rng, deadline)
            made += 1
        process = start(config)
        try:
            while not _done(db, mentions) and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.02)
            finished = _done(db, mentions)
        finally:
            process.kill()
            _, err = process.communicate()
        if process.returncode not in (0, -signal.SIGKILL):
            raise RuntimeError(f"the worker failed:\n{err.decode(errors='replace')}")
        return _count(db, feed, slack, made, finished)


def _count(db: Path | str, feed: FeedServer, slack: FakeSlack, kills: int, finished: bool) -> Outcome:
    served = set(feed.served)
    with Store(str(db)) as store:
        stored = {r[0] for r in store._rows("SELECT external_id FROM mentions")}
        negatives = {r[0] for r in store._rows(
            "SELECT external_id FROM latest_labels WHERE label = 'negative'")}
        # A stored mention with no verdict never had its alert decided: counted as lost.
        unjudged = {r[0] for r in store._rows(
            "SELECT m.external_id FROM mentions m LEFT JOIN latest_labels c ON c.source = m.source"
            " AND c.external_id = m.external_id WHERE c.label IS NULL")}
        alerts = {r[0]: r[1] for r in store._rows(
            "SELECT id, external_id FROM alerts WHERE kind = 'mention'")}
    posts = Counter(p["metadata"]["event_payload"]["alert_id"] for p in slack.posts())
    alerted = set(alerts.values())
    return Outcome(
        kills=kills, mentions=len(served), stored=len(stored), negatives=len(negatives), alerts=len(alerts),
        lost_mentions=len(served - stored),
        # A negative mention with no alert row, or an alert row that never reached Slack.
        lost_alerts=len(unjudged) + len(negatives - alerted) + sum(posts[i] == 0 for i in alerts),
        duplicate_alerts=sum(max(0, n - 1) for n in posts.values()),
        finished=finished,
    )


if __name__ == "__main__":
    work(Path(sys.argv[1]))

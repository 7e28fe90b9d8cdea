"""`listenpost run` as a real process: collects from a loopback source, alerts a fake Slack, stops on
SIGTERM, resumes on restart, and shares its database with a backfill and an import running at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.store import Store
from tests.fakeslack import TOKEN, FakeSlack
from tests.fakesource import REGISTRATION, FeedServer
from tests.httpfake import FakeServer, Request, Response

ROOT = Path(__file__).resolve().parent.parent
# The CLI with the test-only source registered, as the daemon's process would have it installed.
BOOT = (f"import collectors; collectors.SOURCES['fakefeed'] = {REGISTRATION!r}; "
        "from monitor.cli import main; main()")
ANGRY = "Acme support is useless, I am furious and want a refund. Worst company ever."
HAPPY = "Acme shipped my order early, thanks!"

SETTINGS = """
database = "listenpost.db"
[[brands]]
name = "Acme"
queries = ["acme"]
[classifier]
model = "lexicon"
[schedule]
dispatch_every = "0.3s"
escalate_every = "0.3s"
[sources.fakefeed]
enabled = true
interval = "{interval}"
base_url = "{feed}"
[alerts.channels.team]
type = "slack"
options = {{ channel = "C0ALERTS", base_url = "{slack}" }}
[[alerts.routes]]
channels = ["team"]
"""


@pytest.fixture
def slack(fake: FakeServer) -> FakeSlack:
    return FakeSlack(fake).install()


@pytest.fixture
def config(tmp_path: Path, fake: FakeServer, slack: FakeSlack) -> Callable[[str], Path]:
    def write(interval: str) -> Path:
        path = tmp_path / "settings.toml"
        path.write_text(SETTINGS.format(interval=interval, feed=fake.url, slack=slack.base_url), encoding="utf-8")
        return path

    return write


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENPOST_")}
    return {**env, "LISTENPOST_SLACK_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}


def listenpost(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", BOOT, "--config", str(config), *args]


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test started; killed if the test fails before they stop."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.communicate()


def start_daemon(config: Path, processes: list[subprocess.Popen[str]], log: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(listenpost(config, "run"), cwd=ROOT, env=environment(), text=True,
                               stdout=subprocess.PIPE, stderr=log.open("w", encoding="utf-8"))
    processes.append(process)
    return process


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the daemon exited early ({process.returncode}):\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met in {timeout}s; daemon log:\n{log.read_text()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[str], log: Path) -> str:
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    text = log.read_text(encoding="utf-8")
    assert process.returncode == 0, text
    return text


def test_daemon_collects_alerts_stops_on_sigterm_and_resumes(
    config: Callable[[str], Path], fake: FakeServer, slack: FakeSlack, tmp_path: Path,
    processes: list[subprocess.Popen[str]],
) -> None:
    feed = FeedServer(fake, [ANGRY, HAPPY], per_request=2, limit=2)
    path = config("0.5s")
    log = tmp_path / "daemon.log"
    daemon = start_daemon(path, processes, log)
    wait_for(lambda: len(slack.posts()) == 1 and len(feed.cursors()) >= 2, daemon, log)
    text = stop(daemon, log)

    # The collection that queued the alert sends it at once, without waiting for the dispatch tick.
    assert ("collect:fakefeed: source fakefeed: fetched 2, new 2, negatives 1, alerts 1; "
            "alerts sent 1, to retry 0, failed 0 (") in text
    assert "SIGTERM received" in text and text.rstrip().endswith("monitor.app.scheduler: stopped")
    assert "Traceback" not in text and TOKEN not in text
    assert "useless" in slack.posts()[0]["text"]
    with Store(tmp_path / "listenpost.db") as store:
        assert store.alert_counts() == {"sent": 1}
        assert store.cursor("fakefeed", "Acme:acme") == "2"
        assert all(job.next_run_at is None for job in store.scheduled_jobs().values())
        # An alert queued while the daemon was down is in the outbox for the next start.
        store.enqueue_alert(source="fakefeed", external_id="m2", brand="Acme", channel="team")

    status = subprocess.run(listenpost(path, "status"), cwd=ROOT, env=environment(), text=True,
                            capture_output=True, timeout=60)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "fakefeed" in status.stdout and "not scheduled" in status.stdout

    calls_before = len(feed.cursors())
    log = tmp_path / "restart.log"
    daemon = start_daemon(path, processes, log)
    wait_for(lambda: len(slack.posts()) == 2 and len(feed.cursors()) > calls_before, daemon, log)
    stop(daemon, log)
    assert feed.cursors()[calls_before] == "2"  # resumed from the stored cursor
    assert len(slack.posts()) == 2  # the queued alert went out; the first was not sent again
    assert sorted(set(feed.served)) == ["m1", "m2"]


def algolia(hits: list[dict[str, Any]]) -> Callable[[Request], Response]:
    """Hacker News search_by_date: hits inside the request's created_at_i bounds, 100 a page."""

    def answer(request: Request) -> Response:
        bounds = request.query["numericFilters"][0].split(",")
        lower = next((int(b.split(">=")[1]) for b in bounds if ">=" in b), 0)
        upper = next((int(b.split("<=")[1]) for b in bounds if "<=" in b), None)
        page = [h for h in hits if h["created_at_i"] >= lower and (upper is None or h["created_at_i"] <= upper)]
        return Response(200, {"hits": page[:100], "hitsPerPage": 100})

    return answer


def test_backfill_import_and_daemon_share_one_database(
    config: Callable[[str], Path], fake: FakeServer, slack: FakeSlack, tmp_path: Path,
    processes: list[subprocess.Popen[str]],
) -> None:
    feed = FeedServer(fake, [ANGRY, HAPPY, "What time does acme open?"], per_request=25)
    now = int(time.time())
    archive = [{"_tags": ["comment"], "author": f"hn{i}", "comment_text": f"acme deploy number {i} went fine",
                "created_at_i": now - 600 * i - 60, "objectID": str(9000 + i), "parent_id": 1, "story_id": 1}
               for i in range(600)]  # one every ten minutes for about four days
    fake.route("GET", "/hn/search_by_date", algolia(archive))
    path = config("0.05s")
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f'[sources.hackernews]\nbase_url = "{fake.url}/hn"\n'
                 'options = { min_interval = 0, backoff = 0.01 }\n')
    export = tmp_path / "export.jsonl"
    rows = 1000
    with export.open("w", encoding="utf-8") as fh:
        for n in range(rows):
            fh.write(json.dumps({"id": f"e{n}", "text": f"acme order {n} arrived", "author": f"a{n}",
                                 "created_at": "2026-11-20T10:00:00Z", "source": "export"}) + "\n")
    log = tmp_path / "daemon.log"
    daemon = start_daemon(path, processes, log)
    wait_for(lambda: len(feed.cursors()) >= 3, daemon, log)

    since = (datetime.now(UTC) - timedelta(days=9)).date().isoformat()
    writers = [subprocess.Popen(listenpost(path, *args), cwd=ROOT, env=environment(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for args in (("import", str(export), "--brand", "Acme"), ("backfill", "hackernews", "--since", since))]
    processes.extend(writers)
    (imported, imported_err), (backfilled, backfilled_err) = (w.communicate(timeout=300) for w in writers)
    calls = len(feed.cursors())
    wait_for(lambda: len(feed.cursors()) >= calls + 3, daemon, log)  # still collecting afterwards
    text = stop(daemon, log)

    assert [w.returncode for w in writers] == [0, 0], imported_err + backfilled_err
    assert f"Read {rows} rows: {rows} new mentions" in imported
    assert f"hackernews: fetched {len(archive)}, new {len(archive)}" in backfilled
    for output in (text, imported_err, backfilled_err):
        assert "locked" not in output and "Traceback" not in output
    with Store(tmp_path / "listenpost.db") as store:
        counts = {r["source"]: r["n"] for r in store.db.query("SELECT source, count(*) AS n FROM mentions GROUP BY 1")}
        failed = [r for r in store.last_runs() if r.last_error]
        alerts = store.alert_counts()
        complaints = store.conn.execute("SELECT count(*) FROM alerts WHERE kind = 'mention'").fetchone()[0]
        negatives = store.label_counts()["negative"]
    assert counts == {"export": rows, "hackernews": len(archive), "fakefeed": len(set(feed.served))}
    assert not failed
    assert negatives >= len({m for m in feed.served if int(m[1:]) % 3 == 1})  # at least every angry one
    assert complaints == negatives  # one alert per negative mention: none lost, none twice
    assert len(slack.posts()) == alerts["sent"]

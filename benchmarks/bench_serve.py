"""`listenpost serve` under a burst: signed button clicks sent at once, answered/total and latency.

Runs `listenpost serve` as its own process on 127.0.0.1 (Slack's Web API played by the fake
in tests/fakeslack.py), with one delivered alert per click. All clicks connect at the same
moment; each is a real signed request, so each is verified, recorded against replay, applied
to the database and followed by a chat.update on the fake Slack. Then half-sent requests are
left open and the script checks that a normal click is still answered and that the server
closes the half-sent ones.

    python benchmarks/bench_serve.py --requests 200
    python benchmarks/bench_serve.py --requests 200 --pythonpath /path/to/other/checkout

Loopback only; every request has a timeout, so the run is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.channels.slack.interactions import signature_for
from alerts.outbox.dispatch import dispatch_due
from classifiers import load_classifier
from monitor.app.pipeline import ingest
from monitor.core.config import load_settings
from monitor.core.records import Mention, utcnow
from monitor.store import Store
from tests.fakeslack import TOKEN, FakeSlack, settings_toml
from tests.httpfake import fake_server

SECRET = "bench-signing-secret-0123456789"
PROBLEMS = ["lost my parcel", "charged me twice", "app crashes on login", "rude support agent",
            "broken screen on arrival", "refund never came", "order arrived cold", "tracking is wrong"]
PATH = "/slack/actions"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def click_body(alert_id: int, user: str) -> bytes:
    payload = {"type": "block_actions", "user": {"id": f"U{user}", "username": user},
               "channel": {"id": "C0ALERTS"}, "container": {"message_ts": "1.0"},
               "actions": [{"action_id": "listenpost_claim", "value": str(alert_id)}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def post(port: int, body: bytes, timeout: float) -> tuple[int | None, float]:
    """(status or None when unanswered, seconds)."""
    stamp = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature_for(SECRET, stamp, body),
               "Content-Type": "application/x-www-form-urlencoded"}
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("POST", PATH, body=body, headers=headers)
        status = conn.getresponse().status
        conn.close()
    except OSError:
        status = None
    return status, time.perf_counter() - started


def prepare(folder: Path, base_url: str, alerts: int) -> tuple[Path, list[int]]:
    db = folder / "bench.db"
    config = folder / "settings.toml"
    # Incident grouping off: one delivered Slack message per alert, one alert per click.
    config.write_text(f'database = "{db}"\n' + settings_toml(base_url, '[alerts]\ngroup_window = "0s"\n'),
                      encoding="utf-8")
    settings = load_settings(config, environ={"LISTENPOST_SLACK_BOT_TOKEN": TOKEN})
    os.environ["LISTENPOST_SLACK_BOT_TOKEN"] = TOKEN
    classifier = load_classifier("lexicon")
    with Store(db) as store:
        for i in range(alerts):
            ingest(store, settings, [Mention(
                source="reddit", external_id=f"t3_{i}", brand="Acme", author=f"user{i}", created_at=utcnow(),
                text=f"Acme {random.choice(PROBLEMS)} ({random.randrange(10**9)}). Terrible, awful service.")],
                classifier)
        sent = 0
        while (report := dispatch_due(store, settings)).sent:
            sent += report.sent
        ids = [r["id"] for r in store.db.query("SELECT id FROM alerts WHERE kind = 'mention' ORDER BY id")]
    print(f"{len(ids)} mention alerts, {sent} alerts delivered to the fake Slack")
    return config, ids[:alerts]


def start_serve(config: Path, port: int, pythonpath: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LISTENPOST_SLACK_BOT_TOKEN": TOKEN, "LISTENPOST_SLACK_SIGNING_SECRET": SECRET,
           "LISTENPOST_CONFIG": str(config), "PYTHONPATH": pythonpath or str(Path(__file__).resolve().parent.parent)}
    process = subprocess.Popen([sys.executable, "-m", "monitor", "serve", "--port", str(port), "--no-dispatch"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=config.parent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("listenpost serve did not come up")


def burst(port: int, ids: list[int], timeout: float) -> None:
    count = len(ids)
    results: list[tuple[int | None, float]] = [(None, 0.0)] * count
    gate = threading.Barrier(count)

    def one(i: int) -> None:
        body = click_body(ids[i], f"user{i}")
        gate.wait()
        results[i] = post(port, body, timeout)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    answered = [s for s, _ in results if s is not None]
    times = sorted(t for s, t in results if s is not None)
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))] if times else float("nan")
    print(f"burst: {len(answered)}/{count} answered, statuses {dict(Counter(answered))}, "
          f"p50 {statistics.median(times) if times else float('nan'):.3f} s, p99 {p99:.3f} s, "
          f"wall {wall:.1f} s")


def half_sent(port: int, count: int, ids: list[int], timeout: float, wait: float) -> None:
    """Connections that send half a request and stop: the server must keep answering others."""
    sockets = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.sendall(b"POST " + PATH.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\npayload=")
        sockets.append(s)
    status, seconds = post(port, click_body(ids[0], "late"), timeout)
    print(f"with {count} half-sent requests open: a click answered {status} in {seconds:.3f} s")
    started = time.perf_counter()
    closed = 0
    for s in sockets:
        s.settimeout(max(0.1, wait - (time.perf_counter() - started)))
        with contextlib.suppress(OSError):
            closed += s.recv(1) == b""
        s.close()
    print(f"half-sent requests closed by the server: {closed}/{count} "
          f"(within {time.perf_counter() - started:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--half-sent", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="Seconds a client waits for an answer (Slack waits 3).")
    parser.add_argument("--idle-wait", type=float, default=30.0,
                        help="Seconds to wait for the server to close half-sent requests.")
    parser.add_argument("--pythonpath", help="Serve from this checkout instead (to compare versions).")
    args = parser.parse_args()
    random.seed(0)
    with fake_server() as server, tempfile.TemporaryDirectory() as tmp:
        slack = FakeSlack(server).install()
        config, ids = prepare(Path(tmp), slack.base_url, args.requests)
        port = free_port()
        process = start_serve(config, port, args.pythonpath)
        try:
            burst(port, ids, args.timeout)
            with Store(Path(tmp) / "bench.db") as store:
                claimed = sum(bool((alert := store.alert(i)) and alert.claimed_by) for i in ids)
            print(f"alerts claimed in the database after the burst: {claimed}/{len(ids)}")
            if args.half_sent:
                half_sent(port, args.half_sent, ids, args.timeout, args.idle_wait)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()

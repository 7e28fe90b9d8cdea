"""Alert delivery: store→posted latency (p50/p95) and exactly-once delivery over repeated kill -9.

Both run `listenpost alerts dispatch --watch` as a separate process posting to a fake Slack
Web API on 127.0.0.1 (tests/fakeslack.py).

    python benchmarks/bench_delivery.py --mentions 200 --rounds 10 --kills 10
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from classifiers import load_classifier
from monitor.app.pipeline import ingest
from monitor.core.config import load_settings
from monitor.core.records import Mention, utcnow
from monitor.store import Store, parse_ts
from tests.fakeslack import FakeSlack, deliver_with_kills, outbox_open, settings_toml, start_dispatcher
from tests.httpfake import fake_server

PROBLEMS = ["lost my parcel", "charged me twice", "app crashes on login", "rude support agent",
            "broken screen on arrival", "refund never came", "order arrived cold", "tracking is wrong"]


def complaint(i: int, rng: random.Random) -> Mention:
    words = " ".join(rng.sample(["seriously", "again", "today", "why", "unacceptable", "ugh", "honestly"], 3))
    return Mention(source="reddit", external_id=f"t3_{i}", brand="Acme", author=f"user{i}", created_at=utcnow(),
                   text=f"Acme {rng.choice(PROBLEMS)} #{i}, {words}. Terrible, awful service, I hate it.")


def setup(slack: FakeSlack, folder: Path) -> tuple[Path, Path]:
    db = folder / "bench.db"
    config = folder / "settings.toml"
    config.write_text(f'database = "{db}"\n' + settings_toml(slack.base_url)
                      + '\n[alerts]\ngroup_window = "1s"\n', encoding="utf-8")
    return config, db


def latency(count: int, poll: float, rng: random.Random) -> list[float]:
    """Mentions are stored one by one at random intervals while the dispatcher runs."""
    classifier = load_classifier("lexicon")
    with fake_server() as server, tempfile.TemporaryDirectory() as tmp:
        slack = FakeSlack(server).install()
        config, db = setup(slack, Path(tmp))
        settings = load_settings(config, environ={})
        with Store(db) as store:
            process = start_dispatcher(config, poll=poll, lease=120)
            time.sleep(2.0)  # the process is up and polling before the clock starts
            for i in range(count):
                ingest(store, settings, [complaint(i, rng)], classifier)
                time.sleep(rng.uniform(0.0, 0.3))
            deadline = time.monotonic() + 60
            while outbox_open(db) and time.monotonic() < deadline:
                time.sleep(0.05)
            process.terminate()
            process.wait(10)
            stored = {r.id: r for r in store.list_alerts(limit=100000)}
            collected = {
                (m["source"], m["external_id"]): parse_ts(m["collected_at"])
                for m in store.db.query("SELECT source, external_id, collected_at FROM mentions")
            }
        out = []
        for post in slack.posts():
            row = stored[post["metadata"]["event_payload"]["alert_id"]]
            if row.kind != "mention":
                continue
            when = collected[(row.source, row.external_id)]
            assert when is not None
            out.append(post["received"] - when.timestamp())
        return out


def kill_rounds(rounds: int, kills: int, alerts: int, rng: random.Random) -> tuple[int, int, int, int]:
    """(kills made, alerts, duplicates, losses) over ``rounds`` fresh outboxes."""
    classifier = load_classifier("lexicon")
    made = total = duplicates = losses = 0
    for r in range(rounds):
        with fake_server() as server, tempfile.TemporaryDirectory() as tmp:
            slack = FakeSlack(server).install()
            slack.post_delay = 0.05
            config, db = setup(slack, Path(tmp))
            settings = load_settings(config, environ={})
            with Store(db) as store:
                ingest(store, settings, [complaint(i, rng) for i in range(alerts)], classifier)
                ids = [row.id for row in store.list_alerts(limit=100000)]
            made += deliver_with_kills(slack, config, db, kills=kills, rng=rng, timeout=300)
            posts = Counter(p["metadata"]["event_payload"]["alert_id"] for p in slack.posts())
            total += len(ids)
            duplicates += sum(max(0, posts[i] - 1) for i in ids)
            losses += sum(posts[i] == 0 for i in ids)
            print(f"  round {r + 1}: {len(ids)} alerts, {posts.total()} posts", file=sys.stderr)
    return made, total, duplicates, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mentions", type=int, default=200)
    parser.add_argument("--poll", type=float, default=1.0, help="dispatcher poll interval, seconds")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--kills", type=int, default=10, help="kill -9 per round")
    parser.add_argument("--alerts", type=int, default=30, help="alerts per round")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    if args.mentions:
        lat = sorted(latency(args.mentions, args.poll, rng))
        p95 = lat[max(0, round(0.95 * len(lat)) - 1)]
        print(f"store→posted latency over {len(lat)} alerts (poll {args.poll}s): "
              f"p50 {statistics.median(lat):.2f}s, p95 {p95:.2f}s, max {lat[-1]:.2f}s")
    if args.rounds:
        made, total, duplicates, losses = kill_rounds(args.rounds, args.kills, args.alerts, rng)
        print(f"kill -9 mid-delivery: {made} kills over {args.rounds} rounds, {total} alerts: "
              f"{duplicates} duplicates, {losses} lost")


if __name__ == "__main__":
    main()

"""Time the digest and `report` over a database of 100,000 mentions (30 days, 2 brands, 6 sources).

    python benchmarks/bench_digest.py [--mentions 100000] [--db /tmp/bench-digest.db] [--preview out.html]

The database is built once and reused when it already holds the requested number of mentions.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.digest import build_digest, render_digest, response_times
from monitor.core.config import Brand, Settings
from monitor.core.records import Classification, Mention
from monitor.store import Store

SOURCES = ["x", "reddit", "bluesky", "appstore", "googleplay", "hackernews"]
BRANDS = ["Parcelly", "Brewbird"]
COMPLAINTS = [
    "tracking page is down again, app stuck on the loading screen",
    "parcel marked delivered but never arrived, claim rejected",
    "still waiting on my refund after three weeks",
    "driver threw my parcel over the gate and it broke",
    "E17 descaling error will not clear even after descaling twice",
    "machine leaking water from under the tank every morning",
    "BeanClub price went up again and shipping is extra now",
    "app crashes on launch since the last update on my Pixel",
]
PRAISE = ["great service, delivered early", "love the new app update", "coffee is perfect every morning"]
NEUTRAL = ["does anyone know the opening hours", "how do I change my address", "which model should I buy"]


def build(path: Path, count: int, now: datetime) -> None:
    rng = random.Random(7)
    with Store(path) as store:
        for start in range(0, count, 5000):
            mentions, verdicts = [], []
            for i in range(start, min(count, start + 5000)):
                roll = rng.random()
                label = "negative" if roll < 0.3 else "positive" if roll < 0.55 else \
                    "unscored" if roll < 0.58 else "neutral"
                pool = {"negative": COMPLAINTS, "positive": PRAISE}.get(label, NEUTRAL)
                text = f"{rng.choice(pool)} (order {rng.randrange(10**6)}) #{i}"
                posted = now - timedelta(seconds=rng.uniform(0, 30 * 86400))
                source = rng.choice(SOURCES)
                mentions.append(Mention(source=source, external_id=str(i), text=text, created_at=posted,
                                        brand=rng.choice(BRANDS), author=f"user{rng.randrange(5000)}",
                                        url=f"https://example.com/{source}/{i}"))
                neg = 0.9 if label == "negative" else 0.1
                verdicts.append(Classification(source, str(i), "bench", label,
                                               *((None,) * 3 if label == "unscored" else (neg, 0.05, 0.05))))
            store.save_mentions(mentions)
            store.save_classifications(verdicts)
            with store.transaction():
                for m, v in zip(mentions, verdicts, strict=True):
                    if v.label != "negative":
                        continue
                    alert_id = store.enqueue_alert(source=m.source, external_id=m.external_id,
                                                   brand=m.brand, channel="slack")
                    claim = timedelta(minutes=rng.expovariate(1 / 50))
                    times: dict[str, object] = {"created_at": m.created_at + timedelta(seconds=40),
                                                "sent_at": m.created_at + timedelta(seconds=45)}
                    if rng.random() < 0.9:
                        times["claimed_at"] = m.created_at + claim
                    if rng.random() < 0.7:
                        times["replied_at"] = m.created_at + claim + timedelta(hours=rng.expovariate(1 / 4))
                    assert alert_id is not None
                    store.set_alert_fields(alert_id, **times)
            print(f"  {min(count, start + 5000):>7} mentions stored", flush=True)


def timed(label: str, fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    print(f"{label:<44} {best * 1000:>9.0f} ms (best of {repeat})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=100_000)
    parser.add_argument("--db", default="/tmp/bench-digest.db")
    parser.add_argument("--preview", help="also write the 24 h digest's HTML preview here")
    args = parser.parse_args()
    path = Path(args.db)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    store = Store(path)
    if store.count_mentions() != args.mentions:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        print(f"Building {path} with {args.mentions} mentions …")
        started = time.perf_counter()
        build(path, args.mentions, now)
        print(f"  built in {time.perf_counter() - started:.1f} s")
        store = Store(path)
    settings = Settings(database=str(path), brands=[Brand(name=b) for b in BRANDS])
    print(f"{store.count_mentions()} mentions, database {store.size_bytes() / 1e6:.0f} MB")
    timed("import matplotlib + sklearn (first digest only)",
          lambda: (__import__("matplotlib.pyplot"), __import__("sklearn.decomposition")), repeat=1)
    for days in (1, 7, 30):
        period = timedelta(days=days)
        digest = timed(f"build_digest, last {days:>2} d", lambda p=period: build_digest(store, settings,
                                                                                         period=p, now=now))
        timed(f"render_digest, last {days:>2} d", lambda d=digest: render_digest(d))
        print(f"{'':<4}{digest.total} mentions, {digest.negatives} negative, {len(digest.themes)} themes: "
              + "; ".join(f"{t.label} ({t.count})" for t, _ in digest.themes[:4]))
    for name, query in [
        ("store.period_counts, 30 d", lambda: store.period_counts(now - timedelta(days=30), now)),
        ("store.hourly_counts, 60 d", lambda: store.hourly_counts(now - timedelta(days=60), now)),
        ("store.unanswered_negatives, 7 d", lambda: store.unanswered_negatives(now - timedelta(days=7),
                                                                                per_brand=8)),
        ("report: response_times, 30 d", lambda: response_times(store, now - timedelta(days=30), now)),
    ]:
        timed(name, query)
    if args.preview:
        digest = build_digest(store, settings, now=now)
        Path(args.preview).write_text(render_digest(digest, inline_images=True)[2], encoding="utf-8")
        print(f"Preview written to {args.preview}")
    store.close()


if __name__ == "__main__":
    main()

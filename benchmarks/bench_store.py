"""Store-only load: insert N synthetic mentions in pipeline-sized batches; report mentions/s and peak RSS.

    python benchmarks/bench_store.py --count 1000000
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.core.records import Mention
from monitor.store import Store

WORDS = [
    "parcel", "late", "refund", "app", "crash", "love", "great", "terrible", "support", "driver", "tracking",
    "broken", "coffee", "machine", "leak", "descale", "subscription", "price", "thanks", "awesome", "never",
]


def synthetic(n: int, start: int, rng: random.Random) -> list[Mention]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Mention(source=rng.choice(("x", "reddit", "bluesky", "hackernews")), external_id=str(i),
                text=" ".join(rng.choices(WORDS, k=rng.randint(8, 40))),
                created_at=base + timedelta(seconds=i * 3), brand=rng.choice(("Acme", "Globex")),
                author=f"user{rng.randint(1, 50000)}", url=f"https://example.com/{i}",
                raw={"id": i, "lang": "en"})
        for i in range(start, start + n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    rng = random.Random(7)
    db = args.db or Path(tempfile.mkdtemp()) / "bench.db"
    store = Store(db)
    stored = 0
    elapsed = 0.0
    while stored < args.count:
        n = min(args.batch, args.count - stored)
        batch = synthetic(n, stored, rng)  # built outside the timed part: this measures the store
        t0 = time.perf_counter()
        store.save_mentions(batch)
        elapsed += time.perf_counter() - t0
        stored += n
    again = synthetic(args.batch, 0, random.Random(7))
    t0 = time.perf_counter()
    dup_new = store.save_mentions(again)
    dedupe = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"stored {stored:,} mentions in {elapsed:.1f}s: {stored / elapsed:,.0f} mentions/s "
          f"(batches of {args.batch}, full-text index maintained)")
    print(f"re-saving a batch of {args.batch} already stored: {len(dup_new)} new, {dedupe * 1000:.0f} ms")
    print(f"database {store.size_bytes() / 1e6:,.0f} MB; peak RSS {rss_mb:,.0f} MB")
    store.close()


if __name__ == "__main__":
    main()

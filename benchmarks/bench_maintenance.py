"""The daemon's database maintenance on a large file, with a collector writing meanwhile.

Reports the time of raw-payload retention, ANALYZE and VACUUM, the file size before and after,
and the longest a concurrent writer (one 25-mention batch every 50 ms) had to wait.

    python benchmarks/bench_maintenance.py --count 100000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.core.records import Mention, utcnow
from monitor.store import Store

WORDS = ("parcel", "late", "refund", "app", "crash", "love", "great", "terrible", "support", "driver",
         "tracking", "broken", "coffee", "machine", "leak", "descale", "price", "thanks", "never", "why")


def mentions(source: str, start: int, n: int, rng: random.Random, payload: int) -> list[Mention]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Mention(source=source, external_id=str(i), text=" ".join(rng.choices(WORDS, k=rng.randint(8, 40))),
                created_at=base + timedelta(seconds=i), brand="Acme", author=f"user{i % 5000}",
                raw={"id": i, "body": "x" * payload})
        for i in range(start, start + n)
    ]


class Writer(threading.Thread):
    """A collector's writes: small batches on its own connection; records each batch's latency."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.waits: list[float] = []

    def run(self) -> None:
        rng = random.Random(2)
        with Store(self.path) as store:
            n = 0
            while not self.stop.wait(0.05):
                batch = mentions("live", n, 25, rng, 200)
                started = time.perf_counter()
                store.save_mentions(batch)
                self.waits.append(time.perf_counter() - started)
                n += 25


def timed(label: str, step: Callable[[], object], writer: Writer) -> None:
    before = len(writer.waits)
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    during = writer.waits[before:] or [0.0]
    print(f"{label:<24} {seconds:8.2f} s   writer batches {len(during):4d}, longest {max(during) * 1000:7.0f} ms"
          + (f"   ({result})" if result is not None else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--payload", type=int, default=1000, help="bytes of raw payload per mention")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        rng = random.Random(1)
        with Store(path) as store:
            for start in range(0, args.count, 5000):
                store.save_mentions(mentions("x", start, min(5000, args.count - start), rng, args.payload))
            cutoff = utcnow()
            print(f"{args.count} mentions with {args.payload}-byte payloads: {store.size_bytes() / 1e6:.1f} MB")
            writer = Writer(path)
            writer.start()
            time.sleep(0.5)
            timed("drop raw payloads", lambda: f"{store.drop_raw_payloads(cutoff)} cleared", writer)
            timed("ANALYZE", store.analyze, writer)
            timed("checkpoint + VACUUM", store.vacuum, writer)
            writer.stop.set()
            writer.join()
            print(f"after: {store.size_bytes() / 1e6:.1f} MB; writer batches in all {len(writer.waits)}, "
                  f"longest {max(writer.waits) * 1000:.0f} ms")


if __name__ == "__main__":
    main()

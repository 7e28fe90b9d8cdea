"""Load: store 1,000,000 mentions (store only), then classify and route 100,000 end to end.

Each part runs in a fresh process so its peak RSS is its own. The end-to-end part goes through
`monitor.app.pipeline.ingest` (dedupe, store, language detection, the model, alert routing) in
batches the size of an API page.

    python benchmarks/bench_load.py --store 1000000 --classify 100000 --model default
    python benchmarks/bench_load.py --store 0 --classify 100000 --model lexicon
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_store import synthetic

SETTINGS = """
database = "{db}"
[[brands]]
name = "Acme"
queries = ["acme"]
[[brands]]
name = "Globex"
queries = ["globex"]
[alerts.channels.team]
type = "jsonl"
options = {{ path = "{folder}/alerts.jsonl" }}
[[alerts.routes]]
channels = ["team"]
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def store_only(count: int, batch: int, folder: Path) -> None:
    from monitor.store import Store

    rng = random.Random(7)
    store = Store(folder / "store.db")
    elapsed, stored = 0.0, 0
    while stored < count:
        mentions = synthetic(min(batch, count - stored), stored, rng)  # built outside the clock
        started = time.perf_counter()
        store.save_mentions(mentions)
        elapsed += time.perf_counter() - started
        stored += len(mentions)
    started = time.perf_counter()
    hits = len(store.list_mentions(search="refund", limit=100))
    search_ms = (time.perf_counter() - started) * 1000
    print(f"store only: {stored:,} mentions in {elapsed:.1f}s = {stored / elapsed:,.0f} mentions/s "
          f"(batches of {batch}, dedupe and full-text index kept); database {store.size_bytes() / 1e6:,.0f} MB; "
          f"search over all of them {search_ms:.0f} ms ({hits} shown); peak RSS {peak_rss_mb():,.0f} MB", flush=True)
    store.close()


def end_to_end(count: int, batch: int, model: str, folder: Path) -> None:
    from classifiers import load_classifier
    from monitor.app.pipeline import ingest
    from monitor.core.config import load_settings
    from monitor.store import Store

    config = folder / "settings.toml"
    config.write_text(SETTINGS.format(db=folder / "e2e.db", folder=folder), encoding="utf-8")
    settings = load_settings(config, environ={})
    started = time.perf_counter()
    classifier = load_classifier(model)
    classifier.classify(["warm up"])
    load_s = time.perf_counter() - started
    rng = random.Random(11)
    totals = {"new": 0, "negatives": 0, "alerts": 0}
    elapsed = 0.0
    with Store(settings.database) as store:
        for start in range(0, count, batch):
            mentions = synthetic(min(batch, count - start), start, rng)
            began = time.perf_counter()
            result = ingest(store, settings, mentions, classifier)
            elapsed += time.perf_counter() - began
            for key in totals:
                totals[key] += getattr(result, key)
    print(f"end to end ({classifier.name}): {totals['new']:,} mentions stored, classified and routed in "
          f"{elapsed:.1f}s = {totals['new'] / elapsed:,.0f} mentions/s (batches of {batch}); "
          f"{totals['negatives']:,} negative, {totals['alerts']:,} alerts queued; model load {load_s:.1f}s; "
          f"peak RSS {peak_rss_mb():,.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=int, default=1_000_000, help="mentions for the store-only part (0 skips)")
    parser.add_argument("--classify", type=int, default=100_000, help="mentions end to end (0 skips)")
    parser.add_argument("--model", default="default", help="classifier for the end-to-end part")
    parser.add_argument("--batch", type=int, default=1000, help="store-only batch size")
    parser.add_argument("--page", type=int, default=100, help="end-to-end batch size (an API page)")
    parser.add_argument("--part", choices=["store", "classify"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.part:
        with tempfile.TemporaryDirectory() as tmp:
            if args.part == "store":
                store_only(args.store, args.batch, Path(tmp))
            else:
                end_to_end(args.classify, args.page, args.model, Path(tmp))
        return
    for part, wanted in (("store", args.store), ("classify", args.classify)):
        if wanted:
            subprocess.run([sys.executable, __file__, "--part", part, *sys.argv[1:]], check=True)


if __name__ == "__main__":
    main()

"""Crash trial across workers: real `listenpost run` processes on one database, a random one
killed with SIGKILL and restarted ``--kills`` times while they collect, classify and post alerts.

Prints kills, mentions, alerts delivered, mentions and alerts lost, alerts posted twice,
collections and those two workers made in the same interval (all "lost", "twice" and "same
interval" figures must be 0), and the time taken.

    python benchmarks/bench_workers.py --kills 100 --workers 2
    python benchmarks/bench_workers.py --backend postgresql --kills 100
    python benchmarks/bench_workers.py --backend postgresql://localhost/listenpost_bench
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.workerkit import trial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="sqlite",
                        help="sqlite (a fresh file), postgresql (a server started here from the PostgreSQL "
                             "server binaries, as the tests do) or a postgresql:// URL of an empty database")
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--mentions", type=int, default=0,
                        help="mentions the feed serves (default: enough to keep collecting through the kills)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    mentions = args.mentions or 6 * args.kills + 20
    server = None
    database = None if args.backend == "sqlite" else args.backend
    if args.backend == "postgresql":
        from tests.pgserver import PostgresServer

        server = PostgresServer().start()
        os.environ.update(server.environ())
        database = server.url(server.create_database())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            outcome = trial(Path(tmp), random.Random(args.seed), workers=args.workers, kills=args.kills,
                            mentions=mentions, database=database, timeout=60 + 3.0 * args.kills)
    finally:
        if server is not None:
            server.stop()
    figures = asdict(outcome)
    print(f"backend {args.backend}, {args.workers} workers")
    for key, value in figures.items():
        print(f"  {key:<19} {value:.1f}" if isinstance(value, float) else f"  {key:<19} {value}")
    bad = outcome.lost_mentions + outcome.lost_alerts + outcome.duplicate_alerts + outcome.double_collections
    sys.exit(0 if outcome.finished and not bad else 1)


if __name__ == "__main__":
    main()

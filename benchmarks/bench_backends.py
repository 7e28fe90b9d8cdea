"""SQLite beside PostgreSQL: the store alone, and the whole pipeline with one and two workers.

Store only: ``--mentions`` synthetic mentions saved in the pipeline's batches (new ones only,
full-text search kept up to date), on a fresh SQLite file and a fresh PostgreSQL database.

End to end (``--end-to-end N``): N mentions imported with ``--no-classify``, then 1 and 2 real
`listenpost run` workers classify them with ``--model`` (the shipped model by default), route
the negatives to alerts and send those to a file channel. The rate is mentions classified per
second, from the first verdict to the last, across the workers.

PostgreSQL is the server named by ``--pg`` (its databases are created and dropped here), or one
this script starts from the PostgreSQL server binaries, as the tests do (tests/pgserver.py).

    python benchmarks/bench_backends.py --mentions 1000000
    python benchmarks/bench_backends.py --mentions 0 --end-to-end 4000
    python benchmarks/bench_backends.py --pg postgresql://localhost/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_store import synthetic  # noqa: E402
from monitor.store import Store  # noqa: E402

SETTINGS = """
database = "{database}"
[[brands]]
name = "Acme"
queries = ["acme"]
[classifier]
model = "{model}"
[schedule]
dispatch_every = "0.1s"
[alerts.channels.team]
type = "jsonl"
options = {{ path = "{alerts}" }}
[[alerts.routes]]
channels = ["team"]
"""


class Databases:
    """Fresh PostgreSQL databases on a server: ``--pg``'s, or one started here for the run."""

    def __init__(self, url: str | None, *, start: bool = True) -> None:
        self.url = url
        self.server = None
        if url is None and start:
            from tests.pgserver import PostgresServer

            self.server = PostgresServer().start()
            os.environ.update(self.server.environ())

    def admin(self):  # type: ignore[no-untyped-def]
        import psycopg

        if self.server is not None:
            return self.server.admin()
        return psycopg.connect(self.url, autocommit=True)

    @contextmanager
    def fresh(self) -> Iterator[str]:
        if self.server is not None:
            name = self.server.create_database()
            try:
                yield self.server.url(name)
            finally:
                self.server.drop_database(name)
            return
        name = "bench_" + uuid.uuid4().hex[:12]
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = str(self.url)
        try:
            yield base[: base.rindex("/") + 1] + name
        finally:
            with self.admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def upsert_rate(database: str, count: int, batch: int) -> tuple[float, float]:
    """Mentions per second saving ``count`` new mentions in batches, and the seconds it took."""
    rng = random.Random(7)
    elapsed = 0.0
    with Store(database) as store:
        stored = 0
        while stored < count:
            n = min(batch, count - stored)
            mentions = synthetic(n, stored, rng)  # built outside the timed part: this measures the store
            started = time.perf_counter()
            store.save_mentions(mentions)
            elapsed += time.perf_counter() - started
            stored += n
        assert store.count_mentions() == count
    return count / elapsed, elapsed


def export_file(folder: Path, count: int) -> Path:
    """An export of ``count`` mentions of Acme, texts as long and varied as the demo's."""
    from monitor.app.demo import demo_data_path

    texts = [json.loads(line)["text"] for line in demo_data_path().read_text(encoding="utf-8").splitlines()]
    path = folder / "export.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            text = texts[i % len(texts)]
            out.write(json.dumps({"id": f"e2e-{i}", "source": "import", "brand": "Acme",
                                  "text": f"Acme {text} #{i}", "created_at": "2026-11-01T12:00:00Z"}) + "\n")
    return path


def end_to_end(database: str, folder: Path, count: int, workers: int, model: str,
               threads: int = 0) -> dict[str, float]:
    """Import ``count`` mentions unclassified, then time ``workers`` daemons classifying them all."""
    config = folder / f"settings-{workers}.toml"
    config.write_text(SETTINGS.format(database=database, model=model, alerts=folder / "alerts.jsonl"),
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENPOST_")}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)  # the model's threads per worker
    listenpost = [sys.executable, "-m", "monitor", "--config", str(config)]
    started = time.perf_counter()
    subprocess.run([*listenpost, "import", str(export_file(folder, count)), "--no-classify"], cwd=ROOT, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    imported = time.perf_counter() - started
    crew = []
    for n in range(workers):
        with open(folder / f"worker-{workers}-{n}.log", "wb") as log:
            crew.append(subprocess.Popen([*listenpost, "run"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                         stderr=log))
    first: tuple[float, int] | None = None
    try:
        with Store(database) as store:
            while True:
                waiting = store.label_counts().get("unclassified", 0)
                now = time.perf_counter()
                if first is None and waiting < count:
                    first = (now, count - waiting)
                outbox = store.alert_counts()
                if not waiting and not outbox.get("pending") and not outbox.get("sending"):
                    break
                if any(p.poll() is not None for p in crew):
                    raise RuntimeError(f"a worker stopped; see {folder}/worker-*.log")
                time.sleep(0.2)
            alerts = sum(store.alert_counts().values())
    finally:
        for p in crew:
            p.send_signal(signal.SIGTERM)
        for p in crew:
            p.wait(60)
    assert first is not None
    seconds = max(now - first[0], 1e-9)
    return {"import_per_s": count / imported, "classified_per_s": (count - first[1]) / seconds,
            "seconds": seconds, "alerts": alerts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mentions", type=int, default=1_000_000, help="store-only: mentions saved per backend")
    parser.add_argument("--batch", type=int, default=1000, help="mentions per save, as the pipeline's batches")
    parser.add_argument("--end-to-end", type=int, default=0, metavar="N",
                        help="mentions imported and classified by 1 and 2 workers on PostgreSQL (0: skip)")
    parser.add_argument("--model", default="default", help="classifier for the end-to-end run")
    parser.add_argument("--threads", type=int, default=0,
                        help="the model's CPU threads per worker (default: the machine's cores)")
    parser.add_argument("--end-to-end-on", choices=("postgresql", "sqlite"), default="postgresql",
                        help="the backend of the end-to-end run")
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL server to use (default: start one)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="store-only backends, comma-separated")
    args = parser.parse_args()
    needs_server = (args.end_to_end and args.end_to_end_on == "postgresql") or (
        args.mentions and "postgresql" in args.backends.split(","))
    databases = Databases(args.pg, start=bool(needs_server))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            if args.mentions:
                print(f"store only: {args.mentions:,} new mentions in batches of {args.batch:,}")
                for backend in args.backends.split(","):
                    if backend == "sqlite":
                        rate, seconds = upsert_rate(str(folder / "store.db"), args.mentions, args.batch)
                    else:
                        with databases.fresh() as url:
                            rate, seconds = upsert_rate(url, args.mentions, args.batch)
                    print(f"  {backend:<10} {rate:>9,.0f} mentions/s  ({seconds:,.1f} s)", flush=True)
            if args.end_to_end:
                print(f"end to end on {args.end_to_end_on}: {args.end_to_end:,} mentions imported, classified "
                      f"with {args.model!r}, routed and sent by `listenpost run` workers"
                      + (f", {args.threads} model thread(s) each" if args.threads else ""))
                for workers in (1, 2):
                    if args.end_to_end_on == "sqlite":
                        result = end_to_end(str(folder / f"e2e-{workers}.db"), folder, args.end_to_end, workers,
                                            args.model, args.threads)
                    else:
                        with databases.fresh() as url:
                            result = end_to_end(url, folder, args.end_to_end, workers, args.model, args.threads)
                    print(f"  {workers} worker{'s' if workers > 1 else ' '} {result['classified_per_s']:>7,.0f} "
                          f"mentions/s classified ({result['seconds']:.1f} s, {result['alerts']:.0f} alerts); "
                          f"import {result['import_per_s']:,.0f} mentions/s", flush=True)
    finally:
        databases.stop()


if __name__ == "__main__":
    main()

"""Crash-safety trials: collection plus Slack delivery killed with SIGKILL at random points and restarted.

Each trial runs on a fresh database, loopback feed and fake Slack: the child process is killed
``--kills`` times, then a last one runs to the end. Prints mentions lost, alerts lost and alerts
posted twice over all trials (all must be 0), and the kills made.

    python benchmarks/bench_crash.py --trials 100 --kills 3
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crashkit import trial


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--kills", type=int, default=3, help="SIGKILLs per trial")
    parser.add_argument("--mentions", type=int, default=24, help="mentions the feed serves per trial")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    totals = dict(kills=0, mentions=0, stored=0, alerts=0, lost_mentions=0, lost_alerts=0, duplicate_alerts=0)
    unfinished = 0
    started = time.monotonic()
    for n in range(1, args.trials + 1):
        with tempfile.TemporaryDirectory() as tmp:
            outcome = trial(Path(tmp), rng, mentions=args.mentions, kills=args.kills)
        for key in totals:
            totals[key] += getattr(outcome, key)
        unfinished += not outcome.finished
        print(f"trial {n}: kills {outcome.kills}, stored {outcome.stored}/{outcome.mentions}, "
              f"alerts {outcome.alerts}, lost mentions {outcome.lost_mentions}, lost alerts "
              f"{outcome.lost_alerts}, duplicates {outcome.duplicate_alerts}"
              + ("" if outcome.finished else ", DID NOT FINISH"), file=sys.stderr, flush=True)
    print(f"{args.trials} trials, {totals['kills']} SIGKILLs, {time.monotonic() - started:.0f}s: "
          f"{totals['stored']}/{totals['mentions']} mentions stored, {totals['alerts']} alerts; "
          f"mentions lost {totals['lost_mentions']}, alerts lost {totals['lost_alerts']}, "
          f"alerts duplicated {totals['duplicate_alerts']}, trials unfinished {unfinished}")


if __name__ == "__main__":
    main()

"""Crash safety: collection plus delivery killed with SIGKILL at random points loses no mention
and no alert, and posts no alert twice (benchmarks/bench_crash.py runs a hundred such trials)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.crashkit import trial


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_killed_and_restarted_loses_nothing_and_sends_nothing_twice(tmp_path: Path, seed: int) -> None:
    outcome = trial(tmp_path, random.Random(seed), mentions=14, kills=3)

    assert outcome.finished, outcome
    assert outcome.kills == 3
    assert outcome.mentions == outcome.stored == 14
    assert outcome.negatives > 0 and outcome.alerts == outcome.negatives
    assert (outcome.lost_mentions, outcome.lost_alerts, outcome.duplicate_alerts) == (0, 0, 0)


def test_two_workers_killed_at_random_lose_nothing_send_nothing_twice_and_collect_once(tmp_path: Path) -> None:
    from tests.workerkit import trial as workers_trial

    outcome = workers_trial(tmp_path, random.Random(21), workers=2, kills=4, mentions=48, timeout=45)

    assert outcome.finished, outcome
    assert outcome.kills == 4 and outcome.clean_stops == 2
    assert outcome.mentions == outcome.stored == 48
    assert outcome.alerts > 0 and outcome.delivered >= outcome.alerts
    assert (outcome.lost_mentions, outcome.lost_alerts, outcome.duplicate_alerts) == (0, 0, 0)
    assert outcome.collections >= 8 and outcome.double_collections == 0


def test_two_workers_on_postgresql_killed_at_random_lose_nothing_and_send_nothing_twice(
        tmp_path: Path, pg_url: str) -> None:
    from tests.workerkit import trial as workers_trial

    outcome = workers_trial(tmp_path, random.Random(22), workers=2, kills=4, mentions=48, database=pg_url,
                            timeout=60)

    assert outcome.finished, outcome
    assert outcome.kills == 4 and outcome.clean_stops == 2
    assert outcome.mentions == outcome.stored == 48
    assert outcome.alerts > 0 and outcome.delivered >= outcome.alerts
    assert (outcome.lost_mentions, outcome.lost_alerts, outcome.duplicate_alerts) == (0, 0, 0)
    assert outcome.double_collections == 0

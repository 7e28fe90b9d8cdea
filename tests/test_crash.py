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

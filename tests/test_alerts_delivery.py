"""Exactly-once delivery across crashes: the dispatcher process is SIGKILLed mid-delivery and restarted."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from monitor.app.pipeline import ingest
from monitor.core.records import Mention, utcnow
from tests.conftest import collected_for_days
from tests.fakeslack import FakeSlack, deliver_with_kills, settings_toml

pytestmark = pytest.mark.both_backends

PROBLEMS = ["lost my parcel", "charged me twice", "app crashes on login", "rude support agent",
            "broken screen on arrival", "refund never came"]


@pytest.fixture
def slack(fake) -> FakeSlack:
    slack = FakeSlack(fake).install()
    slack.post_delay = 0.05  # the post is kept at once; its answer comes 50 ms later
    return slack


def test_first_collect_of_a_new_database_raises_no_spike(store, make_settings, slack, lexicon) -> None:
    config = make_settings(settings_toml(slack.base_url))
    ingest(store, config, complaints(24), lexicon)
    kinds = Counter(r.kind for r in store.list_alerts(limit=1000))
    assert kinds["mention"] == 24 and kinds["spike"] == 0  # no history to compare the burst with
    collected_for_days(store, "Acme", 2)  # two days is still short of the 3-day default
    ingest(store, config, complaints(30)[24:], lexicon)
    assert Counter(r.kind for r in store.list_alerts(limit=1000))["spike"] == 0


def complaints(n: int) -> list[Mention]:
    # Every third one repeats an earlier complaint, so incident threads are crash-tested too.
    return [Mention(source="reddit", external_id=f"t3_{i}", brand="Acme", author=f"user{i}", created_at=utcnow(),
                    text=f"Acme {PROBLEMS[i % len(PROBLEMS)]}, order {i if i % 3 else 0}. "
                         "Terrible, awful service, I am furious.")
            for i in range(n)]


def test_no_alert_lost_or_sent_twice_when_killed_mid_delivery(store, database, make_settings, slack,
                                                              lexicon) -> None:
    config = make_settings(f'database = "{database}"\n' + settings_toml(slack.base_url))
    collected_for_days(store, "Acme", 4)  # a baseline, so the burst below is also a spike
    ingest(store, config, complaints(24), lexicon)
    rows = store.list_alerts(limit=1000)
    # 24 complaints in an hour; the repeated ones make incidents, which get status notices
    assert Counter(r.kind for r in rows) == {"mention": 24, "spike": 1, "notice": 3}
    ids = [r.id for r in rows]

    kills = deliver_with_kills(slack, Path(config.path), database,
                               kills=6, rng=random.Random(6))

    assert kills >= 3
    posts = Counter(p["metadata"]["event_payload"]["alert_id"] for p in slack.posts())
    assert {i: posts[i] for i in ids} == dict.fromkeys(ids, 1)
    assert {r.status for r in store.list_alerts(limit=1000)} == {"sent"}

"""The queries behind the CLI, the dispatcher and the digest read through indexes, never whole tables.

Each store method runs on a database with a realistic mix (most alerts long sent, a few due)
after ANALYZE, as the daily maintenance leaves it; every SELECT it ran is checked with
EXPLAIN QUERY PLAN.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from monitor.core.records import Classification, Mention, utcnow
from monitor.store import Store

NOW = utcnow()
SINCE = NOW - timedelta(days=7)
# Tables that grow with every mention; a plan may walk an index of them, never the table itself.
GROWING = {"mentions": {"mentions", "m"}, "classifications": {"classifications", "c", "c2"},
           "alerts": {"alerts", "a", "b"}, "runs": {"runs", "r2"}}
ALIASES = set().union(*GROWING.values())
# Finding mentions a model has not scored is an anti-join: it walks mentions in stored order and
# stops at its LIMIT, so it reads the whole table only when everything is scored already.
WALKS_BY_DESIGN = {"unclassified", "claim_unclassified"}


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(tmp_path_factory.mktemp("plans") / "plans.db")
    mentions = [Mention(source=("reddit", "x", "appstore", "hackernews")[i % 4], external_id=f"m{i}",
                        brand=("Acme", "Globex", "Initech")[i % 3], author=f"user{i % 97}",
                        text=f"acme order {i} arrived late", created_at=NOW - timedelta(minutes=37 * i))
                for i in range(3000)]
    store.save_mentions(mentions)
    labels = ("negative", "neutral", "positive", "positive")
    store.save_classifications(
        Classification(m.source, m.external_id, "lexicon", labels[i % 4], 0.8 if i % 4 == 0 else 0.1, 0.1, 0.1)
        for i, m in enumerate(mentions))
    for i, m in enumerate(mentions[::4]):
        alert_id = store.enqueue_alert(source=m.source, external_id=m.external_id, brand=m.brand,
                                       channel="team", group_key=f"g{i // 3}")
        assert alert_id is not None
        if i > 20:  # the few newest wait in the outbox; the rest went out long ago
            store.mark_sent(alert_id, f"C1:{i}.0")
            if i % 5:
                store.set_alert_fields(alert_id, claimed_at=NOW, claimed_by="sam")
    for i in range(200):
        run = store.start_run(("reddit", "x", "appstore", "hackernews")[i % 4], "collect")
        store.finish_run(run, fetched=10, new=2, error="HTTP 500" if i % 17 == 0 else None)
    store.analyze()
    return store


CALLS: dict[str, Callable[[Store], Any]] = {
    # listenpost mentions / search / stats / status / sources
    "list_mentions": lambda s: s.list_mentions(brand="Acme", source="x"),
    "list_mentions by label": lambda s: s.list_mentions(label="negative", since=SINCE),
    "list_mentions search": lambda s: s.list_mentions(search="order late"),
    "mention": lambda s: s.mention("x", "m1"),
    "label_counts": lambda s: s.label_counts(since=SINCE),
    "stats": lambda s: s.stats(since=SINCE),
    "last_runs": lambda s: s.last_runs(),
    "failed_runs": lambda s: s.failed_runs(SINCE),
    "cursor": lambda s: s.cursor("x", "Acme:acme"),
    "unclassified": lambda s: s.unclassified("other-model", limit=50),
    "claim_unclassified": lambda s: s.claim_unclassified("other-model", limit=50),
    # several workers: `status`, leases
    "workers": lambda s: s.workers(),
    "held_leases": lambda s: s.held_leases(),
    "lease": lambda s: s.lease("collect:x"),
    # alerts: dispatcher, escalation, incidents, `alerts list`
    "claim_due_alerts": lambda s: s.claim_due_alerts(channels=["team"]),
    "list_alerts": lambda s: s.list_alerts(status="pending"),
    "alert_counts": lambda s: s.alert_counts(),
    "author_history": lambda s: s.author_history("x", "user5", before=NOW),
    "group_root": lambda s: s.group_root("g30", "team", 10_000),
    "group_size": lambda s: s.group_size("g30", "team"),
    "case_alert_ids": lambda s: s.case_alert_ids(100),
    "recent_incidents": lambda s: s.recent_incidents("Acme", SINCE),
    "hourly_negatives": lambda s: s.hourly_negatives("Acme", SINCE, NOW),
    "last_alert_at": lambda s: s.last_alert_at("Acme", "spike"),
    "unclaimed_alerts": lambda s: s.unclaimed_alerts(sent_before=NOW, now=NOW),
    # the daily digest and `listenpost report`
    "period_counts": lambda s: s.period_counts(SINCE, NOW),
    "hourly_counts": lambda s: s.hourly_counts(SINCE, NOW),
    "top_negatives": lambda s: s.top_negatives(SINCE, NOW, per_brand=5),
    "unanswered_negatives": lambda s: s.unanswered_negatives(SINCE, per_brand=5),
    "negative_texts": lambda s: s.negative_texts(SINCE, NOW, limit=200),
    "response_times": lambda s: s.response_times(SINCE, NOW),
    "run_summary": lambda s: s.run_summary(SINCE, NOW),
}


def table_scans(store: Store, sql: str) -> list[str]:
    """Plan steps that read a growing table row by row instead of through an index."""
    steps = [row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    return [step for step in steps
            if step.startswith("SCAN ") and step.split()[1] in ALIASES and "INDEX" not in step]


@pytest.mark.parametrize("name", list(CALLS))
def test_query_reads_through_indexes(populated: Store, name: str) -> None:
    statements: list[str] = []
    populated.conn.set_trace_callback(statements.append)
    try:
        CALLS[name](populated)
    finally:
        populated.conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    assert selects, f"{name} ran no query"
    scans = {sql: table_scans(populated, sql) for sql in selects}
    scans = {sql: steps for sql, steps in scans.items() if steps}
    if name in WALKS_BY_DESIGN:
        assert all(steps == ["SCAN m"] for steps in scans.values()), scans
        return
    assert not scans, f"{name} reads whole tables: {scans}"

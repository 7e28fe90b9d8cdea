"""The praise queue: clearly positive mentions of our brands worth a thank-you, ranked by reach and
recency, in the CLI, the digest, an optional Slack channel with a Thanked button, and `report`."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.digest import build_digest, render_digest
from alerts.outbox.dispatch import dispatch_due
from alerts.outbox.triage import COMPETITOR, OFF_TOPIC, PRAISE, PRAISE_REASONS, RATING_HIGH, SPAM, decide
from classifiers.base import Scores
from monitor.app.pipeline import ingest
from monitor.app.serve import make_server
from monitor.cli import cli
from monitor.core.records import Classification, Mention, engagement, utcnow
from monitor.store import Store
from tests.fakeslack import TOKEN, FakeSlack, settings_toml
from tests.httpfake import FakeServer
from tests.test_serve import SECRET, click, post

pytestmark = pytest.mark.both_backends

PRAISE_TEXT = "Acme support sorted my order in five minutes. Brilliant service, thank you so much!"
COMPLAINT = "Acme lost my parcel and nobody answers. Terrible service, worst company ever."
FANS = """
[alerts.channels.fans]
type = "slack"
options = {{ channel = "C0FANS", base_url = "{base}" }}

[alerts.praise]
channels = ["fans"]
"""
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "scores", "rating", "reason"), [
    ("love the new app, best update yet", (0.02, 0.08, 0.90), None, PRAISE),
    ("love it, but how do I export my history?", (0.02, 0.08, 0.90), None, ""),  # a question
    ("it's fine I guess, works", (0.05, 0.40, 0.55), None, ""),  # positive, not clearly
    ("Great app", (0.3, 0.3, 0.4), 5, RATING_HIGH),  # the customer's own five stars
    ("Love it! Use my code SAVE50 for 50% off", (0.02, 0.08, 0.90), None, SPAM),
    # praise-shaped words meant the other way: never thanked (nor alerted on that score alone)
    ("Oh great, Acme forgot the protein again. Vegetarian week it is I guess, thanks so much",
     (0.05, 0.05, 0.90), None, ""),
    ("Great, another lid that leaks all over my laptop bag. Love that for me 🙃", (0.1, 0.1, 0.8), None, ""),
    ("Wow. So generous. 😒", (0.1, 0.1, 0.8), None, ""),
    ("Cool cool cool. Best update ever", (0.1, 0.1, 0.8), None, ""),
    ("oh great, broke after one day. love that for me", (0.1, 0.1, 0.8), 5, ""),
    ("Great, another crushed box. Thanks a lot.", (0.1, 0.1, 0.8), 4, ""),
    ("Loving the Acme /s-series bottle", (0.02, 0.08, 0.90), None, PRAISE),  # a model name, not "/s"
    ("Thanks so much for the quick refund, Acme!", (0.02, 0.08, 0.90), None, PRAISE),  # sincere
    # five stars whose words are clearly negative: a slip or a grudge, never thanked, worth a look
    ("Terrible. Box never came and no refund.", (0.9, 0.05, 0.05), 5, "low-confidence"),
])
def test_what_counts_as_praise(text: str, scores: tuple[float, float, float], rating: int | None,
                               reason: str) -> None:
    decision = decide(Scores(*scores), text=text, rating=rating, negative_threshold=0.5, alert_threshold=0.7)
    assert decision.reason == reason and not decision.alert


def add(store: Store, eid: str, *, reason: str = PRAISE, hours: float = 1, reach: int | None = None,
        brand: str = "Acme") -> None:
    store.save_mentions([Mention(source="x", external_id=eid, text=f"{eid} is lovely", brand=brand, author=eid,
                                 created_at=NOW - timedelta(hours=hours),
                                 engagement=engagement(followers=reach))])
    store.save_classifications([Classification("x", eid, "test", "positive", 0.02, 0.08, 0.9, alert=False,
                                               reason=reason)])


def test_queue_ranks_by_reach_and_recency_and_leaves_out_the_rest(store: Store) -> None:
    add(store, "fresh", hours=1, reach=50)
    add(store, "wide", hours=30, reach=10000)  # a day old, but 10,000 followers
    add(store, "unknown", hours=2)  # no reach given: ranked by recency among the rest
    add(store, "review", reason=RATING_HIGH, hours=3)
    for eid, reason in (("spam", SPAM), ("rival", COMPETITOR), ("elsewhere", OFF_TOPIC)):
        add(store, eid, reason=reason, reach=99999)
    add(store, "thanked", reach=5000)
    store.record_thanks("x", "thanked", "jo", NOW)
    add(store, "old", hours=24 * 8, reach=100000)
    rows, total = store.praise_to_thank(PRAISE_REASONS, since=NOW - timedelta(days=7), now=NOW, limit=10)
    assert [r.external_id for r in rows] == ["wide", "fresh", "unknown", "review"]
    assert total == 4
    assert not store.record_thanks("x", "thanked", "sam", NOW)  # the first thank-you stays


def test_praise_goes_to_its_own_slack_channel_and_thanked_is_recorded(
        store: Store, make_settings: Any, fake: FakeServer, monkeypatch: Any, database: str, lexicon: Any,
        runner: Any, write_settings: Any) -> None:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LISTENPOST_SLACK_SIGNING_SECRET", SECRET)
    slack = FakeSlack(fake).install()
    body = f'database = "{database}"\n' + settings_toml(slack.base_url) + FANS.format(base=slack.base_url)
    settings = make_settings(body)
    fan = Mention(source="x", external_id="1", text=PRAISE_TEXT, brand="Acme", author="@happy_ann",
                  created_at=utcnow() - timedelta(minutes=30), engagement=engagement(followers=8200))
    unhappy = Mention(source="x", external_id="2", text=COMPLAINT, brand="Acme", author="bob", created_at=utcnow())
    ingest(store, settings, [fan, unhappy], lexicon)
    dispatch_due(store, settings)
    fans = [p for p in slack.posts() if p["channel"] == "C0FANS"]
    assert len(fans) == 1 and all(p["channel"] == "C0ALERTS" for p in slack.posts() if p not in fans)
    blocks = json.dumps(fans[0]["blocks"], ensure_ascii=False)
    assert "Praise for Acme on X: say thanks" in blocks and "reach: 8,200 followers" in blocks
    assert "Hi happy_ann, thank you for the kind words" in blocks
    assert "sorry" not in blocks.lower() and "negative" not in blocks
    actions = next(b for b in fans[0]["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == ["listenpost_thanked"]

    alert_id = fans[0]["metadata"]["event_payload"]["alert_id"]
    server = make_server(settings, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/slack/actions"
        assert post(url, click("thanked", alert_id)).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    assert store._one("SELECT thanked_by FROM thanks WHERE external_id = '1'")[0] == "maria"
    updated = slack.posts(alert_id)[0]
    assert "Closed as thanked by maria" in json.dumps(updated["blocks"])
    assert not any(b["type"] == "actions" for b in updated["blocks"])

    result = runner.invoke(cli, ["--config", str(write_settings(body, "report.toml")), "report", "--since", "7d"])
    assert result.exit_code == 0, result.output
    assert "Praise: 1 mention worth a thank-you, 1 thanked (100%), median 30 min after posting." in result.output


def test_digest_has_a_say_thanks_section(store: Store, make_settings: Any) -> None:
    add(store, "wide", hours=5, reach=12400)
    add(store, "fresh", hours=1)
    digest = build_digest(store, make_settings('[[brands]]\nname = "Acme"\n'), now=NOW)
    assert digest.praise_total == 2
    _, text, html = render_digest(digest)
    assert "== Say thanks (2) ==" in text
    assert "- [X] Acme · wide, 5 hours ago · reach: 12,400 followers: wide is lovely" in text
    assert "Say thanks" in html and "no reach given" in html


def test_thanks_from_the_terminal(runner: Any, write_settings: Any, tmp_path: Path) -> None:
    config = write_settings(f'database = "{tmp_path / "t.db"}"\n[[brands]]\nname = "Acme"\n')
    with Store(tmp_path / "t.db") as store:
        store.save_mentions([Mention(source="x", external_id="7", text=PRAISE_TEXT, brand="Acme", author="ann",
                                     created_at=utcnow() - timedelta(hours=2), engagement=engagement(followers=310))])
        store.save_classifications([Classification("x", "7", "test", "positive", 0.02, 0.08, 0.9, alert=False,
                                                   reason=PRAISE)])
    base = ["--config", str(config), "mentions"]
    listed = runner.invoke(cli, [*base, "thanks"])
    assert listed.exit_code == 0, listed.output
    assert "1 mention of praise to thank:" in listed.output and "reach: 310 followers" in listed.output
    assert "x 7 by ann" in listed.output
    done = runner.invoke(cli, [*base, "thanked", "x", "7", "--by", "jo"])
    assert done.output.strip() == "x 7: thanked by jo"
    assert runner.invoke(cli, [*base, "thanks"]).output.strip() == "No praise waiting for a thank-you."
    missing = runner.invoke(cli, [*base, "thanked", "x", "8"])
    assert missing.exit_code != 0 and "no mention x 8" in missing.output and "Traceback" not in missing.output


def test_thanked_refuses_a_complaint_or_a_competitor(runner: Any, write_settings: Any, tmp_path: Path) -> None:
    config = write_settings(f'database = "{tmp_path / "t.db"}"\n[[brands]]\nname = "Acme"\n')
    with Store(tmp_path / "t.db") as store:
        for ext, reason, label in (("8", "confident", "negative"), ("9", COMPETITOR, "negative")):
            store.save_mentions([Mention(source="x", external_id=ext, text=COMPLAINT, brand="Acme", author="bo",
                                         created_at=utcnow() - timedelta(hours=2))])
            store.save_classifications([Classification("x", ext, "test", label, 0.9, 0.05, 0.05,
                                                       alert=reason == "confident", reason=reason)])
    for ext in ("8", "9"):
        result = runner.invoke(cli, ["--config", str(config), "mentions", "thanked", "x", ext])
        assert result.exit_code == 2 and "is not praise" in result.output and "Traceback" not in result.output
    with Store(tmp_path / "t.db") as store:
        assert store._one("SELECT count(*) FROM thanks")[0] == 0


def test_thanked_and_notice_posted_apply_only_to_their_own_kind_and_keep_the_first_click(tmp_path: Path) -> None:
    from alerts.outbox.escalation import apply_action
    from monitor.core.errors import ListenpostError

    store = Store(str(tmp_path / "db.sqlite"))
    praise = store.enqueue_alert(source="x", external_id="1", brand="acme", channel="c", kind="praise")
    complaint = store.enqueue_alert(source="x", external_id="2", brand="acme", channel="c", group_key="x:2")
    notice = store.enqueue_alert(source="notice", external_id="x:2", brand="acme", channel="c", kind="notice",
                                 group_key="x:2")
    assert praise and complaint and notice
    # A complaint is never thanked nor closed as a notice; a notice is never "thanked".
    for alert_id, action in ((complaint, "thanked"), (complaint, "notice_posted"), (notice, "thanked"),
                             (praise, "notice_posted")):
        with pytest.raises(ListenpostError):
            apply_action(store, alert_id, action, "eve")
    assert store.alert(complaint).closed_at is None
    assert store._one("SELECT count(*) FROM thanks")[0] == 0
    # A second click (replayed, or a colleague's) keeps the first person on both records.
    apply_action(store, praise, "thanked", "alice")
    again = apply_action(store, praise, "thanked", "bob")
    assert again.summary == f"alert #{praise}: already thanked by alice"
    assert store.alert(praise).closed_by == "alice"
    assert store._rows("SELECT thanked_by FROM thanks") == [("alice",)]
    apply_action(store, notice, "notice_posted", "alice")
    apply_action(store, notice, "notice_posted", "bob")
    assert store.notice_posted("x:2").closed_by == "alice"


def test_thanked_from_the_terminal_closes_the_praise_alert_too(runner: Any, write_settings: Any,
                                                                tmp_path: Path) -> None:
    config = write_settings(f'database = "{tmp_path / "t.db"}"\n[[brands]]\nname = "Acme"\n')
    with Store(tmp_path / "t.db") as store:
        store.save_mentions([Mention(source="x", external_id="7", text=PRAISE_TEXT, brand="Acme", author="ann",
                                     created_at=utcnow() - timedelta(hours=2))])
        store.save_classifications([Classification("x", "7", "test", "positive", 0.02, 0.08, 0.9,
                                                   alert=False, reason=PRAISE)])
        ids = [store.enqueue_alert(source="x", external_id="7", brand="Acme", channel=c, kind="praise")
               for c in ("slack", "file")]
    base = ["--config", str(config), "mentions", "thanked", "x", "7"]
    assert runner.invoke(cli, [*base, "--by", "jo"]).output.strip() == "x 7: thanked by jo"
    assert runner.invoke(cli, [*base, "--by", "sam"]).output.strip() == "x 7: already thanked"
    with Store(tmp_path / "t.db") as store:
        rows = [store.alert(i) for i in ids]
    assert [(r.resolution, r.closed_by) for r in rows] == [("thanked", "jo"), ("thanked", "jo")]

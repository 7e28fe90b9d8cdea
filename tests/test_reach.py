"""Reach: the audience figures each source gives, stored and shown in alerts, a route that sends a
high-reach negative straight to on-call, and a source with none said to give none."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.outbox.dispatch import dispatch_due
from monitor.app.pipeline import ingest
from monitor.core.config import load_settings
from monitor.core.errors import ConfigError
from monitor.core.records import Mention, engagement, utcnow
from monitor.store import Store, engagement_of
from tests.collectorkit import collect, source_settings, stored
from tests.fakeslack import TOKEN, FakeSlack, settings_toml
from tests.httpfake import FakeServer, Response
from tests.test_collectors_hackernews import PATH as HN_PATH
from tests.test_collectors_hackernews import recent_hits
from tests.test_collectors_x import BRAND as X_BRAND
from tests.test_collectors_x import PATH as X_PATH
from tests.test_collectors_x import recent

pytestmark = pytest.mark.both_backends

COMPLAINT = "Acme lost my parcel and nobody answers. Terrible service, worst company ever."
ONCALL = """
[alerts.channels.oncall]
type = "slack"
options = {{ channel = "C0ONCALL", base_url = "{base}" }}

[alerts.escalation]
channels = ["oncall"]
"""


@pytest.fixture
def slack(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", TOKEN)
    return FakeSlack(fake).install()


def complaint(n: int, source: str = "reddit", **kw: object) -> Mention:
    return Mention(source=source, external_id=f"m{n}", text=COMPLAINT, brand="Acme", author=f"user{n}",
                   url=f"https://example.com/{n}", created_at=utcnow(), **kw)  # type: ignore[arg-type]


def test_figures_keep_what_the_source_gave_and_headline_first() -> None:
    figures = engagement(followers=12400, impressions=None, helpful_votes=3, likes="7", reposts=True)
    assert figures == {"followers": 12400, "helpful votes": 3}  # missing, text and booleans left out
    assert complaint(1, engagement=figures).reach == 12400
    assert complaint(2).reach is None and complaint(2).engagement == {}


def test_x_stores_followers_and_impressions(tmp_path: Path, fake: FakeServer, store: Store,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENPOST_X_BEARER_TOKEN", "bearer-secret")
    body = recent()
    del body["meta"]["next_token"]
    body["includes"]["users"][0]["public_metrics"] = {"followers_count": 12400, "following_count": 3}
    body["data"][0]["public_metrics"] = {"impression_count": 3100, "like_count": 4}
    fake.route("GET", X_PATH, Response(200, body))
    collect(store, source_settings(tmp_path, "x", fake.url, brand=X_BRAND), "x")
    row = stored(store, "x")["1578516068309794817"]
    assert row["reach"] == 12400
    assert engagement_of(row) == {"followers": 12400, "impressions": 3100}
    assert "public_metrics" in fake.calls(X_PATH)[0].query["user.fields"][0]


def test_hacker_news_stores_points_and_comments(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", HN_PATH, Response(200, recent_hits()))
    collect(store, source_settings(tmp_path, "hackernews", fake.url + "/api/v1"), "hackernews")
    story = stored(store, "hackernews")["42001234"]
    assert (story["reach"], engagement_of(story)) == (311, {"points": 311, "comments": 87})


def test_alert_shows_reach_or_says_the_source_gives_none(store: Store, make_settings, slack: FakeSlack,
                                                         lexicon) -> None:
    settings = make_settings(settings_toml(slack.base_url))
    ingest(store, settings, [complaint(1, engagement=engagement(points=340, comments=1)),
                             complaint(2, source="rss")], lexicon)
    dispatch_due(store, settings)
    bodies = [json.dumps(p["blocks"], ensure_ascii=False) for p in slack.posts()]
    assert "reach: 340 points · 1 comment" in bodies[0]
    assert "no reach given" in bodies[1] and "reach:" not in bodies[1]


def test_route_sends_a_high_reach_negative_straight_to_on_call(store: Store, make_settings, slack: FakeSlack,
                                                               lexicon) -> None:
    settings = make_settings(settings_toml(slack.base_url, "escalate_reach = 10000\n")
                             + ONCALL.format(base=slack.base_url))
    ingest(store, settings, [complaint(1, source="x", engagement=engagement(followers=12400)),
                             complaint(2, source="x", engagement=engagement(followers=900)),
                             complaint(3, source="rss")], lexicon)
    dispatch_due(store, settings)
    oncall = [p for p in slack.posts() if p["channel"] == "C0ONCALL"]
    assert len(oncall) == 1
    body = json.dumps(oncall[0]["blocks"], ensure_ascii=False)
    assert "High-reach negative mention of Acme on X (reach 12,400 is 10,000 or more)" in body
    complaints = [p for p in slack.posts() if p["channel"] == "C0ALERTS" and "status update" not in p["text"]]
    assert len(complaints) == 3


def test_escalate_reach_needs_on_call_channels(write_settings) -> None:
    path = write_settings(settings_toml("http://127.0.0.1:9", "escalate_reach = 10000\n"))
    with pytest.raises(ConfigError, match=r"escalate_reach: needs on-call channels"):
        load_settings(path)


def test_a_reach_too_large_for_sqlite_is_refused_not_a_crash(tmp_path: Path) -> None:
    from collectors.file import parse_reach
    from monitor.core.records import MAX_REACH, Mention, engagement
    from monitor.store import Store

    with pytest.raises(ValueError, match="larger than any audience"):
        parse_reach("1e30")
    assert parse_reach("9,000,000,000,000,000,000") <= MAX_REACH
    assert engagement(followers=10**30, likes=float("inf"), points=3) == {"points": 3}
    at = datetime(2026, 11, 1, tzinfo=UTC)
    huge = Mention(source="x", external_id="1", text="acme", created_at=at, reach=10**30)
    negative = Mention(source="x", external_id="2", text="acme", created_at=at, reach=-4)
    assert huge.reach is None and negative.reach is None
    store = Store(str(tmp_path / "db.sqlite"))
    assert len(store.save_mentions([huge, negative])) == 2


def test_nothing_is_queued_for_a_disabled_on_call_channel(store: Store, make_settings, slack: FakeSlack,
                                                           lexicon) -> None:
    # A row for a disabled channel stays pending for ever: routes leave disabled channels out, and so do
    # escalation by reach and the praise queue.
    oncall = ONCALL.format(base=slack.base_url).replace('type = "slack"', 'type = "slack"\nenabled = false')
    settings = make_settings(settings_toml(slack.base_url, "escalate_reach = 10000\n") + oncall)
    ingest(store, settings, [complaint(1, source="x", engagement=engagement(followers=12400))], lexicon)
    kinds = [r[0] for r in store._rows("SELECT kind FROM alerts")]
    assert kinds == ["mention"]

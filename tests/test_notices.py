"""Proactive notices: several people reporting the same problem get a suggested status message for
the brand's own account, in the incident's Slack thread and the digest; a button records that it went
out, and later alerts of the incident say so."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.digest import build_digest, render_digest
from alerts.outbox.dispatch import dispatch_due
from monitor.app.pipeline import ingest
from monitor.app.serve import make_server
from monitor.core.records import Mention, utcnow
from monitor.store import Store
from tests.fakeslack import TOKEN, FakeSlack, settings_toml
from tests.httpfake import FakeServer
from tests.test_serve import SECRET, click, post

pytestmark = pytest.mark.both_backends

REPORT = "Acme tracking page is down again, my parcel is stuck and the app will not load at all today"
SOURCES = ["x", "reddit", "bluesky", "x"]


def report(n: int, minutes_ago: int = 0) -> Mention:
    return Mention(source=SOURCES[n % 4], external_id=f"r{n}", text=REPORT, brand="Acme", author=f"user{n}",
                   url=f"https://example.com/{n}", created_at=utcnow() - timedelta(minutes=minutes_ago))


@pytest.fixture
def slack(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LISTENPOST_SLACK_SIGNING_SECRET", SECRET)
    return FakeSlack(fake).install()


def notices(slack: FakeSlack) -> list[dict[str, Any]]:
    return [p for p in slack.posts() if "suggested status update" in p["text"]]


def test_two_reports_are_not_yet_an_incident_worth_a_notice(store: Store, make_settings: Any, slack: FakeSlack,
                                                            lexicon: Any) -> None:
    settings = make_settings(settings_toml(slack.base_url))
    ingest(store, settings, [report(1, 20), report(2, 10)], lexicon)
    dispatch_due(store, settings)
    assert len(slack.posts()) == 2 and notices(slack) == []


def test_third_report_brings_a_notice_into_the_thread_and_a_posted_notice_shows_later(
        store: Store, make_settings: Any, slack: FakeSlack, database: str, lexicon: Any) -> None:
    settings = make_settings(f'database = "{database}"\n' + settings_toml(slack.base_url))
    for n, minutes in ((1, 30), (2, 20), (3, 10)):
        ingest(store, settings, [report(n, minutes)], lexicon)
    dispatch_due(store, settings)
    root = slack.posts()[0]
    [notice] = notices(slack)
    assert notice["thread_ts"] == root["ts"]  # in the incident's thread
    body = json.dumps(notice["blocks"], ensure_ascii=False)
    assert "We know some of you are having trouble with the app and website and we're working on it." in body
    assert "3 reports · first posted" in body and "Bluesky, Reddit, X" in body
    actions = next(b for b in notice["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == ["listenpost_notice_posted"]
    assert "3 similar mentions" in json.dumps(slack.posts(1)[0]["blocks"])  # the notice is not a report

    notice_id = notice["metadata"]["event_payload"]["alert_id"]
    server = make_server(settings, host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        assert post(f"http://127.0.0.1:{server.server_port}/slack/actions",
                    click("notice_posted", notice_id)).status_code == 200
    finally:
        server.shutdown()
        server.server_close()
    assert "Closed as notice posted by maria" in json.dumps(slack.posts(notice_id)[0]["blocks"])
    assert store.alert(1).resolution is None  # the incident's complaints stay open

    ingest(store, settings, [report(4)], lexicon)
    dispatch_due(store, settings)
    later = json.dumps(slack.posts()[-1]["blocks"], ensure_ascii=False)
    assert "Status update posted by maria" in later and "say we posted an update" in later
    assert "We've posted an update about this on our account" in later  # the reply draft says so
    assert len(notices(slack)) == 1  # one notice per incident


def test_a_channel_without_threads_gets_the_notice_on_its_own(store: Store, make_settings: Any, tmp_path: Path,
                                                              lexicon: Any) -> None:
    out = tmp_path / "alerts.jsonl"
    settings = make_settings(f'[[brands]]\nname = "Acme"\n[alerts.channels.file]\ntype = "jsonl"\n'
                             f'options = {{ path = "{out}" }}\n[[alerts.routes]]\nchannels = ["file"]\n')
    ingest(store, settings, [report(1, 30), report(2, 20), report(3, 10)], lexicon)
    dispatch_due(store, settings)
    kinds = [json.loads(line)["kind"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert kinds == ["mention", "notice"]  # the two repeats grouped, the notice delivered


def test_digest_lists_the_notices_and_whether_they_went_out(store: Store, make_settings: Any, slack: FakeSlack,
                                                            lexicon: Any) -> None:
    settings = make_settings(settings_toml(slack.base_url))
    ingest(store, settings, [report(1, 30), report(2, 20), report(3, 10)], lexicon)
    dispatch_due(store, settings)
    _, text, html = render_digest(build_digest(store, settings, now=utcnow() + timedelta(minutes=1)))
    assert "== Status notices ==" in text and "- Acme: 3 reports, first " in text and "not posted yet" in text
    assert "Status notices" in html and "We know some of you are having trouble" in html


def test_the_same_complaint_days_apart_in_one_import_is_no_wave(store: Store, make_settings: Any, tmp_path: Path,
                                                               lexicon: Any) -> None:
    out = tmp_path / "alerts.jsonl"
    settings = make_settings(f'[[brands]]\nname = "Acme"\n[alerts.channels.file]\ntype = "jsonl"\n'
                             f'options = {{ path = "{out}" }}\n[[alerts.routes]]\nchannels = ["file"]\n')
    # One import alerts them all at once, but they were posted two days apart each: no incident.
    ingest(store, settings, [report(1, 6 * 1440), report(2, 4 * 1440), report(3, 2 * 1440)], lexicon)
    dispatch_due(store, settings)
    kinds = [json.loads(line)["kind"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert kinds == ["mention", "mention", "mention"]


def test_digest_counts_the_reports_that_came_after_the_notice(store: Store, make_settings: Any, slack: FakeSlack,
                                                              lexicon: Any) -> None:
    settings = make_settings(settings_toml(slack.base_url))
    ingest(store, settings, [report(1, 50), report(2, 40), report(3, 30)], lexicon)  # the notice, at three
    ingest(store, settings, [report(4, 20), report(5, 10)], lexicon)  # the wave goes on
    dispatch_due(store, settings)
    _, text, _ = render_digest(build_digest(store, settings, now=utcnow() + timedelta(minutes=1)))
    assert "- Acme: 5 reports, first " in text


def test_a_spike_notice_names_the_problem_of_its_negatives_not_of_earlier_praise_or_spam(store: Store) -> None:
    from alerts.outbox.drafts import status_notice
    from monitor.core.records import Classification

    now = utcnow()
    posts = [("praise", "Acme refunded me in a day, great service", "positive", 55),
             ("spam", "Acme refund scam? click here to get your refund back", "negative", 50),
             ("n1", "Acme app will not load, crashes on login", "negative", 40),
             ("n2", "Acme app crashes again", "negative", 30)]
    store.save_mentions([Mention(source="x", external_id=key, text=text, brand="Acme",
                                 created_at=now - timedelta(minutes=age)) for key, text, _, age in posts])
    store.save_classifications([Classification("x", key, "test", label, 0.1, 0.1, 0.8, alert=False,
                                               reason="spam" if key == "spam" else None)
                                for key, _, label, _ in posts])
    evidence = store.negatives_evidence("Acme", now - timedelta(hours=1), now)
    assert evidence is not None and evidence.count == 2
    assert "the app and website" in status_notice(evidence.text)

"""Competitors: collected and scored like our brands, never alerted, drafted or escalated, and
shown as share of voice beside our brands in the digest and `report`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.digest import build_digest, render_digest
from alerts.digest.voice import share_of_voice
from alerts.outbox.dispatch import dispatch_due
from monitor.app.pipeline import ingest
from monitor.cli import cli
from monitor.core.records import Mention, engagement, utcnow
from monitor.store import Store
from tests.fakeslack import TOKEN, FakeSlack, settings_toml
from tests.httpfake import FakeServer
from tests.test_digest import add

pytestmark = pytest.mark.both_backends

COMPLAINT = "{brand} lost my parcel and nobody answers. Terrible service, worst company ever."
RIVAL = """
[[brands]]
name = "Rival"
queries = ["rival"]
competitor = true
"""
ONCALL = """
[alerts.channels.oncall]
type = "slack"
options = {{ channel = "C0ONCALL", base_url = "{base}" }}

[alerts.escalation]
channels = ["oncall"]
"""
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def complaint(n: int, brand: str, **kw: Any) -> Mention:
    return Mention(source="x", external_id=f"{brand}{n}", text=COMPLAINT.format(brand=brand), brand=brand,
                   author=f"user{n}", url=f"https://x.com/u/status/{n}", created_at=utcnow(), **kw)


def test_a_competitors_complaint_is_scored_but_never_alerted_or_escalated(
        store: Store, make_settings: Any, fake: FakeServer, monkeypatch: Any, lexicon: Any) -> None:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", TOKEN)
    slack = FakeSlack(fake).install()
    settings = make_settings(settings_toml(slack.base_url, "escalate_reach = 1000\n") + RIVAL
                             + ONCALL.format(base=slack.base_url))
    loud = engagement(followers=90000)
    result = ingest(store, settings, [complaint(1, "Rival", engagement=loud), complaint(2, "Acme", engagement=loud)],
                    lexicon)
    assert result.negatives == 2
    dispatch_due(store, settings)
    posted = [p["text"] for p in slack.posts()]
    assert len(posted) == 2 and all("Rival" not in text for text in posted)  # Acme's alert and its on-call copy
    label, reason = store._one("SELECT label, reason FROM latest_labels WHERE external_id = 'Rival1'")
    assert (label, reason) == ("negative", "competitor")


def digest_store(store: Store) -> None:
    day = timedelta(days=1)
    for i in range(6):
        add(store, f"p{i}", "late again", "negative" if i < 2 else "positive", NOW - timedelta(hours=2 + i))
    for i in range(4):
        add(store, f"r{i}", "rival late", "negative" if i < 3 else "neutral", NOW - timedelta(hours=3 + i),
            brand="Rival")
    add(store, "old0", "rival before", "neutral", NOW - day - timedelta(hours=3), brand="Rival")
    add(store, "old1", "ours before", "neutral", NOW - day - timedelta(hours=3))


def test_digest_shows_share_of_voice_and_keeps_competitors_out_of_our_numbers(
        store: Store, make_settings: Any) -> None:
    settings = make_settings('[[brands]]\nname = "Parcelly"\n' + RIVAL)
    digest_store(store)
    digest = build_digest(store, settings, now=NOW)
    assert [b.name for b in digest.brands] == ["Parcelly"]
    assert (digest.total, digest.negatives) == (6, 2)
    voice = {v.brand: v for v in digest.voice}
    assert (voice["Parcelly"].share, voice["Rival"].share) == (0.6, 0.4)
    assert voice["Rival"].negative_share == 0.75 and voice["Rival"].competitor
    assert voice["Rival"].previous is not None and voice["Rival"].previous.share == 0.5
    _, text, html = render_digest(digest)
    assert "== Share of voice ==" in text
    assert "- Rival (competitor): 40% of mentions (4, −10 pts), 75% negative" in text
    assert "- Parcelly: 60% of mentions (6, +10 pts), 33% negative" in text
    assert "Share of voice" in html and ">competitor</span>" in html
    assert "Rival late" not in html and "rival late" not in html  # never among the complaints shown


def test_no_share_of_voice_without_competitors(store: Store, make_settings: Any) -> None:
    digest_store(store)
    digest = build_digest(store, make_settings('[[brands]]\nname = "Parcelly"\n'), now=NOW)
    assert digest.voice == [] and "Share of voice" not in render_digest(digest)[2]


def test_share_of_voice_with_no_mentions_at_all(store: Store, make_settings: Any) -> None:
    voice = share_of_voice(store, make_settings('[[brands]]\nname = "Parcelly"\n' + RIVAL), NOW - timedelta(days=1),
                           NOW)
    assert [(v.brand, v.share, v.negative_share) for v in voice] == [("Parcelly", 0.0, None), ("Rival", 0.0, None)]


def test_report_prints_share_of_voice_per_day(runner: Any, write_settings: Any, tmp_path: Path) -> None:
    config = write_settings(f'database = "{tmp_path / "r.db"}"\n[[brands]]\nname = "Parcelly"\n' + RIVAL)
    now = datetime.now(UTC)
    with Store(tmp_path / "r.db") as store:
        add(store, "p1", "late", "negative", now - timedelta(hours=30))
        add(store, "r1", "late", "positive", now - timedelta(hours=30), brand="Rival")
        add(store, "r2", "late", "negative", now - timedelta(hours=2), brand="Rival")
    result = runner.invoke(cli, ["--config", str(config), "report", "--since", "3d"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "No alerts in the last 3 days." in lines
    header = lines.index("Share of voice / negative share of each brand's own mentions (c: competitor):")
    assert lines[header + 1].split() == ["from", "Parcelly", "Rival", "(c)"]
    days = [line.split() for line in lines[header + 2:]]
    assert [d[1:] for d in days] == [["–", "/", "–", "–", "/", "–"], ["50%", "/", "100%", "50%", "/", "0%"],
                                     ["0%", "/", "–", "100%", "/", "100%"]]


def test_a_post_naming_a_competitor_and_us_is_ours_whatever_the_brands_order(make_settings: Any) -> None:
    from monitor.core.brands import attribute

    settings = make_settings(RIVAL + '[[brands]]\nname = "Acme"\nqueries = ["acme"]\n')
    assert [b.name for b in settings.brands] == ["Rival", "Acme"]
    assert attribute(settings, "rival is fine but the acme app is broken and charged me twice") == "Acme"
    assert attribute(settings, "rival app is broken") == "Rival"


def test_a_route_naming_a_competitor_is_refused(write_settings: Any) -> None:
    import pytest

    from monitor.core.config import load_settings
    from monitor.core.errors import ConfigError

    path = write_settings('[[brands]]\nname = "Acme"\n' + RIVAL + '[alerts.channels.out]\ntype = "console"\n'
                          '[[alerts.routes]]\nchannels = ["out"]\nbrands = ["Acme", "Rival"]\n')
    with pytest.raises(ConfigError, match=r"routes\[0\]\.brands: 'Rival' is a competitor"):
        load_settings(path)


def test_a_post_comparing_us_with_a_competitor_is_judged_by_what_it_says_of_us(
        store: Store, make_settings: Any, lexicon: Any) -> None:
    settings = make_settings('[classifier]\nmodel = "lexicon"\n[[brands]]\nname = "Acme"\nqueries = ["acme"]\n' + RIVAL)
    posts = {
        "theirs": "Rival lost my data, terrible and awful, the worst. acme never did that",
        "switched": "Switched from acme to rival: rival is awful, horrible garbage",
        "ours": "Rival is great and wonderful, but acme deleted all my files, awful and terrible",
        "their fire": "Rival chargers are catching fire everywhere. Just bought acme",  # no acme safety report
        "our fire": "Rival is fine, but my acme charger caught fire last night",
    }
    mentions = [Mention(source="x", external_id=k, text=t, brand="Acme", author=k, created_at=utcnow())
                for k, t in posts.items()]
    ingest(store, settings, mentions, lexicon)
    assert {a.external_id for a in store.list_alerts(limit=10)} == {"ours", "our fire"}
    assert store.latest_label("x", "theirs")[0] != "negative"  # type: ignore[index]
    assert store.latest_label("x", "switched")[0] != "negative"  # type: ignore[index]


def test_the_clauses_about_our_brand(make_settings: Any) -> None:
    from monitor.core.brands import own_clauses

    settings = make_settings('[[brands]]\nname = "Acme"\nqueries = ["acme"]\n' + RIVAL)

    def clauses(text: str) -> str | None:
        return own_clauses(settings, Mention(source="x", external_id="1", text=text, brand="Acme",
                                             created_at=utcnow()))

    assert clauses("rival is great, but acme deleted my files, awful") == "acme deleted my files awful"
    assert clauses("Unlike rival, acme actually answered my email. Nice.") == "acme actually answered my email. Nice."
    assert clauses("acme is fine, my neighbour's rival caught fire though") == "acme is fine"
    assert clauses("rival is garbage | acme is gold") == "acme is gold"
    assert clauses("rival lost my data. terrible. acme never did that") == "acme never did that"
    assert clauses("Ugh. acme lost my parcel. rival never did.") == "Ugh. acme lost my parcel."
    assert clauses("acme is slower than rival, so frustrating") == "acme is slower than rival so frustrating"
    assert clauses("acme deleted my files") is None  # no competitor named: the whole post is judged


def test_classify_judges_a_comparison_as_the_pipeline_does(tmp_path: Path, monkeypatch: Any) -> None:
    import json

    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.toml").write_text('[classifier]\nmodel = "lexicon"\n[[brands]]\nname = "Acme"\n'
                                            'queries = ["acme"]\n' + RIVAL, encoding="utf-8")
    rows = [{"id": "theirs", "text": "Rival lost my data, terrible and awful, the worst. acme never did that"},
            {"id": "ours", "text": "Rival is great and wonderful, but acme deleted all my files, awful and terrible"}]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(cli, ["classify", "rows.jsonl"])
    assert result.exit_code == 0, result.output
    alert = {r["id"]: r["alert"] for r in map(json.loads, [x for x in result.stdout.splitlines() if x.startswith("{")])}
    assert alert == {"theirs": False, "ours": True}

"""Alerts people can trust: confidence, star ratings, relevance to a brand and spam decide what interrupts a person."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from alerts.outbox.triage import CONFIDENT, LOW_CONFIDENCE, RATING_HIGH, RATING_LOW, SAFETY, SPAM, decide
from classifiers.base import Scores
from classifiers.spam import spam_kind
from collectors.base import Window
from collectors.file import FileCollector
from monitor.app.pipeline import ingest, run_collector
from monitor.cli import cli
from monitor.core.brands import about_brand, attribute
from monitor.core.records import Mention, utcnow

pytestmark = pytest.mark.both_backends

SETTINGS = """
[[brands]]
name = "Tidewell"
queries = ["tidewell", "\\"tide well\\""]
handles = ["@TidewellHelp"]
exclude = ["tidewell beach"]
apps = { appstore = ["123456"] }

[[brands]]
name = "Glacio"
queries = ["glacio"]

[classifier]
alert_threshold = 0.8

[alerts.channels.file]
type = "jsonl"
options = { path = "alerts.jsonl" }

[[alerts.routes]]
brands = ["*"]
channels = ["file"]
"""


@pytest.fixture
def settings(make_settings):
    return make_settings(SETTINGS)


def scores(negative: float, positive: float = 0.0) -> Scores:
    return Scores(negative=negative, neutral=1 - negative - positive, positive=positive)


@pytest.mark.parametrize("text, kind", [
    ("I make $700/day as a Tidewell delivery partner, DM me to learn how", "recruiting"),
    ("earn up to $5,000 a week from home with tidewell!!", "recruiting"),
    ("We're hiring! Join our team of Tidewell brand ambassadors", "recruiting"),
    ("Use my code TIDE20 for 20% off your tidewell bottle", "affiliate"),
    ("new tidewell unboxing, link in bio #ad", "affiliate"),
    ("GIVEAWAY: win a tidewell bottle! Follow + retweet to enter", "giveaway"),
    ("Claim your free Tidewell gift card now!!! click here bit.ly/xyz", "scam"),
    ("Cheap Tidewell bottles wholesale, contact us on whatsapp", "scam"),
])
def test_spam_is_recognised(text: str, kind: str) -> None:
    assert spam_kind(text) == kind


@pytest.mark.parametrize("text", [
    "Tidewell charged me $50 a month for a subscription I cancelled",
    "I entered the tidewell giveaway and never got my prize, nobody answers",
    "my tidewell lid leaks, support asked me to apply a sticker??",
    "the hiring manager at tidewell was rude on the phone",
    "the free tidewell gift card they promised never arrived, I clicked the link 3 times",
    "I asked Tidewell support on WhatsApp and nobody answered",
])
def test_complaints_that_mention_money_or_giveaways_are_not_spam(text: str) -> None:
    assert spam_kind(text) is None


@pytest.mark.parametrize("score, rating, label, alert, reason", [
    (0.95, None, "negative", True, CONFIDENT),
    (0.6, None, "negative", False, LOW_CONFIDENCE),  # labeled negative, below the alert threshold
    (0.1, None, "neutral", False, ""),
    (0.05, 1, "negative", True, RATING_LOW),  # 1-2 stars alert whatever the text model says
    (0.05, 2, "negative", True, RATING_LOW),
    (0.7, 4, "positive", False, RATING_HIGH),  # 4-5 stars are never a complaint
    (0.79, 5, "positive", False, RATING_HIGH),
    # ...nor thanked when the words are clearly negative ("Terrible. Never came." at 5 stars):
    # counted as the stars say, not alerted, listed as worth a look
    (0.97, 4, "positive", False, LOW_CONFIDENCE),
    (0.8, 5, "positive", False, LOW_CONFIDENCE),
    (0.97, 3, "negative", True, CONFIDENT),  # 3 stars: the model decides
    (0.6, 3, "negative", False, LOW_CONFIDENCE),
])
def test_decision_by_confidence_and_rating(score: float, rating: int | None, label: str, alert: bool,
                                           reason: str) -> None:
    decision = decide(scores(score), text="the lid leaks", rating=rating, negative_threshold=0.5,
                      alert_threshold=0.8)
    assert (decision.label, decision.alert, decision.reason) == (label, alert, reason)


def test_spam_is_never_alerted_even_when_negative_or_rated_low() -> None:
    text = "I make $700/day as a delivery partner, it's awful work but DM me"
    assert decide(scores(0.99), text=text, rating=None, negative_threshold=0.5, alert_threshold=0.8).reason == SPAM
    low = decide(scores(0.99), text=text, rating=1, negative_threshold=0.5, alert_threshold=0.8)
    assert (low.alert, low.reason) == (False, SPAM)


def mention(text: str, *, brand: str = "Tidewell", kind: str = "post", source: str = "x", eid: str = "1",
            rating: int | None = None) -> Mention:
    return Mention(source=source, external_id=eid, text=text, created_at=utcnow(), brand=brand, kind=kind,
                   rating=rating)


def test_relevance_needs_one_of_our_brands_without_its_exclusions_or_a_competitor(settings) -> None:
    assert about_brand(settings, mention("my Tidewell bottle leaks"))
    assert about_brand(settings, mention("@TidewellHelp the lid cracked after a week"))
    assert about_brand(settings, mention("crashes on launch", kind="review", source="appstore"))
    assert about_brand(settings, mention("same here, mine leaks too", kind="comment"))  # a reply in a matched thread
    assert not about_brand(settings, mention("sunset at tidewell beach was awful, too windy"))  # exclude
    assert not about_brand(settings, mention("Glacio's lid leaks everywhere, never again"))  # a competitor
    assert not about_brand(settings, mention("my bottle leaks", brand=""))  # matched no brand
    assert not about_brand(settings, mention("my bottle leaks", brand="Unknown Co"))
    assert attribute(settings, "@tidewellhelp where is my order") == "Tidewell"
    assert attribute(settings, "glacio bottles are fine") == "Glacio"
    assert attribute(settings, "nothing to see here") == ""


def test_exclusions_look_at_what_the_customer_wrote_not_the_brands_own_post(settings) -> None:
    # Comments under the brand's own "giveaway" post, or a review of its own app that uses an
    # excluded word, are still about the brand: a complaint there must not be silenced.
    under_post = Mention(source="facebook", external_id="c1", text="The lid cracked after a week, awful",
                         created_at=utcnow(), brand="Tidewell", kind="comment",
                         title="Win a bottle at Tidewell Beach this weekend!")
    assert about_brand(settings, under_post)
    assert not about_brand(settings, Mention(
        source="facebook", external_id="c2", text="the sunset at tidewell beach was lovely", created_at=utcnow(),
        brand="Tidewell", kind="comment", title="Our new bottle"))  # the commenter's own words still count
    review = mention("Bought it for Tidewell Beach, it leaked on day one", kind="review", source="appstore", rating=1)
    assert about_brand(settings, review)


def test_pipeline_alerts_only_confident_relevant_non_spam_negatives(store, settings, lexicon) -> None:
    posts = [
        mention("Tidewell lost my order, terrible awful service, I am furious", eid="complaint"),
        mention("Glacio lost my order, terrible awful service, I am furious", eid="competitor"),
        mention("I make $700/day as a Tidewell delivery partner, the old job was awful and terrible", eid="spam"),
        mention("tidewell is a bit meh", eid="meh"),
        mention("Love it, works great", kind="review", source="appstore", eid="one-star", rating=1),
        mention("Much better since the redesign, but the old lid was terrible and awful", kind="review",
                source="appstore", eid="four-star", rating=4),
    ]
    result = ingest(store, settings, posts, lexicon)
    alerted = {r.external_id for r in store.list_alerts(limit=50)}
    assert alerted == {"complaint", "one-star"}
    assert (result.spam, result.off_topic) == (1, 1)
    labels = {eid: store.latest_label("x", eid) for eid in ("competitor", "spam")}
    assert all(label is not None for label in labels.values())  # kept and scored, not lost


def test_low_confidence_negatives_are_worth_a_look_in_the_digest(store, settings, lexicon) -> None:
    from alerts.digest import build_digest, render_digest

    ingest(store, settings, [mention("tidewell shipping was a bit slow, disappointed", eid="meh")], lexicon)
    assert store.list_alerts() == []
    digest = build_digest(store, settings, now=utcnow() + timedelta(minutes=1))
    (section,) = [b for b in digest.brands if b.name == "Tidewell"]
    assert [i.text for i in section.worth_a_look] == ["tidewell shipping was a bit slow, disappointed"]
    _, text, _ = render_digest(digest)
    assert "Worth a look (1" in text


def test_imported_rows_matching_no_brand_are_kept_counted_and_never_alerted(store, settings, lexicon,
                                                                            tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "id,created_at,text\n"
        "1,2026-11-20T10:00:00Z,Tidewell lid leaks all over my bag. Terrible and awful.\n"
        "2,2026-11-20T10:01:00Z,This random bottle leaks all over my bag. Terrible and awful.\n"
        "3,2026-11-20T10:02:00Z,@TidewellHelp my order never came. Terrible and awful. The worst!\n",
        encoding="utf-8",
    )
    collector = FileCollector(settings, path)
    report = run_collector(store, settings, collector, kind="import", classifier=lexicon)
    assert report.new == 3 and report.unmatched == 1
    assert report.off_topic == 1
    assert {r.external_id for r in store.list_alerts(limit=10)} == {"1", "3"}  # row 3 by its handle


def test_classify_rows_carry_the_alert_decision_and_read_ratings(runner, write_settings, tmp_path: Path) -> None:
    settings = write_settings('[classifier]\nmodel = "lexicon"\nalert_threshold = 0.8\n')
    data = tmp_path / "rows.jsonl"
    rows = [
        {"id": "a", "text": "Terrible, awful, the worst service. I hate it."},
        {"id": "b", "text": "Love it, fantastic, works great", "rating": 1},
        {"id": "c", "text": "Terrible, awful, the worst service. I hate it.", "rating": 5},
        {"id": "d", "text": "I make $700/day as a delivery partner, awful terrible job"},
        {"id": "e", "text": "fine", "rating": "eleven"},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(settings), "classify", str(data)])
    assert result.exit_code == 0, result.output
    out = {row["id"]: row for row in map(json.loads, [line for line in result.stdout.splitlines() if line])}
    assert (out["a"]["label"], out["a"]["alert"]) == ("negative", True)
    assert (out["b"]["label"], out["b"]["alert"]) == ("negative", True)
    assert (out["c"]["label"], out["c"]["alert"]) == ("positive", False)  # 5 stars, however the words read
    assert out["d"]["alert"] is False
    assert out["e"]["alert"] is None and "rating" in out["e"]["error"]


def test_star_ratings_decide_even_in_languages_the_model_cannot_read(store, settings, lexicon) -> None:
    german = "Die App stürzt bei jedem Start ab, seit dem letzten Update ist sie völlig unbrauchbar geworden."
    posts = [
        mention(german, kind="review", source="appstore", eid="de-1", rating=1),
        mention(german.replace("stürzt", "läuft"), kind="review", source="appstore", eid="de-5", rating=5),
        mention("Tidewell: " + german, eid="de-post"),
    ]
    ingest(store, settings, posts, lexicon)
    assert {r.external_id for r in store.list_alerts(limit=10)} == {"de-1"}
    labels = {eid: store.latest_label("appstore" if eid != "de-post" else "x", eid)[0]
              for eid in ("de-1", "de-5", "de-post")}
    assert labels == {"de-1": "negative", "de-5": "positive", "de-post": "unscored"}


@pytest.mark.parametrize("text", [
    "Tried to use code SAVE20 at Tidewell checkout and it says invalid. Useless promo.",
    "I can't use my code from the tidewell email, checkout rejects it",
    "you can't make $5 from the tidewell app without it crashing",
    "I used to earn $2000 with the tidewell affiliate program and they stopped paying",
    "tidewell lost my files, I can't work from home anymore",
    "follow-up: tidewell never answered my ticket about the giveaway prize",
    "dm me for the screenshots of how tidewell charged me twice",
    "Message me for proof: tidewell double-billed me",
])
def test_complaints_about_codes_or_sums_are_not_spam(text: str) -> None:
    assert spam_kind(text) is None


@pytest.mark.parametrize("text", [
    "I make $7OO/day as a tidewell delivery partner",
    "I m\u200bake $700/day as a tidewell delivery partner",
    "I make \uff04700/day as a tidewell delivery partner",
    "I make 700$/day with tidewell",
    "I earn \u20ac500 a day with tidewell",
    "I make $700 daily delivering tidewell",
    "Earn $500 fast with tidewell, DM me",
    "Use my c\u200bode TIDE20 for 20% off",
    "\U0001d414\U0001d42c\U0001d41e \U0001d426\U0001d432 \U0001d41c\U0001d428\U0001d41d\U0001d41e TIDE20 for 20% off",
])
def test_disguised_spam_is_still_recognised(text: str) -> None:
    assert spam_kind(text) is not None


def test_one_star_review_about_a_rejected_promo_code_alerts() -> None:
    text = "Tried to use code SAVE20 at checkout, rejected. Worst app."
    decision = decide(scores(0.2), text=text, rating=1, negative_threshold=0.5, alert_threshold=0.8)
    assert (decision.alert, decision.reason) == (True, RATING_LOW)


def test_imported_brand_names_are_matched_whatever_their_case_or_spacing(store, settings, lexicon,
                                                                        tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "id,created_at,brand,text\n"
        "1,2026-11-20T10:00:00Z,tidewell,Tidewell lid leaks all over my bag. Terrible and awful.\n"
        "2,2026-11-20T10:01:00Z, TIDEWELL ,Tidewell lid leaks again all over my bag. Terrible and awful!\n",
        encoding="utf-8",
    )
    run_collector(store, settings, FileCollector(settings, path), kind="import", classifier=lexicon)
    assert {r.external_id for r in store.list_alerts(limit=10)} == {"1", "2"}
    flagged = FileCollector(settings, path, brand="tidewell ")
    assert {m.brand for batch in flagged.fetch(None, None, Window())
            for m in batch.mentions} == {"Tidewell"}


@pytest.mark.parametrize("value, stars", [(2.5, 3), (2.9, 3), (2.4, 2), (4.5, 5), ("1.0", 1), (5, 5)])
def test_half_star_ratings_round_to_the_nearest_star(value, stars) -> None:
    from monitor.core.values import parse_rating

    assert parse_rating(value) == stars


@pytest.mark.parametrize("brand, why", [
    ('queries = ["tidewell"]\nexclude = ["hiring", ""]', "exclude[1]: an exclusion cannot be empty"),
    ('queries = ["tidewell -\\"\\""]', "queries[0]"),
    ('queries = ["(tidewell"]', "queries[0]"),
])
def test_settings_that_would_silence_or_stop_every_match_are_refused(runner, write_settings, brand: str,
                                                                       why: str) -> None:
    path = write_settings(f'[classifier]\nmodel = "lexicon"\n[[brands]]\nname = "Tidewell"\n{brand}\n')
    result = runner.invoke(cli, ["--config", str(path), "config", "check"])
    assert result.exit_code == 2 and why in result.output, result.output


def test_classify_decides_as_the_pipeline_on_languages_the_model_cannot_read(runner, write_settings,
                                                                           tmp_path: Path) -> None:
    settings = write_settings('[classifier]\nmodel = "lexicon"\n')
    german = "Die App ist schrecklich, furchtbar, ich hasse sie. Der Kundendienst ist eine Katastrophe, nie wieder."
    data = tmp_path / "rows.jsonl"
    data.write_text(json.dumps({"id": "de", "text": german}) + "\n"
                    + json.dumps({"id": "de-1", "text": german, "rating": 1}) + "\n"
                    + json.dumps({"id": "en", "text": "Terrible, awful, the worst. I hate it.", "language": "en"})
                    + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(settings), "classify", str(data)])
    assert result.exit_code == 0, result.output
    out = {row["id"]: row for row in map(json.loads, [line for line in result.stdout.splitlines() if line])}
    assert (out["de"]["label"], out["de"]["alert"], out["de"]["scores"]) == ("unscored", False, None)
    assert (out["de-1"]["label"], out["de-1"]["alert"]) == ("negative", True)
    assert (out["en"]["label"], out["en"]["alert"]) == ("negative", True)


def test_a_complaint_under_the_brands_own_giveaway_post_is_not_spam(store, settings, lexicon) -> None:
    comment = Mention(source="youtube", external_id="c1", created_at=utcnow(), brand="Tidewell", kind="comment",
                      text="Tidewell never shipped my prize, terrible awful service, I hate it",
                      title="GIVEAWAY! Follow and retweet to win a Tidewell bottle #ad")
    spam = Mention(source="youtube", external_id="c2", created_at=utcnow(), brand="Tidewell", kind="comment",
                   text="I make $700/day from home, terrible awful boss though", title="Our new bottle")
    result = ingest(store, settings, [comment, spam], lexicon)
    assert (result.alerts, result.spam) == (1, 1)
    assert {r.external_id for r in store.list_alerts(limit=10)} == {"c1"}


def test_eval_names_rows_skipped_for_their_rating(runner, write_settings, tmp_path: Path) -> None:
    settings = write_settings('[classifier]\nmodel = "lexicon"\n')
    data = tmp_path / "labeled.csv"
    data.write_text('text,label,rating\n"Terrible, I hate it",negative,\n"fine",neutral,5/5\n"ok",neutral,\n',
                    encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(settings), "eval", str(data)])
    assert result.exit_code == 0, result.output
    assert "1 rows with a rating that is not 1 to 5 stars (lines 3)" in result.output
    assert "without text or a label" not in result.output


def test_a_burst_of_low_confidence_negatives_still_raises_a_spike(store, make_settings, lexicon) -> None:
    settings = make_settings(SETTINGS.replace("alert_threshold = 0.8", "alert_threshold = 0.99")
                             + '\n[alerts]\nspike_min_history = "0s"\n')
    store.start_run("x", "collect")
    posts = [Mention(source="x", external_id=f"b{i}", brand="Tidewell", created_at=utcnow() - timedelta(minutes=i + 1),
                     text=f"tidewell outage {i}, this is bad and annoying") for i in range(8)]
    result = ingest(store, settings, posts, lexicon)
    assert result.worth_a_look == 8
    assert sorted(r.kind for r in store.list_alerts(limit=10)) == ["notice", "spike"]


def test_rated_spam_is_counted_as_spam_whatever_the_stars() -> None:
    text = "Use my code TIDE20 for 20% off your bottle!"
    for rating, label in ((1, "negative"), (3, "neutral"), (5, "positive")):
        decision = decide(scores(0.1), text=text, rating=rating, negative_threshold=0.5, alert_threshold=0.8)
        assert (decision.label, decision.alert, decision.reason) == (label, False, SPAM)


def test_import_refuses_a_brand_that_is_not_configured(runner, write_settings, tmp_path: Path) -> None:
    settings = write_settings(SETTINGS.replace("[classifier]\n", '[classifier]\nmodel = "lexicon"\n'))
    data = tmp_path / "rows.csv"
    data.write_text("id,created_at,text\n1,2026-11-20T10:00:00Z,my bottle leaks\n", encoding="utf-8")
    typo = runner.invoke(cli, ["--config", str(settings), "--db", str(tmp_path / "lp.db"), "import", str(data),
                               "--brand", "Tidwell"])
    assert typo.exit_code == 2 and "'Tidwell' is not a brand" in typo.output, typo.output
    assert not (tmp_path / "lp.db").exists()  # refused before anything was stored
    fine = runner.invoke(cli, ["--config", str(settings), "--db", str(tmp_path / "b.db"), "import", str(data),
                               "--brand", "tidewell"])
    assert fine.exit_code == 0 and "is not a brand" not in fine.output, fine.output


def test_brand_names_match_whatever_the_unicode_form_of_their_accents(make_settings) -> None:
    import unicodedata

    settings = make_settings('[[brands]]\nname = "Café Olé"\nqueries = ["café olé"]\nhandles = ["@CaféOlé"]\n')
    for text in ("Café Olé lost my order", "@CaféOlé where is my order"):
        decomposed = unicodedata.normalize("NFD", text)
        assert attribute(settings, decomposed) == "Café Olé"
        assert about_brand(settings, mention(decomposed, brand="Café Olé"))


def test_an_import_counts_a_brands_own_post_once(runner, write_settings, tmp_path: Path) -> None:
    settings = write_settings('[classifier]\nmodel = "lexicon"\n[[brands]]\nname = "Tidewell"\nqueries = ["tidewell"]\n'
                              'ignore_authors = ["TidewellHelp"]\n')
    data = tmp_path / "rows.csv"
    day = "2026-11-20T10:00:00Z"
    data.write_text(f"id,created_at,author,text\n1,{day},TidewellHelp,Sorry to hear that! DM us your order number.\n"
                    f"2,{day},sam,this random bottle leaks\n3,{day},kim,Tidewell lid leaks all over my bag\n",
                    encoding="utf-8")
    result = runner.invoke(cli, ["--config", str(settings), "--db", str(tmp_path / "lp.db"), "import", str(data)])
    assert result.exit_code == 0, result.output
    assert "1 matched no brand, 1 skipped as posted by the brand's own accounts" in result.output


@pytest.mark.parametrize("text", [
    "Got food poisoning after the Tidewell shrimp kit",
    "Tidewell sent me a box with peanuts after I set a nut allergy",
    "How do I check if my Tidewell unit is affected by the recall??",
    "my tidewell charger caught fire on the counter this morning",
    "the tidewell steam wand burned my hand",
    "Considering a lawsuit against Tidewell after they lost my passport",
    "my tidewell account was hacked and someone ordered 3 bottles",
    "my tidewell power bank started smoking in my bag",
    "the tidewell battery is swelling up, the case is bulging. Is it safe to use?",
    "tidewell charger sparked when I plugged it in",
    "Tidewell recall notice: what's the process for the refund?",
    "small burn on my hand from the tidewell kettle, what should I do?",
    "kid got a shock from the tidewell lamp",
    "My tidewell caught on fire overnight",
    "the tidewell heater set my desk on fire",
    "I'm going to sue tidewell",
    "Contacting my solicitor about tidewell tomorrow",
    "my son choked on the tidewell toy lid",
    "got food poisoning from the tidewell meal kit, threw up all night",
    "someone logged into my tidewell account and my password was leaked",
    # written any which way: spacing, look-alike letters, a typo of a space
    "Tidewell charger caught  fire",
    "tidewell charger caught\u00a0fire last night",
    "my tidewell charger caught f\u0456re",  # Cyrillic i
    "Tidewell power bank over heats like crazy",
    # a denial earlier in another sentence is no denial; a warning to others is a report
    "Never again. My tidewell charger caught fire in my kid's room",
    "No joke, the tidewell power bank exploded on my desk",
    "Unplug your tidewell now, mine caught fire!",
    "My tidewell power bank is swollen but it works",
    # food
    "found glass in the tidewell pesto jar, kids were about to eat it",
    "metal wire in my tidewell beef",
    "Love it! Though the tidewell chicken made my whole family sick.",
    "Reporting tidewell to the BBB and the attorney general",
    # spam-like words in a real report do not silence it
    "I work from home and my tidewell charger caught fire last night and burned my hand",
])
def test_safety_and_legal_reports_are_alerted_however_calm_they_read(text: str) -> None:
    calm = decide(scores(0.1), text=text, rating=None, negative_threshold=0.5, alert_threshold=0.8)
    assert (calm.alert, calm.reason) == (True, SAFETY)
    # whatever the stars say: a burn at 4 stars still needs a person
    rated = decide(scores(0.1), text=text, rating=4, negative_threshold=0.5, alert_threshold=0.8)
    assert (rated.label, rated.alert, rated.reason) == ("positive", True, SAFETY)


@pytest.mark.parametrize("text", [
    "I don't recall ordering this tidewell bottle",
    "to add insult to injury, tidewell lost my bag",
    "that tidewell ad hurt my feelings lol",
    "Sue from tidewell support was great",
    "If you're getting an overheating warning on your tidewell charger, try a different outlet first, worked for me",
])
def test_idioms_are_not_safety_reports(text: str) -> None:
    assert decide(scores(0.1), text=text, rating=None, negative_threshold=0.5, alert_threshold=0.8).reason != SAFETY


def test_a_safety_report_is_alerted_whatever_its_tone_or_stars() -> None:
    happy = Scores(0.02, 0.08, 0.9)
    for text, rating in (("Love it! Though the tidewell charger overheated and burned my hand", 5),
                         ("Great product, 5 stars, but my tidewell caught fire on day two", 5),
                         ("Works well. Is my tidewell unit affected by the recall?", 4)):
        decision = decide(happy, text=text, rating=rating, negative_threshold=0.5, alert_threshold=0.8)
        assert (decision.label, decision.alert, decision.reason) == ("positive", True, SAFETY), text


@pytest.mark.parametrize("text", [
    "my tidewell charger never overheats, even in summer",
    "Not a fire hazard at all, tidewell did their homework",
    "tidewell bottles have never been recalled",
    "Does the tidewell power bank have overheating protection?",
    "tidewell's new ad campaign is exploding on TikTok",
    "My brother is a lawyer and he swears by tidewell",
    "Haven't had a single issue with overheating on my tidewell",
    "tidewell has overheat and surge protection",
    "tidewell made me sick with laughter",
    "my heart melted when tidewell sent a handwritten note",
    "Watching a movie with a huge explosion, my tidewell charger kept the laptop alive. Love it!",
    "Huge thanks to tidewell, I am suing nobody this year",
    "tidewell has scorching hot Black Friday deals",
])
def test_a_denied_or_unrelated_safety_word_is_no_report(text: str) -> None:
    decision = decide(scores(0.1), text=text, rating=None, negative_threshold=0.5, alert_threshold=0.8)
    assert decision.reason != SAFETY


def test_a_safety_alert_says_why_it_was_sent(store, settings, lexicon) -> None:
    from alerts.outbox.dispatch import build_message

    ingest(store, settings, [mention("Is my Tidewell bottle part of the recall?", eid="r1")],
           lexicon)
    (row,) = store.list_alerts(limit=10)
    message = build_message(store, settings, row)
    assert "safety or legal" in message.facts("kim on X")
    assert not any("negative" in part for part in message.facts("kim on X"))
    assert message.headline == "Safety or legal report about Tidewell on X"
    # a calm safety report is listed among the alerted and the unanswered, whatever its label
    assert store.latest_label("x", "r1")[0] != "negative"  # type: ignore[index]
    assert [m.external_id for m in store.list_mentions(reason="alerted")] == ["r1"]
    assert [m.external_id for m in store.unanswered_negatives(utcnow() - timedelta(days=1), per_brand=5)] == ["r1"]

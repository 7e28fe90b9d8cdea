"""The one pipeline: import with broken lines, idempotent re-runs, routing, ignore-lists, languages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.file import FileCollector
from monitor.app.pipeline import run_collector
from monitor.store import Store

pytestmark = pytest.mark.both_backends

SETTINGS = """
[[brands]]
name = "Acme"
queries = ["acme"]
ignore_authors = ["AcmeSupport"]

[alerts.channels.file]
type = "jsonl"
options = { path = "alerts.jsonl" }

[[alerts.routes]]
channels = ["file"]
"""

CSV = """id,created_at,author,text
1,2026-11-20T10:00:00Z,ann,Acme lost my parcel and support is terrible. Worst service ever.
2,2026-11-20T10:05:00Z,bob,"Acme delivered early, love it, great job!"
3,not a date,carl,Acme is fine
4,2026-11-20T10:07:00Z,dora
5,2026-11-20T10:09:00Z,AcmeSupport,Sorry to hear that! Acme will fix it. Terrible news.
6,2026-11-20T10:10:00Z,eve,
7,1763633400,fred,"Acme charged me twice, this is a scam and I am furious"
8,2026-11-20T10:12:00Z,gil,Das Paket von Acme ist nie angekommen und der Kundendienst antwortet nicht. Furchtbar.
"""


@pytest.fixture
def settings(make_settings):
    return make_settings(SETTINGS)


def _import(store: Store, settings, path: Path, lexicon):
    collector = FileCollector(settings, path)
    return collector, run_collector(store, settings, collector, kind="import", classifier=lexicon)


def test_import_reports_broken_lines_and_keeps_the_rest(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    errors = dict(collector.report.errors)
    assert set(errors) == {4, 5, 7}  # 1-based file lines (header is line 1)
    assert "cannot read the date" in errors[4]
    assert "expected 4 columns, found 3" in errors[5]
    assert "no text" in errors[7]
    # 5 readable rows; the brand's own account is dropped before storing.
    assert report.fetched == 4 and report.new == 4
    assert store.count_mentions() == 4
    assert store.mention("file", "5") is None
    assert {r.brand for r in store.list_mentions()} == {"Acme"}


def test_running_the_same_input_twice_adds_and_alerts_nothing(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    _, first = _import(store, settings, path, lexicon)
    _, second = _import(store, settings, path, lexicon)
    assert first.negatives >= 2 and first.alerts == first.negatives
    assert (second.new, second.alerts) == (0, 0)
    assert sum(store.alert_counts().values()) == first.alerts


def test_languages_the_model_does_not_cover_are_unscored_not_alerted(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    _, report = _import(store, settings, path, lexicon)
    assert lexicon.languages is not None and "de" not in lexicon.languages
    assert report.unscored == 1
    row = store.mention("file", "8")
    assert row is not None and row.language == "de"
    [verdict] = store._rows("SELECT label, negative FROM classifications WHERE external_id = '8'")
    assert verdict == ("unscored", None)
    alerted = {r.external_id for r in store.list_alerts()}
    assert "8" not in alerted and {"1", "7"} <= alerted


def test_jsonl_import_with_column_mapping_and_stable_ids(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "reviews.jsonl"
    rows = [{"body": "Acme app crashes on every launch, useless", "when": "Fri, 20 Nov 2026 10:00:00 +0000",
             "stars": 1}, {"body": "Acme app is wonderful", "when": "2026-11-20 11:00:00", "stars": "5"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n[1, 2]\n", encoding="utf-8")
    mapping = {"text": "body", "created_at": "when", "rating": "stars"}
    collector = FileCollector(settings, path, mapping=mapping, source_name="appstore")
    report = run_collector(store, settings, collector, kind="import", classifier=lexicon)
    assert report.new == 2
    assert [line for line, _ in collector.report.errors] == [3, 4]
    stored = store.list_mentions(source="appstore")
    assert sorted(r.rating for r in stored) == [1, 5]
    assert {r.kind for r in stored} == {"review"}
    again = FileCollector(settings, path, mapping=mapping, source_name="appstore")
    assert run_collector(store, settings, again, kind="import", classifier=lexicon).new == 0


def test_unknown_mapping_field_is_a_clear_error(settings, tmp_path) -> None:
    from monitor.core.errors import InputError

    with pytest.raises(InputError, match="cannot map colour"):
        FileCollector(settings, tmp_path / "x.csv", mapping={"colour": "c"})


def test_mentions_stored_without_classifying_are_scored_and_alerted_later(store, settings, tmp_path, lexicon) -> None:
    from monitor.app.pipeline import classify_pending

    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    run_collector(store, settings, FileCollector(settings, path), kind="import", classifier=None)
    assert store.alert_counts() == {}
    assert classify_pending(store, settings, lexicon) == 4
    alerted = {r.external_id for r in store.list_alerts()}
    assert {"1", "7"} <= alerted
    assert classify_pending(store, settings, lexicon) == 0


def test_a_new_model_rescores_without_alerting_twice(store, settings, tmp_path, lexicon) -> None:
    from classifiers.lexicon import LexiconClassifier
    from monitor.app.pipeline import classify_pending

    class NextModel(LexiconClassifier):
        name = "lexicon-v2"

    path = tmp_path / "export.csv"
    path.write_text(CSV, encoding="utf-8")
    _import(store, settings, path, lexicon)
    before = sum(store.alert_counts().values())
    # A bounded share at a time (the daemon's dispatch tick), then the rest.
    assert classify_pending(store, settings, NextModel(), batch_size=2, limit=3) == 3
    assert classify_pending(store, settings, NextModel(), limit=3) == 1
    assert classify_pending(store, settings, NextModel()) == 0
    assert sum(store.alert_counts().values()) == before


def test_short_foreign_posts_are_unscored_whichever_way_they_lean(store, make_settings, tmp_path, lexicon) -> None:
    """Praise in Spanish or French is no more English than a complaint is; a brand's name does not make it so."""
    settings = make_settings('[[brands]]\nname = "FreshCrate"\nqueries = ["freshcrate"]\n\n'
                             '[[brands]]\nname = "Sunday Kitchen"\nqueries = ["sunday kitchen"]\n')
    path = tmp_path / "export.csv"
    path.write_text("id,created_at,text\n"
                    "es-,2026-11-20T10:00:00Z,FreshCrate me ha cobrado dos veces y nadie responde. Una vergüenza.\n"
                    "de-,2026-11-20T10:01:00Z,FreshCrate hat meine Lieferung wieder vergessen. Sehr enttäuschend!\n"
                    "es+,2026-11-20T10:02:00Z,\"La caja de FreshCrate llegó perfecta, me encanta…\"\n"
                    "fr+,2026-11-20T10:03:00Z,\"Livraison FreshCrate impeccable, merci beaucoup !\"\n"
                    "it-,2026-11-20T10:04:00Z,Sunday Kitchen pessimo servizio\n"
                    "en+,2026-11-20T10:05:00Z,\"Just got my FreshCrate box, everything was great!\"\n",
                    encoding="utf-8")
    _, report = _import(store, settings, path, lexicon)
    assert report.unscored == 5
    languages = {i: store.mention("file", i).language for i in ("es-", "de-", "es+", "fr+", "it-", "en+")}
    assert languages == {"es-": "es", "de-": "de", "es+": "es", "fr+": "fr", "it-": "it", "en+": "en"}
    labels = dict(store._rows("SELECT external_id, label FROM classifications"))
    assert labels == {"es-": "unscored", "de-": "unscored", "es+": "unscored", "fr+": "unscored",
                      "it-": "unscored", "en+": "positive"}

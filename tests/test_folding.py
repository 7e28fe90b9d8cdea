"""Text read as a reader sees it: look-alike letters, full-width forms and invisible characters
neither hide spam from the filter nor hide a brand's name from its queries."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import pytest

from classifiers.spam import SCANNED, spam_kind
from collectors.file import FileCollector
from monitor.app.pipeline import run_collector
from monitor.core.brands import attribute, matches, names_handle
from monitor.core.folding import _INVISIBLE, fold, readings
from monitor.core.query import parse_query

SETTINGS = """
[[brands]]
name = "Acme"
queries = ['"acme cloud"']
handles = ["@AcmeHelp"]
exclude = ["acme cloud hiring"]

[classifier]
model = "lexicon"

[alerts.channels.file]
type = "jsonl"
options = { path = "alerts.jsonl" }

[[alerts.routes]]
channels = ["file"]
"""


@pytest.fixture
def settings(make_settings):
    return make_settings(SETTINGS)


def test_every_invisible_format_character_is_dropped() -> None:
    missing = [hex(c) for c in range(sys.maxunicode + 1)
               if unicodedata.category(chr(c)) == "Cf" and not _INVISIBLE.fullmatch(chr(c))]
    assert missing == []


@pytest.mark.parametrize("text, folded", [
    ("mаkе $700/dаy", "make $700/day"),              # Cyrillic а, е
    ("Usе my соdе, lіnk іn bіо", "Use my code, link in bio"),
    ("$7ΟΟ", "$7OO"),                                  # Greek capital omicron
    ("ａｃｍｅ ｃｌｏｕｄ", "acme cloud"),              # full width
    ("m\u200bake", "make"),
    ("café", "café"),                                  # accents stay accents
    ("plain ascii", "plain ascii"),
])
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_an_invisible_character_is_read_both_as_nothing_and_as_a_space() -> None:
    assert readings("acme\u200bcloud") == ("acmecloud", "acme cloud")
    assert readings("acme cloud") == ("acme cloud",)


SPAM = [
    ("acme cloud is terrible. I mаkе $700/dаy frоm hоmе… DM mе fоr іnfо", "recruiting"),
    ("acme cloud is terrible. Usе my соdе… lіnk іn bіо", "affiliate"),
    ("acme cloud GIVEAWAY fоllоw аnd rеtwееt", "giveaway"),
    ("acme cloud is terrible. I make $7ΟΟ/day", "recruiting"),
    ("acme cloud is terrible. I make $7OO/day", "recruiting"),
    ("acme cloud is terrible. I\u200bmake\u200b$700/day", "recruiting"),
    ("acme cloud is terrible. " + "Really terrible. " * 200 + "I make $700/day from home", "recruiting"),
]


@pytest.mark.parametrize("text, kind", SPAM)
def test_disguised_spam_reads_as_the_plain_spam(text: str, kind: str) -> None:
    assert spam_kind(text) == kind


def test_spam_is_read_well_past_the_opening_and_up_to_the_bound() -> None:
    pitch = " I make $700/day from home"
    assert spam_kind("acme cloud is slow." + " " * 50_000 + pitch) == "recruiting"
    assert spam_kind("acme cloud is slow." + " " * SCANNED + pitch) is None  # documented bound


@pytest.mark.parametrize("text", [
    "аcme cloud is terrible, support never answers",         # folded, still a complaint
    "acme cloud charged me $70 a month for nothing. Terrible",
    "Мне не нравится acme cloud",                            # Russian words stay Russian
])
def test_complaints_with_look_alikes_are_not_spam(text: str) -> None:
    assert spam_kind(text) is None


@pytest.mark.parametrize("text", [
    "ａｃｍｅ ｃｌｏｕｄ is terrible",
    "acme\u200bcloud is terrible",
    "acme\u00adcloud is terrible",
    "acme-cloud is the worst",
    "acme_cloud is the worst",
    "acme.cloud is the worst",
    "аcmе clоud is the worst",   # Cyrillic а, е, о
    "ACME  Cloud is down",
])
def test_a_brand_written_with_other_characters_is_matched(settings, text: str) -> None:
    assert attribute(settings, text) == "Acme"


@pytest.mark.parametrize("text", [
    "acme. Cloud storage is terrible",   # two sentences, not the phrase
    "acmecloud is terrible",
    "acme clouds",
])
def test_near_misses_stay_unmatched(settings, text: str) -> None:
    assert attribute(settings, text) == ""


def test_handles_and_exclusions_are_read_the_same_way(settings) -> None:
    brand = settings.brands[0]
    assert names_handle(brand, "＠ＡｃｍｅＨｅｌｐ where is my refund")
    assert names_handle(brand, "@АcmeHelp where is my refund")  # Cyrillic А
    assert not matches(brand, "acme-cloud hіring now")  # the exclusion, Cyrillic і
    assert not parse_query('"acme cloud" -hiring').matches("acme cloud hir\u200bing")


def test_a_query_written_with_a_hyphen_matches_the_spaced_phrase() -> None:
    assert parse_query("acme-cloud").matches("acme cloud is down")


@pytest.mark.both_backends
def test_imported_disguised_complaints_alert_and_disguised_spam_does_not(store, settings, lexicon,
                                                                        tmp_path: Path) -> None:
    import csv

    rows = [
        ("c1", "ａｃｍｅ ｃｌｏｕｄ is terrible, awful, I hate it"),
        ("c2", "acme\u200bcloud is terrible, awful, I hate it"),
        ("c3", "acme-cloud is the worst, terrible, awful"),
        ("s1", SPAM[0][0]),
        ("s2", "acme cloud is terrible and awful. Usе my соdе… lіnk іn bіо"),
        ("s3", "acme cloud is terrible and awful. I make $7ΟΟ/day"),
    ]
    path = tmp_path / "posts.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "created_at", "text"])
        for external_id, text in rows:
            writer.writerow([external_id, "2026-11-20T10:00:00Z", text])
    run_collector(store, settings, FileCollector(settings, path), kind="import", classifier=lexicon)
    assert {m.brand for m in (store.mention("file", r[0]) for r in rows) if m} == {"Acme"}
    assert {a.external_id for a in store.list_alerts(limit=10)} == {"c1", "c2", "c3"}

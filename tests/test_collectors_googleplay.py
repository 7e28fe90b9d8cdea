"""Google Play reviews against a loopback server speaking the Play Store's batchexecute answer."""

from __future__ import annotations

import json
import ssl
import time
from pathlib import Path
from urllib.parse import unquote

from monitor.store import Store
from tests.collectorkit import FIXTURES, collect, source_settings, stored
from tests.httpfake import FakeServer, Response

PATH = "/_/PlayStoreUi/data/batchexecute"


def answer(*, token: bool = True, prefix: str = "") -> str:
    """The recorded answer with its reviews in the last hours; ``prefix`` makes ids unique."""
    text = (FIXTURES / "googleplay-reviews.txt").read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    envelope = json.loads(body)
    reviews, *rest = json.loads(envelope[0][2])
    for i, review in enumerate(reviews):
        review[0] = prefix + review[0]
        review[5][0] = int(time.time()) - 600 - 3600 * i
    envelope[0][2] = json.dumps([reviews, *rest] if token else [reviews], ensure_ascii=False)
    return f"{head}\n\n{json.dumps(envelope, ensure_ascii=False)}"


def test_reviews_page_with_the_continuation_token(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("POST", PATH, [Response(200, answer()), Response(200, answer(token=False, prefix="p2-"))])
    settings = source_settings(tmp_path, "googleplay", fake.url, 'countries = ["de"], languages = ["de"]')
    report = collect(store, settings, "googleplay")
    assert report.errors == []
    rows = stored(store, "googleplay")
    assert len(rows) == 6
    first = rows["gp:AOqpTOE1Xb7kq3Zt1YwJHcQ2rA"]
    assert (first["kind"], first["rating"], first["app_version"], first["country"]) == (
        "review", 1, "7.3.0", "DE")
    assert first["author"] == "Priya S." and "😡" in first["text"]
    assert (first["reach"], first["engagement"]) == (3, '{"helpful votes": 3}')  # thumbs up, as given
    assert rows["gp:AOqpTOE2Xb7kq3Zt1YwJHcQ2rA"]["author"] == "Jürgen Müller"
    assert rows["gp:AOqpTOE3Xb7kq3Zt1YwJHcQ2rA"]["app_version"] is None
    calls = fake.calls(PATH)
    assert len(calls) == 2
    assert calls[0].query == {"hl": ["de"], "gl": ["de"]}
    assert "com.acme.app" in unquote(calls[0].body.decode())
    assert "CpMBCo4BKmsKYyEJtoken-page-2" in unquote(calls[1].body.decode())
    # the library turns TLS checks off for urllib on import; the collector turns them back on
    assert ssl._create_default_https_context is ssl.create_default_context


def test_unreadable_answers_are_clear_errors(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    settings = source_settings(tmp_path, "googleplay", fake.url)
    cases = [
        (Response(200, "<html><body>Sorry, unusual traffic</body></html>"), "cannot read the answer"),
        (Response(200, answer()[:300]), "cannot read the answer"),
        (Response(404, "<html>Not Found</html>"), "HTTP 404"),
        (Response(200, ')]}\'\n\n[["wrb.fr","oCPfdb",null,null,null,[3],"generic"]]'), "refused the request"),
    ]
    for response, message in cases:
        fake.route("POST", PATH, response)
        report = collect(store, settings, "googleplay", sleeps=[])
        assert len(report.errors) == 1 and message in report.errors[0], report.errors
        assert report.errors[0].startswith("Acme:com.acme.app@en-us: googleplay com.acme.app (en-us): ")


def test_server_error_then_success(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("POST", PATH, [Response(500, "oops"), Response(200, answer(token=False))])
    sleeps: list[float] = []
    report = collect(store, source_settings(tmp_path, "googleplay", fake.url), "googleplay", sleeps=sleeps)
    assert report.errors == [] and report.new == 3 and sleeps == [0.01]

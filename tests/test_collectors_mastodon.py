"""Mastodon through Mastodon.py against a loopback instance (v2 search, hashtag timelines)."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import collect, fixture, source_settings, stored
from tests.httpfake import FakeServer, Request, Response

SEARCH = "/api/v2/search"
TAG = "/api/v1/timelines/tag/AcmeCloud"
BRAND = """
[[brands]]
name = "Acme"
queries = ['acme OR "acme cloud" OR #AcmeCloud']
exclude = ["hiring"]
"""


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENPOST_MASTODON_ACCESS_TOKEN", "masto-token-secret")


def shifted(statuses: list[dict[str, Any]], minutes: float = 5) -> list[dict[str, Any]]:
    """Statuses moved to the last hour, newest first, ten minutes apart."""
    out = copy.deepcopy(statuses)
    for i, status in enumerate(out):
        status["created_at"] = (utcnow() - timedelta(minutes=minutes + 10 * i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return out


def search(minutes: float = 5) -> dict[str, Any]:
    body = copy.deepcopy(fixture("mastodon-search-v2.json"))
    body["statuses"] = shifted(body["statuses"], minutes)
    return body


def settings_for(tmp_path: Path, fake: FakeServer, options: str = "") -> Any:
    return source_settings(tmp_path, "mastodon", fake.url, options, brand=BRAND)


def test_search_and_hashtag_timeline_as_text(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", SEARCH, Response(200, search()))
    fake.route("GET", TAG,
               Response(200, shifted(fixture("mastodon-timeline-hashtag.json"), 2)))
    report = collect(store, settings_for(tmp_path, fake), "mastodon")
    assert report.errors == []
    rows = stored(store, "mastodon")
    assert len(rows) == 5  # three found by search, two on the hashtag timeline
    lost = rows["https://fosstodon.org/users/rosa/statuses/113562345678901234"]
    assert lost["text"] == "Acme Cloud lost my files again. Third time this month & support is silent. #acme"
    assert (lost["author"], lost["kind"], lost["language"]) == ("rosa@fosstodon.org", "post", "en")
    assert lost["url"] == "https://fosstodon.org/@rosa/113562345678901234"
    reply = rows["https://hachyderm.io/users/jin/statuses/113561945678901234"]
    assert reply["kind"] == "comment" and reply["parent_id"] == "113562145678901234"
    warned = rows["https://tech.lgbt/users/noor/statuses/113562045678901234"]
    assert warned["title"] == "acme rant"  # a content warning is the title, and matches the query
    searches = fake.calls(SEARCH)
    assert sorted(c.query["q"][0] for c in searches) == ['"acme cloud"', "acme"]
    assert all(c.query["type"] == ["statuses"] and "resolve" not in c.query for c in searches)
    assert searches[0].headers["authorization"] == "Bearer masto-token-secret"
    assert fake.calls("/api/v1/instance") == []  # no version probe


def test_paging_with_max_id_stops_at_the_last_run(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    template = fixture("mastodon-search-v2.json")["statuses"][1]
    statuses = []
    for i in range(100):
        status = copy.deepcopy(template)
        status["id"] = str(113562145678901234 - i * 1000)
        status["uri"] = f"https://mastodon.social/users/tomasz/statuses/{status['id']}"
        status["created_at"] = (utcnow() - timedelta(minutes=1 + i * 30)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        statuses.append(status)

    def answer(request: Request) -> Response:
        max_id = int(request.query.get("max_id", ["99999999999999999999"])[0])
        return Response(200, {"accounts": [], "hashtags": [],
                              "statuses": [s for s in statuses if int(s["id"]) < max_id][:40]})

    fake.route("GET", SEARCH, answer)
    fake.route("GET", TAG, Response(200, []))
    settings = settings_for(tmp_path, fake, 'search = true, lookback = "1d"')
    report = collect(store, settings, "mastodon")
    assert report.errors == [] and report.new == 48  # a day of posts every half hour
    calls = [c for c in fake.calls(SEARCH) if c.query["q"] == ["acme"]]
    assert len(calls) == 2 and calls[1].query["max_id"] == [statuses[39]["id"]]


def test_boosts_and_empty_statuses_are_left_out(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    body = search()
    body["statuses"][0]["reblog"] = copy.deepcopy(body["statuses"][1])
    body["statuses"][2]["content"] = "<p></p>"
    fake.route("GET", SEARCH, Response(200, body))
    fake.route("GET", TAG, Response(200, []))
    report = collect(store, settings_for(tmp_path, fake), "mastodon")
    assert report.errors == [] and report.new == 1 and report.skipped == 2  # the empty one, twice searched


def test_search_can_be_turned_off_leaving_hashtags(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", TAG,
               Response(200, shifted(fixture("mastodon-timeline-hashtag.json"), 2)))
    report = collect(store, settings_for(tmp_path, fake, "search = false, local_only = true"), "mastodon")
    assert report.errors == [] and report.new == 2 and fake.calls(SEARCH) == []
    assert fake.calls(TAG)[0].query["local"] == ["1"]


@pytest.mark.parametrize(("answer", "message"), [
    (Response(401, {"error": "The access token is invalid"}), "LISTENPOST_MASTODON_ACCESS_TOKEN"),
    (Response(200, b'{"statuses": [{"id": "1'), "not valid JSON"),
    (Response(200, {"accounts": []}), "unreadable answer"),
    (Response(422, {"error": "Validation failed: q is too long"}), "q is too long"),
])
def test_errors_name_the_problem(tmp_path: Path, fake: FakeServer, store: Store, answer: Response,
                                 message: str) -> None:
    fake.route("GET", SEARCH, answer)
    fake.route("GET", TAG, Response(200, []))
    report = collect(store, settings_for(tmp_path, fake), "mastodon", sleeps=[])
    assert report.errors and message in report.errors[0], report.errors
    assert "masto-token-secret" not in report.errors[0]


def test_an_instance_that_ignores_max_id_is_not_asked_for_ever(tmp_path: Path, fake: FakeServer,
                                                               store: Store) -> None:
    """Full pages of new statuses whatever max_id says: paging stops once nothing older comes."""
    template = fixture("mastodon-search-v2.json")["statuses"][1]
    statuses = []
    for i in range(40):
        status = copy.deepcopy(template)
        status["id"] = str(113562145678901234 - i) if i != 7 else "²"  # a digit only to str.isdigit
        status["uri"] = f"https://mastodon.social/users/tomasz/statuses/{i}"
        status["created_at"] = (utcnow() - timedelta(minutes=1 + i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        statuses.append(status)
    fake.route("GET", SEARCH, Response(200, {"accounts": [], "hashtags": [], "statuses": statuses}))
    fake.route("GET", TAG, Response(200, []))
    report = collect(store, settings_for(tmp_path, fake), "mastodon")
    assert report.errors == [] and report.new == 40
    assert len([c for c in fake.calls(SEARCH) if c.query["q"] == ["acme"]]) == 2

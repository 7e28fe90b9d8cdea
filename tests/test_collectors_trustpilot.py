"""Trustpilot business unit reviews from a loopback server speaking the Business Units API's JSON."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors.base import coverage
from monitor.core.errors import ConfigError
from monitor.core.records import utcnow
from monitor.store import Store
from tests.collectorkit import collect, fixture, make, source_settings, stored
from tests.httpfake import FakeServer, Request, Response

UNIT = "4f2a9c1e0000640005123abc"
PATH = f"/v1/business-units/{UNIT}/reviews"
BRAND = f"""
[[brands]]
name = "Acme"
queries = ["acme"]
accounts = {{{{ trustpilot = ["{UNIT}"] }}}}
"""


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LISTENPOST_TRUSTPILOT_API_KEY", "tp-key-secret")


def reviews(hours_ago: float = 1, more: bool = False) -> dict[str, Any]:
    """The recorded page with its reviews moved to the last few hours, newest first."""
    body = copy.deepcopy(fixture("trustpilot-reviews.json"))
    for i, review in enumerate(body["reviews"]):
        review["createdAt"] = (utcnow() - timedelta(hours=hours_ago + i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if not more:
        body["links"] = []
    return body


def settings_for(tmp_path: Path, fake: FakeServer, options: str = "") -> Any:
    return source_settings(tmp_path, "trustpilot", fake.url + "/v1", options, brand=BRAND)


def test_reviews_keep_stars_like_store_reviews(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    fake.route("GET", PATH, Response(200, reviews()))
    report = collect(store, settings_for(tmp_path, fake), "trustpilot")
    assert report.errors == [] and report.new == 3
    rows = stored(store, "trustpilot")
    charged = rows["6747a1b2c3d4e5f60718293a"]
    assert (charged["kind"], charged["rating"], charged["brand"], charged["country"]) == ("review", 1, "Acme", "GB")
    assert charged["title"] == "Charged twice, no refund" and charged["author"] == "Hannah W"
    assert charged["url"] == "https://www.trustpilot.com/reviews/6747a1b2c3d4e5f60718293a"
    assert rows["67479fb2c3d4e5f607182938"]["language"] == "fr"
    call = fake.calls(PATH)[0]
    assert call.headers["apikey"] == "tp-key-secret" and "apikey" not in call.query
    assert call.query["orderBy"] == ["createdat.desc"] and call.query["perPage"] == ["100"]


def test_pages_until_the_last_run_and_keeps_a_cursor(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    def answer(request: Request) -> Response:
        page = int(request.query["page"][0])
        body = reviews(hours_ago=1 + 3 * (page - 1), more=page < 3)
        for review in body["reviews"]:
            review["id"] = f"{page}-{review['id']}"
        return Response(200, body)

    fake.route("GET", PATH, answer)
    settings = settings_for(tmp_path, fake)
    report = collect(store, settings, "trustpilot")
    assert report.errors == [] and report.new == 9
    assert [c.query["page"] for c in fake.calls(PATH)] == [["1"], ["2"], ["3"]]
    fake.requests.clear()
    again = collect(store, settings, "trustpilot")
    assert again.new == 0 and len(fake.calls(PATH)) == 1  # the first page reaches the last run


def test_unreadable_reviews_are_counted_not_stored(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    body = reviews()
    body["reviews"][0]["stars"] = 9
    body["reviews"][1]["createdAt"] = "yesterday"
    body["reviews"].append("not a review")
    fake.route("GET", PATH, Response(200, body))
    report = collect(store, settings_for(tmp_path, fake), "trustpilot")
    assert report.errors == [] and report.new == 1 and report.skipped == 3


@pytest.mark.parametrize(("answer", "message"), [
    (Response(401, {"fault": {"faultstring": "Invalid ApiKey", "detail": {"errorcode": "InvalidApiKey"}}}),
     "LISTENPOST_TRUSTPILOT_API_KEY"),
    (Response(404, {"message": "Not found", "errorCode": 0}), "no such business unit"),
    (Response(200, {"reviews": "none"}), "no 'reviews' list"),
    (Response(429, {"message": "Too many requests"}, {"Retry-After": "1"}), "rate limited"),
])
def test_errors_name_the_problem(tmp_path: Path, fake: FakeServer, store: Store, answer: Response,
                                 message: str) -> None:
    fake.route("GET", PATH, answer)
    report = collect(store, settings_for(tmp_path, fake), "trustpilot", sleeps=[])
    assert len(report.errors) == 1 and message in report.errors[0]
    assert "tp-key-secret" not in report.errors[0]


def test_backfill_pages_back_to_the_window(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    def answer(request: Request) -> Response:
        page = int(request.query["page"][0])
        body = reviews(hours_ago=24 * (page - 1) + 1, more=True)
        for review in body["reviews"]:
            review["id"] = f"{page}-{review['id']}"
        return Response(200, body)

    fake.route("GET", PATH, answer)
    since = utcnow() - timedelta(days=3)
    report = collect(store, settings_for(tmp_path, fake), "trustpilot", since=since, scope="bf")
    assert report.errors == [] and report.new == 9  # three days of three reviews
    state = coverage(store.cursor("trustpilot", f"Acme:{UNIT}|bf"))
    assert state["done"] and state["count"] == 9 and "gap" not in state
    assert len(fake.calls(PATH)) == 4  # the fourth page is older than the window


def test_business_unit_ids_are_required(tmp_path: Path) -> None:
    brand = '\n[[brands]]\nname = "Acme"\nqueries = ["acme"]\n'
    settings = source_settings(tmp_path, "trustpilot", "http://127.0.0.1:9", brand=brand)
    with pytest.raises(ConfigError, match=r"trustpilot: no business unit ids; .*accounts = \{ trustpilot"):
        make(settings, "trustpilot")


@pytest.mark.parametrize("unit", ["", "4f2a/../../me", "4f2a?apikey=x"])
def test_a_business_unit_id_must_be_an_id(tmp_path: Path, unit: str) -> None:
    brand = f'\n[[brands]]\nname = "Acme"\naccounts = {{{{ trustpilot = ["{unit}"] }}}}\n'
    settings = source_settings(tmp_path, "trustpilot", "http://127.0.0.1:9", brand=brand)
    with pytest.raises(ConfigError, match=r"brand 'Acme': accounts.trustpilot: .* is not an id"):
        make(settings, "trustpilot")


def test_a_review_of_the_brands_business_unit_is_about_the_brand(tmp_path: Path) -> None:
    from monitor.core.brands import about_brand
    from monitor.core.records import Mention

    brand = BRAND + '\n[[brands]]\nname = "Globex"\nqueries = ["globex"]\n'
    settings = source_settings(tmp_path, "trustpilot", "http://127.0.0.1:9", brand=brand)
    review = Mention(source="trustpilot", external_id="r1", text="Globex never did this to me.", brand="Acme",
                     created_at=utcnow(), kind="review", rating=1)
    assert about_brand(settings, review)  # a competitor named in our own review page
    post = Mention(source="mastodon", external_id="p1", text="Globex never did this to me.", brand="Acme",
                   created_at=utcnow())
    assert not about_brand(settings, post)


def test_a_review_dated_in_the_future_does_not_hide_the_next_ones(tmp_path: Path, fake: FakeServer,
                                                                  store: Store) -> None:
    """A date far in the future is stored but is no high-water mark: the next collect still sees new reviews."""
    first = reviews()
    first["reviews"][0]["createdAt"] = "2999-12-31T00:00:00Z"
    fake.route("GET", PATH, Response(200, first))
    settings = settings_for(tmp_path, fake)
    assert collect(store, settings, "trustpilot").new == 3
    later = copy.deepcopy(first)
    later["reviews"][1]["id"] = "a-review-written-after-the-first-run"
    later["reviews"][1]["createdAt"] = utcnow().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fake.routes[("GET", PATH)] = [Response(200, later)]
    report = collect(store, settings, "trustpilot")
    assert report.errors == [] and report.new == 1
    assert "a-review-written-after-the-first-run" in stored(store, "trustpilot")


def test_the_api_key_is_not_sent_on_to_another_host(tmp_path: Path, fake: FakeServer, store: Store) -> None:
    """A redirect elsewhere gets no apikey header, as requests drops Authorization on one."""
    other = FakeServer().start()
    try:
        elsewhere = other.url.replace("127.0.0.1", "localhost") + PATH
        fake.route("GET", PATH, Response(302, b"", headers={"Location": elsewhere}))
        other.route("GET", PATH, Response(200, reviews()))
        collect(store, settings_for(tmp_path, fake), "trustpilot")
        assert other.calls(PATH) and all("apikey" not in r.headers for r in other.calls(PATH))
        assert fake.calls(PATH)[0].headers["apikey"] == "tp-key-secret"
    finally:
        other.stop()


def test_a_server_that_ignores_the_page_number_is_not_read_for_ever(tmp_path: Path, fake: FakeServer,
                                                                    store: Store) -> None:
    fake.route("GET", PATH, Response(200, reviews(more=True)))
    report = collect(store, settings_for(tmp_path, fake), "trustpilot")
    assert report.errors == [] and report.new == 3
    assert len(fake.calls(PATH)) == 2

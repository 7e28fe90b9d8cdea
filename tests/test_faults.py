"""API faults across every collector and channel: 429 with and without Retry-After, 5xx, a server
slower than the timeout, truncated or wrongly shaped JSON, HTML error pages, rejected credentials.

Each fault must end in a run recorded as failed with a clear error, no cursor moved and nothing
stored past what was stored before, a bounded number of retries, and no secret in the message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from alerts.channels import build_channels
from alerts.outbox.dispatch import dispatch_due
from collectors import SOURCES
from monitor.app.pipeline import ingest
from monitor.core.config import Settings, load_settings
from monitor.core.records import Mention, utcnow
from monitor.store import Store
from tests.collectorkit import BRAND, FIXTURES, collect, fixture
from tests.fakeslack import TOKEN, FakeSlack
from tests.httpfake import FakeServer, Response
from tests.test_collectors_appstore import page_path, reviews
from tests.test_collectors_bluesky import BRAND as BLUESKY_BRAND
from tests.test_collectors_bluesky import LOGIN, SEARCH, posts
from tests.test_collectors_googleplay import PATH as PLAY_PATH
from tests.test_collectors_googleplay import answer as play_answer
from tests.test_collectors_graph import IG, PAGE, POST
from tests.test_collectors_graph import recent as graph_recent
from tests.test_collectors_hackernews import recent_hits
from tests.test_collectors_mastodon import SEARCH as MASTODON_SEARCH
from tests.test_collectors_mastodon import search as mastodon_search
from tests.test_collectors_reddit import BRAND as REDDIT_BRAND
from tests.test_collectors_reddit import TOKEN as REDDIT_TOKEN
from tests.test_collectors_reddit import listing
from tests.test_collectors_trustpilot import PATH as TRUSTPILOT_PATH
from tests.test_collectors_trustpilot import reviews as trustpilot_reviews
from tests.test_collectors_x import BRAND as X_BRAND
from tests.test_collectors_x import recent
from tests.test_collectors_youtube import THREADS, VIDEOS, threads

MAX_RETRIES = 2
SECRETS = {
    "X_BEARER_TOKEN": "bearer-canary-1", "REDDIT_CLIENT_ID": "client-canary-2",
    "REDDIT_CLIENT_SECRET": "secret-canary-3", "REDDIT_USER_AGENT": "listenpost fault tests",
    "BLUESKY_HANDLE": "acme-monitor.bsky.social", "BLUESKY_APP_PASSWORD": "app-canary-4",
    "YOUTUBE_API_KEY": "youtube-canary-5", "MASTODON_ACCESS_TOKEN": "mastodon-canary-6",
    "TRUSTPILOT_API_KEY": "trustpilot-canary-7", "FACEBOOK_PAGE_TOKEN": "facebook-canary-8",
    "INSTAGRAM_ACCESS_TOKEN": "instagram-canary-9",
}


@dataclass(frozen=True)
class Source:
    """How one source is reached on the fake: the request a fault answers and a good answer to it."""

    name: str
    method: str
    path: str
    good: Callable[[], Response]
    base: str = ""
    options: str = ""
    login: tuple[str, str, Callable[[], Response]] | None = None  # where credentials are checked
    credential: str = ""  # the variable a rejection names
    brand: str = BRAND  # brand and query the recorded payload matches
    tries: int = MAX_RETRIES + 1  # requests one failing call may make
    also: tuple[tuple[str, str, Callable[[], Response]], ...] = ()  # other requests, answered well


def _x_good() -> Response:
    body = recent()
    body["meta"].pop("next_token", None)
    return Response(200, body)


SOURCE_CASES = [
    Source("reddit", "GET", "/r/all/search/", lambda: Response(200, listing("reddit-search-listing.json")),
           login=("POST", "/api/v1/access_token", lambda: REDDIT_TOKEN), credential="LISTENPOST_REDDIT_CLIENT_SECRET",
           brand=REDDIT_BRAND, tries=3 * (MAX_RETRIES + 1)),  # prawcore retries a 5xx twice more itself
    Source("x", "GET", "/2/tweets/search/recent", _x_good, credential="LISTENPOST_X_BEARER_TOKEN", brand=X_BRAND),
    Source("bluesky", "GET", SEARCH, lambda: Response(200, posts()),
           login=("POST", LOGIN, lambda: Response(200, fixture("bluesky-create-session.json"))),
           credential="LISTENPOST_BLUESKY_APP_PASSWORD", brand=BLUESKY_BRAND),
    Source("hackernews", "GET", "/api/v1/search_by_date", lambda: Response(200, recent_hits()), base="/api/v1"),
    Source("appstore", "GET", page_path("us", 1), lambda: Response(200, reviews()), options='countries = ["us"]'),
    Source("googleplay", "POST", PLAY_PATH, lambda: Response(200, play_answer(token=False))),
    Source("youtube", "GET", THREADS, lambda: Response(200, threads()), options="search = false",
           also=(("GET", VIDEOS, lambda: Response(200, fixture("youtube-videos.json"))),),
           credential="LISTENPOST_YOUTUBE_API_KEY"),
    Source("mastodon", "GET", MASTODON_SEARCH, lambda: Response(200, mastodon_search()),
           credential="LISTENPOST_MASTODON_ACCESS_TOKEN"),
    Source("trustpilot", "GET", TRUSTPILOT_PATH, lambda: Response(200, trustpilot_reviews()), base="/v1",
           credential="LISTENPOST_TRUSTPILOT_API_KEY"),
    Source("facebook", "GET", f"/v21.0/{PAGE}/posts",
           lambda: Response(200, graph_recent("facebook-posts.json", "created_time", hours=24, step=24 * 5)),
           base="/v21.0", credential="LISTENPOST_FACEBOOK_PAGE_TOKEN", also=(
               ("GET", f"/v21.0/{POST}/comments",
                lambda: Response(200, graph_recent("facebook-comments.json", "created_time"))),
               ("GET", f"/v21.0/{PAGE}_122134567890123455/comments", lambda: Response(200, {"data": []})))),
    Source("instagram", "GET", f"/v21.0/{IG}/media",
           lambda: Response(200, graph_recent("instagram-media.json", "timestamp", hours=30, step=24 * 7)),
           base="/v21.0", credential="LISTENPOST_INSTAGRAM_ACCESS_TOKEN", also=(
               ("GET", "/v21.0/18023456789012345/comments",
                lambda: Response(200, graph_recent("instagram-comments.json", "timestamp"))),
               ("GET", f"/v21.0/{IG}/tags", lambda: Response(200, graph_recent("instagram-tags.json", "timestamp"))))),
    Source("rss", "GET", "/news.atom", lambda: Response(200, (FIXTURES / "rss-news-atom.xml").read_bytes()),
           options='feeds = ["{url}/news.atom"], lookback = "3650d"'),
]

# A cut-off feed: feedparser reads the entries before the cut, with a warning; the rest comes
# on the next run, since a feed is read whole each time (the cursor may follow an entry read
# before the cut, whose <updated> came before its <published>).
READ_WHAT_CAN_BE_READ = {("rss", "truncated")}
HTML_PAGE = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


def _truncated(good: Response) -> Response:
    body, _ = good.encoded()
    return Response(200, body[: len(body) // 2], {"Content-Type": "application/json"})


FAULTS: dict[str, Callable[[Response], Response]] = {
    "429 with Retry-After": lambda good: Response(429, {"error": "rate limited"}, {"Retry-After": "2"}),
    "429 without Retry-After": lambda good: Response(429, {"error": "rate limited"}),
    "500": lambda good: Response(500, {"error": "internal"}),
    "502 HTML page": lambda good: Response(502, HTML_PAGE),
    "503": lambda good: Response(503, "Service Unavailable"),
    "slower than the timeout": lambda good: Response(good.status, good.body, good.headers, delay=1.6),
    "truncated": _truncated,
    "wrong shape": lambda good: Response(200, {"unexpected": [1, 2, 3], "data": "nope"}),
    "HTML page with 200": lambda good: Response(200, HTML_PAGE),
    "rejected credentials": lambda good: Response(401, {"error": "invalid_token", "message": "Unauthorized"}),
}


def source_settings(tmp_path: Path, case: Source, url: str) -> Settings:
    options = ", ".join(o for o in ("min_interval = 0", "backoff = 0.01", case.options.format(url=url)) if o)
    path = tmp_path / f"{case.name}.toml"
    path.write_text(case.brand.format() + f"""
[sources.{case.name}]
enabled = true
base_url = "{url}{case.base}"
timeout = "0.3s"
max_retries = {MAX_RETRIES}
options = {{ {options} }}
""", encoding="utf-8")
    return load_settings(path, environ={})


def _state(store: Store, source: str) -> tuple[int, list[tuple[str, str]]]:
    count = store.conn.execute("SELECT count(*) FROM mentions WHERE source = ?", [source]).fetchone()[0]
    cursors = store.conn.execute(
        "SELECT query, value FROM cursors WHERE source = ? ORDER BY query", [source]).fetchall()
    return count, cursors


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(f"LISTENPOST_{name}", value)


@pytest.mark.usefixtures("secrets")
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("case", SOURCE_CASES, ids=lambda c: c.name)
def test_source_fault_fails_the_run_and_moves_no_cursor(
    tmp_path: Path, fake: FakeServer, store: Store, case: Source, fault: str, caplog: pytest.LogCaptureFixture,
) -> None:
    assert case.name in SOURCES
    settings = source_settings(tmp_path, case, fake.url)
    if case.login:
        fake.route(case.login[0], case.login[1], case.login[2]())
    for method, path, answer in case.also:
        fake.route(method, path, answer())
    fake.route(case.method, case.path, case.good())
    first = collect(store, settings, case.name, sleeps=[])
    assert first.errors == [] and first.new > 0, first
    before = _state(store, case.name)

    bad = FAULTS[fault](case.good())
    target = (case.method, case.path)
    if fault == "rejected credentials" and case.login:
        target = (case.login[0], case.login[1])
    fake.route(*target, bad)
    calls_before = len(fake.calls(target[1]))
    sleeps: list[float] = []
    report = collect(store, settings, case.name, sleeps=sleeps)

    if (case.name, fault) in READ_WHAT_CAN_BE_READ:
        assert not report.errors and "malformed" in caplog.text
    else:
        assert report.errors, f"{case.name} took {fault!r} for a good answer"
    run = store.conn.execute(
        "SELECT error, finished_at FROM runs WHERE source = ? ORDER BY id DESC LIMIT 1", [case.name]).fetchone()
    assert run[1] and (run[0] or (case.name, fault) in READ_WHAT_CAN_BE_READ), "the run is recorded, as failed"
    if (case.name, fault) in READ_WHAT_CAN_BE_READ:
        assert _state(store, case.name)[0] == before[0]
    else:
        assert _state(store, case.name) == before  # nothing new stored, no cursor moved
    assert len(fake.calls(target[1])) - calls_before <= case.tries
    assert len(sleeps) < case.tries and all(0 <= s <= 60 for s in sleeps)
    message = "; ".join(report.errors)
    assert "Traceback" not in message and not any(v in message for v in SECRETS.values())
    if fault == "rejected credentials" and case.credential:
        assert case.credential in message


@pytest.mark.usefixtures("secrets")
def test_a_failing_source_does_not_stop_the_others(tmp_path: Path, fake: FakeServer) -> None:
    """`listenpost collect` with every source enabled: each fails differently but one, which stores."""
    from click.testing import CliRunner

    from monitor.cli import cli

    body = f'database = "{tmp_path / "lp.db"}"\n[classifier]\nmodel = "lexicon"\n' + BRAND.format()
    faults = {"reddit": "429 with Retry-After", "x": "wrong shape", "bluesky": "500", "appstore": "502 HTML page",
              "googleplay": "truncated", "rss": "rejected credentials", "youtube": "HTML page with 200",
              "mastodon": "503", "trustpilot": "429 without Retry-After", "facebook": "wrong shape",
              "instagram": "slower than the timeout"}
    for case in SOURCE_CASES:
        options = ", ".join(o for o in ("min_interval = 0", "backoff = 0.01", case.options.format(url=fake.url)) if o)
        body += (f'[sources.{case.name}]\nenabled = true\nbase_url = "{fake.url}{case.base}"\ntimeout = "0.3s"\n'
                 f"max_retries = {MAX_RETRIES}\noptions = {{ {options} }}\n")
        if case.login:
            fake.route(case.login[0], case.login[1], case.login[2]())
        for method, path, answer in case.also:
            fake.route(method, path, answer())
        good = case.good()
        fake.route(case.method, case.path, FAULTS[faults[case.name]](good) if case.name in faults else good)
    (tmp_path / "settings.toml").write_text(body, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "settings.toml"), "collect"])

    assert result.exit_code == 1, result.output
    lines = {line.split(":")[0]: line for line in result.output.splitlines()}
    for name in faults:
        assert lines[name].startswith(f"{name}: fetched 0, new 0") and "errors:" in lines[name]
    assert "errors" not in lines["hackernews"]
    assert not any(v in result.output for v in SECRETS.values())
    with Store(tmp_path / "lp.db") as store:
        failed = {r.source for r in store.last_runs() if r.last_error}
        stored = {r[0] for r in store.conn.execute("SELECT DISTINCT source FROM mentions")}
    assert failed == set(faults) and stored == {"hackernews"}


# -- channels ---------------------------------------------------------------------------------

CHANNEL_FAULTS: dict[str, tuple[Response, bool]] = {  # answer, whether the alert stays queued
    "429 with Retry-After": (Response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "90"}), True),
    "429 without Retry-After": (Response(429, {"ok": False, "error": "ratelimited"}), True),
    "500": (Response(500, {"ok": False, "error": "internal_error"}), True),
    "502 HTML page": (Response(502, HTML_PAGE), True),
    "503": (Response(503, "Service Unavailable"), True),
    "slower than the timeout": (Response(200, {"ok": True, "ts": "1.1"}, delay=2.5), True),
    "truncated": (Response(200, b'{"ok": true, "ts": "17', {"Content-Type": "application/json"}), True),
    "HTML page with 200": (Response(200, HTML_PAGE), True),
    "rejected credentials": (Response(200, {"ok": False, "error": "invalid_auth"}), False),
}


@dataclass
class ChannelCase:
    type: str
    path: str
    options: str
    env: dict[str, str] = field(default_factory=dict)


def channel_cases(url: str) -> list[ChannelCase]:
    return [
        ChannelCase("slack", "/api/chat.postMessage", f'channel = "C0ALERTS", base_url = "{url}/api/", timeout = 1',
                    {"LISTENPOST_SLACK_BOT_TOKEN": TOKEN}),
        ChannelCase("slack_webhook", "/hooks/T0/B0/canary", "timeout = 1",
                    {"LISTENPOST_SLACK_WEBHOOK_URL": f"{url}/hooks/T0/B0/canary"}),
    ]


# An incoming webhook's only answer is its status: a 200 is delivered, whatever the body says.
CHANNEL_MATRIX = [(kind, fault) for kind in ("slack", "slack_webhook") for fault in CHANNEL_FAULTS
                  if kind == "slack" or fault not in ("truncated", "HTML page with 200")]


@pytest.mark.parametrize(("kind", "fault"), CHANNEL_MATRIX)
def test_channel_fault_keeps_the_alert_and_retries_with_bounded_backoff(
    make_settings: Callable[..., Settings], fake: FakeServer, store: Store, monkeypatch: pytest.MonkeyPatch,
    kind: str, fault: str,
) -> None:
    case = next(c for c in channel_cases(fake.url) if c.type == kind)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    FakeSlack(fake).install()
    answer, queued = CHANNEL_FAULTS[fault]
    if kind == "slack_webhook" and fault == "rejected credentials":
        answer, queued = Response(403, "invalid_token"), False  # what a revoked webhook URL gets
    fake.route("POST", case.path, answer)
    settings = make_settings(f"""
[[brands]]
name = "Acme"
[alerts]
max_attempts = 3
[alerts.channels.team]
type = "{kind}"
options = {{ {case.options} }}
[[alerts.routes]]
channels = ["team"]
""")
    from classifiers import load_classifier

    mention = Mention(source="reddit", external_id="t3_1", brand="Acme", author="u", created_at=utcnow(),
                      text="Acme lost my parcel, terrible and useless support, I am furious.")
    assert ingest(store, settings, [mention], load_classifier("lexicon")).alerts == 1
    channels = build_channels(settings, skip_broken=False)

    report = dispatch_due(store, settings, channels)
    row = store.list_alerts()[0]
    assert report.sent == 0 and row.last_error
    assert not any(v in row.last_error for v in case.env.values())
    if not queued:
        assert (row.status, report.failed) == ("failed", 1)  # no point retrying: told, not lost
        return
    assert (row.status, report.retried) == ("pending", 1)
    # Retries are bounded: due again and failing, the row ends 'failed' after max_attempts, kept for a requeue.
    for _ in range(5):
        store.conn.execute("UPDATE alerts SET next_attempt_at = ?", ["2000-01-01T00:00:00.000Z"])
        dispatch_due(store, settings, channels, lease=0)
    row = store.list_alerts()[0]
    assert (row.status, row.attempts) == ("failed", 3)
    assert len(fake.calls(case.path)) == 3

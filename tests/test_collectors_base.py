"""The shared collector parts: wait headers, query rendering, options, credentials, dead servers."""

from __future__ import annotations

import email.utils
import socket
import time
from pathlib import Path

import pytest

from collectors.parsing import render_query
from monitor.core.errors import ConfigError, MissingCredential
from monitor.core.query import parse_query
from monitor.core.retry import server_wait
from monitor.store import Store
from tests.collectorkit import collect, make, source_settings


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Retry-After": "30"}, 30.0),
    ({"retry-after": "{date+120}"}, 120.0),
    ({"x-rate-limit-reset": "{epoch+300}", "x-rate-limit-remaining": "0"}, 300.0),  # X
    ({"ratelimit-reset": "{epoch+60}"}, 60.0),  # Bluesky
    ({"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "42"}, 42.0),  # Reddit: seconds left
    ({"X-Ratelimit-Remaining": "57", "X-Ratelimit-Reset": "42"}, None),  # budget left: no wait
    ({"Retry-After": "soon"}, None),
    ({}, None),
])
def test_server_wait_reads_each_apis_headers(headers: dict[str, str], expected: float | None) -> None:
    now = time.time()
    filled = {k: v.replace("{date+120}", email.utils.formatdate(now + 120, usegmt=True))
              .replace("{epoch+300}", str(int(now) + 300)).replace("{epoch+60}", str(int(now) + 60))
              for k, v in headers.items()}
    wait = server_wait(filled)
    if expected is None:
        assert wait is None
    else:
        assert wait == pytest.approx(expected, abs=2)


@pytest.mark.parametrize(("query", "exclude", "x", "lucene"), [
    ("acme", [], "acme", "acme"),
    ('"acme cloud" OR acmecloud', [], '"acme cloud" OR acmecloud', '"acme cloud" OR acmecloud'),
    ("acme -hiring", ["jobs"], "(acme -hiring) -jobs", "(acme AND NOT hiring) AND NOT jobs"),
    ("(acme OR acmeco) outage", [], "(acme OR acmeco) outage", "(acme OR acmeco) AND outage"),
    ("#acme OR @acme", [], "#acme OR @acme", "#acme OR @acme"),
])
def test_queries_render_in_each_search_syntax(query: str, exclude: list[str], x: str, lucene: str) -> None:
    parsed = parse_query(query, exclude)
    assert render_query(parsed) == x
    assert render_query(parsed, and_op=" AND ", not_prefix="NOT ") == lucene


@pytest.mark.parametrize(("options", "message"), [
    ('colour = "red"', "sources.hackernews.options.colour: unknown option"),
    ('tags = "story"', "sources.hackernews.options.tags: expected a list of strings"),
    ('lookback = "forever"', "sources.hackernews.options.lookback: expected a duration"),
])
def test_bad_options_name_the_key(tmp_path: Path, options: str, message: str) -> None:
    settings = source_settings(tmp_path, "hackernews", "http://127.0.0.1:9", options)
    with pytest.raises(ConfigError, match=message):
        make(settings, "hackernews")


@pytest.mark.parametrize(("source", "variable"), [
    ("x", "LISTENPOST_X_BEARER_TOKEN"),
    ("reddit", "LISTENPOST_REDDIT_CLIENT_ID"),
    ("bluesky", "LISTENPOST_BLUESKY_HANDLE"),
])
def test_missing_credentials_name_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               source: str, variable: str) -> None:
    for name in ("X_BEARER_TOKEN", "REDDIT_CLIENT_ID", "BLUESKY_HANDLE"):
        monkeypatch.delenv(f"LISTENPOST_{name}", raising=False)
    settings = source_settings(tmp_path, source, "http://127.0.0.1:9")
    with pytest.raises(MissingCredential, match=variable):
        make(settings, source)


def test_a_server_that_does_not_answer_is_a_clear_error(tmp_path: Path, store: Store) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = source_settings(tmp_path, "hackernews", f"http://127.0.0.1:{port}")
    sleeps: list[float] = []
    report = collect(store, settings, "hackernews", sleeps=sleeps)
    assert report.errors and "no answer from 127.0.0.1" in report.errors[0]
    assert "after 3 tries" in report.errors[0]
    assert sleeps == [0.01, 0.02]


def test_plain_text_drops_script_style_and_comments_and_stays_linear() -> None:
    import time

    from collectors.parsing import plain_text

    assert plain_text("<script>alert(1)</script>Acme down") == "Acme down"
    assert plain_text("a<STYLE>p{}</style >b<!-- note -->c") == "a b c"
    assert plain_text("<script>never closed acme") == "never closed acme"  # nothing lost after it
    started = time.monotonic()
    plain_text("<" * 200_000)
    plain_text("<a " * 100_000)
    plain_text("<script>" * 20_000 + "</script>" + "<script>" * 20_000)
    assert time.monotonic() - started < 2

"""YouTube, Mastodon, Trustpilot, Facebook and Instagram through `collect`, `backfill`, `sources` and
`config check`, each against a loopback server speaking its API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from tests.collectorkit import BRAND, fixture
from tests.httpfake import FakeServer, Response
from tests.test_collectors_graph import IG, PAGE, POST
from tests.test_collectors_graph import recent as graph_recent
from tests.test_collectors_mastodon import SEARCH, search
from tests.test_collectors_trustpilot import PATH as TRUSTPILOT
from tests.test_collectors_trustpilot import reviews
from tests.test_collectors_youtube import THREADS, VIDEOS, threads

TOKENS = {"youtube": "YOUTUBE_API_KEY", "mastodon": "MASTODON_ACCESS_TOKEN", "trustpilot": "TRUSTPILOT_API_KEY",
          "facebook": "FACEBOOK_PAGE_TOKEN", "instagram": "INSTAGRAM_ACCESS_TOKEN"}
BASES = {"trustpilot": "/v1", "facebook": "/v21.0", "instagram": "/v21.0"}


def routes(fake: FakeServer, source: str) -> None:
    if source == "youtube":
        fake.route("GET", THREADS, Response(200, threads()))
        fake.route("GET", VIDEOS, Response(200, fixture("youtube-videos.json")))
    elif source == "mastodon":
        fake.route("GET", SEARCH, Response(200, search()))
    elif source == "trustpilot":
        fake.route("GET", TRUSTPILOT, Response(200, reviews()))
    elif source == "facebook":
        fake.route("GET", f"/v21.0/{PAGE}/posts", Response(200, graph_recent(
            "facebook-posts.json", "created_time", hours=24, step=24 * 5)))
        fake.route("GET", f"/v21.0/{POST}/comments", Response(200, graph_recent("facebook-comments.json",
                                                                                 "created_time")))
        fake.route("GET", f"/v21.0/{PAGE}_122134567890123455/comments", Response(200, {"data": []}))
    else:
        fake.route("GET", f"/v21.0/{IG}/media", Response(200, graph_recent(
            "instagram-media.json", "timestamp", hours=30, step=24 * 7)))
        fake.route("GET", "/v21.0/18023456789012345/comments", Response(200, graph_recent(
            "instagram-comments.json", "timestamp")))
        fake.route("GET", f"/v21.0/{IG}/tags", Response(200, graph_recent("instagram-tags.json", "timestamp")))


def write(folder: Path, fake: FakeServer, sources: list[str], brand: str = BRAND) -> None:
    body = 'database = "lp.db"\n[classifier]\nmodel = "lexicon"\n' + brand.format()
    for name in sources:
        search_off = ", search = false" if name == "youtube" else ""
        body += (f'[sources.{name}]\nenabled = true\ninterval = "1h"\nbase_url = "{fake.url}{BASES.get(name, "")}"\n'
                 f"options = {{ min_interval = 0, backoff = 0.01{search_off} }}\n")
    (folder / "settings.toml").write_text(body, encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for variable in TOKENS.values():
        monkeypatch.delenv(f"LISTENPOST_{variable}", raising=False)
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.mark.parametrize(("source", "count"), [("youtube", 3), ("mastodon", 3), ("trustpilot", 3),
                                               ("facebook", 2), ("instagram", 3)])
def test_each_source_through_collect_and_backfill(project: Path, fake: FakeServer, source: str,
                                                  count: int) -> None:
    routes(fake, source)
    write(project, fake, [source])
    env = {f"LISTENPOST_{TOKENS[source]}": "t0ken-secret"}
    result = run("collect", source, env=env)
    assert f"{source}: fetched {count}, new {count}" in result.output, result.output
    result = run("backfill", source, "--since", "2026-01-01", "--no-classify", env=env)
    assert result.exit_code == 0, result.output
    assert f"{source}: fetched {count}, new 0" in result.output
    assert f": {count} mentions, " in result.output.split("Coverage:")[1]
    assert "t0ken-secret" not in result.output


def test_a_source_without_its_token_is_skipped_and_the_others_run(project: Path, fake: FakeServer) -> None:
    routes(fake, "trustpilot")
    write(project, fake, ["trustpilot", "youtube", "instagram"])
    result = run("collect", env={"LISTENPOST_TRUSTPILOT_API_KEY": "k", "LISTENPOST_YOUTUBE_API_KEY": " "})
    assert "trustpilot: fetched 3, new 3" in result.output
    assert "youtube: skipped: youtube source: environment variable LISTENPOST_YOUTUBE_API_KEY is not set" \
        in result.output
    assert "LISTENPOST_INSTAGRAM_ACCESS_TOKEN is not set" in result.output
    # status is a health check: a source skipped for a missing token is not healthy, and says why
    status = run("status", env={"LISTENPOST_TRUSTPILOT_API_KEY": "k"})
    assert status.exit_code == 1, status.output
    assert "LISTENPOST_YOUTUBE_API_KEY is not set" in status.output and "Healthy" not in status.output


def test_sources_shows_tokens_and_the_youtube_quota(project: Path, fake: FakeServer) -> None:
    write(project, fake, list(TOKENS))
    result = run("sources", env={"LISTENPOST_YOUTUBE_API_KEY": "k"})
    lines = result.output.splitlines()
    assert any(line.startswith("youtube     enabled   credentials present") for line in lines)
    assert any(line.startswith("facebook") and "missing LISTENPOST_FACEBOOK_PAGE_TOKEN" in line for line in lines)
    # Wrapped to the terminal: compare the words, not the line breaks.
    assert "quota: up to about 48 units a day of 10000 budgeted (1 channel at ~2 units a run; 0 searches" \
        in " ".join(result.output.split())


def test_sources_gives_no_quota_for_a_disabled_youtube(project: Path, fake: FakeServer) -> None:
    write(project, fake, ["trustpilot"])
    result = run("sources")
    assert any(line.startswith("youtube     disabled") for line in result.output.splitlines())
    assert "quota" not in result.output


def test_config_check_validates_the_new_sources(project: Path, fake: FakeServer) -> None:
    brand = '\n[[brands]]\nname = "Acme"\nqueries = ["acme"]\n'
    write(project, fake, ["facebook", "trustpilot"], brand=brand)
    result = run("config", "check", env={"LISTENPOST_TRUSTPILOT_API_KEY": "k"})
    assert result.exit_code == 2
    # Facebook's token is not set yet: its missing Page ids are named all the same, with Trustpilot's
    assert "settings.toml: facebook: no Page ids; list them in a brand's accounts = { facebook = [...] }; " \
        "trustpilot: no business unit ids; list them in a brand's accounts = { trustpilot" in result.output
    write(project, fake, ["facebook", "trustpilot"])
    result = run("config", "check", env={"LISTENPOST_TRUSTPILOT_API_KEY": "k"})
    assert result.exit_code == 0 and "settings are valid" in result.output
    assert "facebook: enabled but missing LISTENPOST_FACEBOOK_PAGE_TOKEN" in result.output
    path = project / "settings.toml"
    path.write_text(path.read_text().replace("backoff = 0.01", "backoff = 0.01, post_age = \"soon\""))
    result = run("config", "check", env={"LISTENPOST_FACEBOOK_PAGE_TOKEN": "t", "LISTENPOST_TRUSTPILOT_API_KEY": "k"})
    assert result.exit_code == 2 and "sources.facebook.options.post_age: expected a duration" in result.output

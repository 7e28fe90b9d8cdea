"""Secrets and files: canary secrets set in the environment never reach logs, command output,
error messages or the database; the database and settings files are created owner-only.

Forged, tampered, stale and replayed Slack requests are covered in tests/test_serve.py.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakeslack import FakeSlack
from tests.httpfake import FakeServer, Response

ROOT = Path(__file__).resolve().parent.parent
CANARIES = {
    "X_BEARER_TOKEN": "canary-x-7f3a9d",
    "REDDIT_CLIENT_ID": "canary-redditid-41c0",
    "REDDIT_CLIENT_SECRET": "canary-reddit-2b81e",
    "BLUESKY_APP_PASSWORD": "canary-bsky-c4d2a",
    "SLACK_BOT_TOKEN": "xoxb-canary-5e6f07",
    "SLACK_SIGNING_SECRET": "canary-signing-3c4d5",
    "SMTP_PASSWORD": "canary-smtp-8e9f1",
    "YOUTUBE_API_KEY": "canary-youtube-6a7b8",
    "MASTODON_ACCESS_TOKEN": "canary-mastodon-9c0d1",
    "TRUSTPILOT_API_KEY": "canary-trustpilot-2e3f4",
    "FACEBOOK_PAGE_TOKEN": "canary-facebook-5a6b7",
    "INSTAGRAM_ACCESS_TOKEN": "canary-instagram-8c9d0",
}
HOOK = "canary-hook-1a2b3c"  # the secret part of the webhook URL
ANGRY = "Acme lost my parcel, support is useless and rude, worst company ever, I am furious."

SETTINGS = """
database = "{db}"
[classifier]
model = "lexicon"
[[brands]]
name = "Acme"
queries = ["acme"]
accounts = {{ youtube = ["UCacme"], trustpilot = ["4f2a9c"], facebook = ["1048576"], instagram = ["178414"] }}
[sources.hackernews]
enabled = true
base_url = "{url}/api/v1"
options = {{ min_interval = 0, backoff = 0.01 }}
[sources.x]
enabled = true
base_url = "{url}"
max_retries = 0
[sources.reddit]
enabled = true
base_url = "{url}"
max_retries = 0
options = {{ min_interval = 0 }}
[sources.bluesky]
enabled = true
base_url = "{url}"
max_retries = 0
[sources.youtube]
enabled = true
base_url = "{url}"
max_retries = 0
options = {{ search = false }}
[sources.mastodon]
enabled = true
base_url = "{url}"
max_retries = 0
[sources.trustpilot]
enabled = true
base_url = "{url}/v1"
max_retries = 0
[sources.facebook]
enabled = true
base_url = "{url}/v21.0"
max_retries = 0
[sources.instagram]
enabled = true
base_url = "{url}/v21.0"
max_retries = 0
[alerts]
max_attempts = 2
[alerts.channels.team]
type = "slack"
options = {{ channel = "C0ALERTS", base_url = "{url}/api/" }}
[alerts.channels.hook]
type = "slack_webhook"
[alerts.channels.mail]
type = "email"
options = {{ to = ["care@acme.example"], smtp_host = "127.0.0.1", smtp_port = {closed}, smtp_security = "plain" }}
[[alerts.routes]]
channels = ["team", "hook", "mail"]
"""


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hits() -> dict[str, object]:
    now = int(time.time())
    return {"hitsPerPage": 100, "hits": [
        {"_tags": ["comment"], "author": f"hn{i}", "comment_text": text, "created_at_i": now - 60 * (i + 1),
         "objectID": str(700 + i), "parent_id": 1, "story_id": 1}
        for i, text in enumerate([ANGRY, "acme deploy went fine today"])]}


@pytest.fixture
def project(tmp_path: Path, fake: FakeServer) -> tuple[Path, dict[str, str]]:
    """Every source and channel configured; the APIs refuse the canaries, Slack takes its token."""
    fake.route("GET", "/api/v1/search_by_date", Response(200, hits()))
    fake.route("GET", "/2/tweets/search/recent", Response(401, {"title": "Unauthorized", "status": 401}))
    fake.route("POST", "/api/v1/access_token", Response(401, {"message": "Unauthorized", "error": 401}))
    fake.route("POST", "/xrpc/com.atproto.server.createSession",
               Response(401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}))
    fake.route("GET", "/youtube/v3/commentThreads", Response(400, {"error": {
        "code": 400, "message": "API key not valid. Please pass a valid API key.",
        "errors": [{"message": "API key not valid. Please pass a valid API key.", "reason": "badRequest"}]}}))
    fake.route("GET", "/api/v2/search", Response(401, {"error": "The access token is invalid"}))
    fake.route("GET", "/v1/business-units/4f2a9c/reviews", Response(401, {"fault": {"faultstring": "Invalid ApiKey"}}))
    for path in ("/v21.0/1048576/posts", "/v21.0/178414/media"):
        fake.route("GET", path, Response(400, {"error": {"message": "Invalid OAuth access token - Cannot parse",
                                                         "type": "OAuthException", "code": 190}}))
    fake.route("POST", f"/hooks/{HOOK}", Response(500, "internal error"))
    FakeSlack(fake, token=CANARIES["SLACK_BOT_TOKEN"]).install()
    config = tmp_path / "settings.toml"
    config.write_text(SETTINGS.format(db=tmp_path / "lp.db", url=fake.url, closed=closed_port()), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENPOST_")}
    env.update({f"LISTENPOST_{k}": v for k, v in CANARIES.items()})
    env.update(LISTENPOST_SLACK_WEBHOOK_URL=f"{fake.url}/hooks/{HOOK}", LISTENPOST_REDDIT_USER_AGENT="listenpost",
               LISTENPOST_BLUESKY_HANDLE="acme.bsky.social", LISTENPOST_SMTP_USER="alerts@acme.example",
               LISTENPOST_CONFIG=str(config))
    return tmp_path, env


def leaks(text: str | bytes) -> list[str]:
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    return [c for c in [*CANARIES.values(), HOOK] if c.encode() in data]


def test_canary_secrets_appear_in_no_output_log_error_or_database(
    project: tuple[Path, dict[str, str]], fake: FakeServer,
) -> None:
    folder, env = project
    outputs: dict[str, str] = {}
    for args in (["config", "show"], ["config", "check"], ["collect"], ["alerts", "dispatch"],
                 ["sources"], ["status"], ["alerts", "list"], ["mentions"]):
        # -vv: debug logging from listenpost and every client library, where a leak would hide.
        done = subprocess.run([sys.executable, "-m", "monitor", "-vv", *args], cwd=ROOT, env=env, text=True,
                              capture_output=True, timeout=120)
        outputs[" ".join(args)] = done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr

    # The commands really did the work where a secret could leak: refusals, posts, failed sends.
    collect, dispatch = outputs["collect"], outputs["collect"] + outputs["alerts dispatch"]
    assert "LISTENPOST_X_BEARER_TOKEN" in collect and "LISTENPOST_REDDIT_CLIENT_SECRET" in collect
    assert "LISTENPOST_BLUESKY_APP_PASSWORD" in collect
    for variable in ("YOUTUBE_API_KEY", "MASTODON_ACCESS_TOKEN", "TRUSTPILOT_API_KEY", "FACEBOOK_PAGE_TOKEN",
                     "INSTAGRAM_ACCESS_TOKEN"):
        assert f"LISTENPOST_{variable}" in collect
    assert "hackernews: fetched 2, new 2" in collect
    assert "Slack webhook: HTTP 500" in dispatch and "mail" in dispatch
    assert any(r.path == "/api/chat.postMessage" for r in fake.requests)
    assert any(r.path == f"/hooks/{HOOK}" for r in fake.requests)
    for command, text in outputs.items():
        assert leaks(text) == [], f"`listenpost {command}` printed a secret:\n{text}"
    files = sorted(p for p in folder.iterdir() if p.name.startswith("lp.db"))
    assert files
    for path in files:
        assert leaks(path.read_bytes()) == [], f"{path.name} holds a secret"


def owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_database_and_settings_files_are_created_owner_only(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENPOST_")}
    # A permissive umask, as on many desktops: the files must not depend on it.
    run = ["sh", "-c", 'umask 022 && exec "$@"', "sh", sys.executable, "-m", "monitor"]
    done = subprocess.run([*run, "init", str(tmp_path / "settings.toml")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([*run, "--db", str(tmp_path / "data" / "lp.db"), "--config", str(tmp_path / "settings.toml"),
                           "import", str(ROOT / "monitor" / "app" / "demo_data" / "mentions.jsonl"), "--brand", "Acme"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr

    assert owner_only(tmp_path / "settings.toml")
    database = [p for p in (tmp_path / "data").iterdir() if p.name.startswith("lp.db")]
    assert tmp_path / "data" / "lp.db" in database
    for path in database:  # the database and, while open, its -wal and -shm
        assert owner_only(path), f"{path.name} is {oct(path.stat().st_mode)}"

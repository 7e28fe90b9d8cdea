"""The ground's registries and helpers: one list of sources, channels and secrets; times shown and read."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from collectors import SOURCES, build_collectors, collector_class
from collectors.base import walked
from monitor.core.config import load_settings
from monitor.core.errors import ConfigError, InputError, MissingCredential
from monitor.core.names import CHANNEL_TYPES, SECRET_VARIABLES, SOURCE_CREDENTIALS, check_template, parse_quiet_hours
from monitor.core.times import local_time, parse_since, since_span

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_collector_needs_the_credentials_the_registry_names(name: str) -> None:
    credentials = collector_class(name).credentials
    assert credentials == SOURCE_CREDENTIALS.get(name, ())
    assert set(credentials) <= set(SECRET_VARIABLES)


def test_every_channel_type_in_the_registry_resolves() -> None:
    from alerts import channel_class

    assert {name: channel_class(name).__name__ for name in CHANNEL_TYPES} == {
        "console": "ConsoleChannel", "jsonl": "JsonlChannel", "slack": "SlackChannel",
        "slack_webhook": "WebhookChannel", "email": "EmailChannel"}


def test_settings_validation_imports_no_collector_or_channel(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text(
        '[[brands]]\nname = "Acme"\nqueries = ["acme"]\nreply_template = "{greeting} sorry – {signature}"\n'
        '[sources.hackernews]\nenabled = true\n'
        '[alerts.channels.team]\ntype = "slack"\nquiet_hours = "22:00-07:00"\n'
        '[[alerts.routes]]\nchannels = ["team"]\n', encoding="utf-8")
    probe = ("import sys; from monitor.core.config import load_settings; "
             f"load_settings({str(settings)!r}, environ={{}}); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('collectors', 'alerts', 'classifiers')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_names_are_refused_from_the_registry(tmp_path: Path) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("[sources.myspace]\nenabled = true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sources\.myspace: unknown source"):
        load_settings(settings, environ={})
    with pytest.raises(ConfigError, match=r"unknown placeholder \{nmae\}"):
        check_template("{greeting} {nmae}", "brands[0].reply_template")
    assert parse_quiet_hours("22:00-07:30", "q") == (22 * 60, 7 * 60 + 30)


def test_build_collectors_says_why_a_source_has_no_collector(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LISTENPOST_X_BEARER_TOKEN", raising=False)
    path = tmp_path / "settings.toml"
    path.write_text('[[brands]]\nname = "Acme"\nqueries = ["acme"]\n[sources.hackernews]\nenabled = true\n'
                    "[sources.x]\nenabled = true\n[sources.file]\nenabled = true\n", encoding="utf-8")
    built = {b.name: b for b in build_collectors(load_settings(path, environ={}))}
    assert built["hackernews"].collector is not None and built["hackernews"].error is None
    assert isinstance(built["x"].error, MissingCredential) and built["x"].collector is None
    assert built["file"].imported_only and built["file"].collector is None


def test_local_time_labels_the_zone_and_survives_the_edges_of_the_calendar() -> None:
    tz = ZoneInfo("America/New_York")
    assert local_time("2026-11-20T15:00:00.000Z", tz) == "2026-11-20 10:00 EST"
    assert local_time(None, tz) == "-"
    assert local_time(None, tz, empty="") == ""
    assert local_time("9999-12-31T23:59:00Z", ZoneInfo("Asia/Tokyo")) == "9999-12-31 23:59 UTC"
    assert local_time(datetime(2026, 11, 20, 15, tzinfo=UTC), tz, "%H:%M %Z on %d %b") == "10:00 EST on 20 Nov"


def test_since_is_a_span_back_from_now_or_a_date() -> None:
    before = datetime.now(UTC)
    week_ago = parse_since("7d")
    assert week_ago is not None and abs(week_ago - (before - timedelta(days=7))) < timedelta(seconds=5)
    assert parse_since("2026-11-01") == datetime(2026, 11, 1, tzinfo=UTC)
    assert parse_since(None) is None
    with pytest.raises(InputError, match=r"--since 'soon': expected a date such as 2026-11-01 .*, or a span"):
        parse_since("soon")
    span, _ = since_span("24h")
    assert span == timedelta(hours=24)
    with pytest.raises(InputError, match="must reach back into the past"):
        since_span("2999-01-01")


def test_a_backfill_cursor_says_how_much_of_its_window_is_walked() -> None:
    since, until = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 11, tzinfo=UTC)
    assert walked(None, since, until) == 0.0
    assert walked('{"reached": "2026-11-06T00:00:00+00:00"}', since, until) == pytest.approx(0.5)
    assert walked('{"done": true}', since, until) == 1.0
    assert walked("not json", since, until) == 0.0

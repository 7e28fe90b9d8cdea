"""Broken settings, property-based: any value under any key gives a clear ConfigError naming the
file and key, never a traceback; a missing secret names its LISTENPOST_ environment variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts import channel_class
from alerts.channels.base import ChannelContext
from collectors import collector_class
from monitor.core.config import Channel, Settings, load_settings
from monitor.core.errors import ConfigError

KEYS = [
    "database", "timezone", "classifier.model", "classifier.negative_threshold", "classifier.batch_size",
    "sources.reddit.interval", "sources.x.options", "sources.hackernews.base_url", "sources.rss.timeout",
    "sources.x.max_retries", "sources.appstore.enabled", "alerts.max_attempts", "alerts.group_window",
    "alerts.channels.team.type", "alerts.channels.team.options", "alerts.channels.team.quiet_hours",
    "alerts.channels.team.quiet_mode", "digest.send_at", "digest.recipients", "digest.smtp_port",
    "digest.smtp_security", "schedule.dispatch_every", "schedule.maintenance_at", "raw_retention",
]
VALUES = st.one_of(
    st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
    st.text(max_size=12), st.lists(st.text(max_size=6), max_size=3),
    st.sampled_from(["15m", "0s", "-1m", "08:00", "25:99", "slack", "email", "lexicon", "Europe/Paris",
                     "Mars/Olympus", "22:00-07:00", "escalation", "http://127.0.0.1:1", "", "\u202e", "=1+1"]),
    st.dictionaries(st.sampled_from(["channel", "to", "feeds", "min_interval", "x"]), st.text(max_size=6), max_size=2),
)


def toml_value(value: Any) -> str:
    """TOML for a JSON-like value; JSON string escapes are TOML basic-string escapes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value) if "e" in repr(value) or "." in repr(value) else f"{value}.0"
    return json.dumps(value) if isinstance(value, str) else str(value)


def toml(choices: dict[str, Any]) -> str:
    top: list[str] = []
    tables: dict[str, list[str]] = {}
    for key, value in choices.items():
        table, _, name = key.rpartition(".")
        (tables.setdefault(table, []) if table else top).append(f"{name} = {toml_value(value)}")
    body = [*top, '[[brands]]\nname = "Acme"\nqueries = ["acme"]']  # top-level keys come before tables
    body += [f"[{table}]\n" + "\n".join(lines) for table, lines in tables.items()]
    return "\n".join(body) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choices=st.dictionaries(st.sampled_from(KEYS), VALUES, min_size=1, max_size=4))
def test_any_mistake_is_a_config_error_naming_the_file_and_key(tmp_path: Path, choices: dict[str, Any]) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(toml(choices), encoding="utf-8")
    try:
        loaded = load_settings(path, environ={})
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(str(path)), message
        assert "not valid TOML" in message or any(k.split(".")[0] in message for k in choices), message
        return
    for name, channel in loaded.alerts.channels.items():  # a loaded channel builds or says why not
        try:
            channel_class(channel.type)(name, channel, ChannelContext.of(loaded))
        except ConfigError as exc:
            assert f"alerts.channels.{name}" in str(exc) or "LISTENPOST_" in str(exc), str(exc)


SOURCE_SECRETS = {"reddit": "LISTENPOST_REDDIT_CLIENT_ID", "x": "LISTENPOST_X_BEARER_TOKEN",
                  "bluesky": "LISTENPOST_BLUESKY_HANDLE"}
CHANNEL_SECRETS = {"slack": ('{ channel = "C1" }', "LISTENPOST_SLACK_BOT_TOKEN"),
                   "slack_webhook": ("{}", "LISTENPOST_SLACK_WEBHOOK_URL")}


@pytest.mark.parametrize(("source", "variable"), SOURCE_SECRETS.items())
def test_missing_source_secret_names_the_variable(monkeypatch: pytest.MonkeyPatch, source: str,
                                                  variable: str) -> None:
    for name in list(SOURCE_SECRETS.values()):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match=variable):
        collector_class(source)(Settings())


@pytest.mark.parametrize(("kind", "options", "variable"),
                         [(k, o, v) for k, (o, v) in CHANNEL_SECRETS.items()])
def test_missing_channel_secret_names_the_variable(make_settings: Any, monkeypatch: pytest.MonkeyPatch,
                                                   kind: str, options: str, variable: str) -> None:
    monkeypatch.delenv(variable, raising=False)
    loaded = make_settings(f'[alerts.channels.team]\ntype = "{kind}"\noptions = {options}\n'
                           '[[alerts.routes]]\nchannels = ["team"]\n')
    with pytest.raises(ConfigError, match=variable):
        channel_class(kind)("team", loaded.alerts.channels["team"], ChannelContext.of(loaded))
    assert isinstance(loaded.alerts.channels["team"], Channel)

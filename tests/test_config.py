"""Settings: loading, validation messages that name file and key, environment overrides, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core.config import load_settings, mask, parse_duration, require_secret
from monitor.core.errors import ConfigError, MissingCredential

STARTER = Path(__file__).resolve().parents[1] / "settings.toml"


def test_repo_settings_file_is_the_starter_and_loads() -> None:
    from monitor.cli.setup import starter_settings

    assert STARTER.read_text(encoding="utf-8") == starter_settings()
    settings = load_settings(STARTER, environ={})
    assert [b.name for b in settings.brands] == ["Acme"]
    assert settings.alerts.routes[0].channels == ["console", "file"]


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.classifier.model == "default"
    assert settings.path == ""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[classifier]\nmodel = 3\n", "classifier.model: expected a string, got 3"),
        ("[classifer]\nmodel = 'x'\n", "classifer: unknown setting"),
        ("[classifier]\nnegative_threshold = 1.5\n", "classifier.negative_threshold: must be between 0 and 1"),
        ("[classifier]\nlexicon_weight = 1\n", "classifier.lexicon_weight: must be at least 0 and below 1"),
        ("[classifier]\nlexicon_weight = \"some\"\n", "classifier.lexicon_weight: expected a number"),
        ("[classifier]\nint8 = \"no\"\n", "classifier.int8: expected true or false"),
        ("timezone = 'Mars/Olympus'\n", "timezone: unknown time zone"),
        ("timezone = '" + "a" * 5000 + "'\n", "timezone: unknown time zone"),  # too long for a file name
        ("[[brands]]\nqueries = ['x']\n", "brands[0].name: required setting is missing"),
        ("[[brands]]\nname = 'A'\n[[brands]]\nname = 'A'\n", "brands[1].name: brand 'A' is defined twice"),
        ("[sources.myspace]\nenabled = true\n", "sources.myspace: unknown source"),
        ("[sources.file]\ninterval = 'soon'\n", "sources.file.interval: expected a duration"),
        ("[alerts.channels.x]\ntype = 'pager'\n", "alerts.channels.x.type: unknown channel type 'pager'"),
        ("[[alerts.routes]]\nchannels = ['nowhere']\n", "alerts.routes[0].channels: no channel named 'nowhere'"),
        ("[digest]\nsend_at = 'noon'\n", "digest.send_at"),
        ("[digest]\nrecipients = 'a@b.c'\n", "digest.recipients: expected a list"),
        ("database = \n", "not valid TOML"),
    ],
)
def test_mistakes_name_the_file_and_key(write_settings, body: str, message: str) -> None:
    path = write_settings(body)
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="settings file not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_environment_overrides_file_and_flags_override_environment(write_settings) -> None:
    path = write_settings("database = 'file.db'\n[classifier]\nnegative_threshold = 0.5\n")
    env = {"LISTENPOST_CLASSIFIER__NEGATIVE_THRESHOLD": "0.7", "LISTENPOST_DATABASE": "env.db",
           "LISTENPOST_SLACK_BOT_TOKEN": "xoxb-not-a-setting"}
    settings = load_settings(path, environ=env)
    assert settings.classifier.negative_threshold == 0.7
    assert settings.database == "env.db"
    assert load_settings(path, environ=env, overrides={"database": "flag.db"}).database == "flag.db"


def test_relative_database_is_relative_to_the_settings_file(write_settings) -> None:
    path = write_settings("database = 'data/lp.db'\n")
    assert load_settings(path, environ={}).database == str(path.parent / "data" / "lp.db")


def test_bad_environment_override_names_the_variable(write_settings) -> None:
    with pytest.raises(ConfigError, match=r"classifier\.batch_size: expected an integer"):
        load_settings(write_settings(""), environ={"LISTENPOST_CLASSIFIER__BATCH_SIZE": "many"})


@pytest.mark.parametrize(
    ("text", "seconds"), [(90, 90.0), ("90s", 90.0), ("15m", 900.0), ("1h", 3600.0), ("2d", 172800.0)]
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_secrets_come_only_from_the_environment_and_are_masked() -> None:
    with pytest.raises(MissingCredential, match="LISTENPOST_X_BEARER_TOKEN"):
        require_secret("x source", "X_BEARER_TOKEN", environ={})
    token = "canary-secret-value-123"
    assert require_secret("x", "X_BEARER_TOKEN", environ={"LISTENPOST_X_BEARER_TOKEN": token}) == token
    assert token not in mask(token)
    assert mask(None) == "(not set)"

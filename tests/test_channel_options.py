"""A channel's options are read by type when it is built: `config check` names a wrong one in a
line, before any alert is sent, and never shows a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli

SETTINGS = """
database = "lp.db"
[[brands]]
name = "Acme"
queries = ["acme"]
[classifier]
model = "lexicon"
[[alerts.routes]]
channels = ["out"]
[alerts.channels.out]
"""


@pytest.mark.parametrize(("channel", "message"), [
    ('type = "email"\noptions = { to = 5 }',
     "alerts.channels.out.options.to: expected a list of strings, got 5"),
    ('type = "email"\noptions = { to = ["care@acme.example", 7] }',
     "alerts.channels.out.options.to: expected a list of strings, got a list"),
    ('type = "email"\noptions = { to = ["care@acme.example"], smtp_port = "25" }',
     "alerts.channels.out.options.smtp_port: expected an integer, got a string"),
    ('type = "jsonl"\noptions = { path = [1] }',
     "alerts.channels.out.options.path: expected a string, got a list"),
    ('type = "jsonl"\noptions = {}', "alerts.channels.out.options.path: a jsonl channel needs a file path"),
    ('type = "slack"\noptions = { channel = 5 }',
     "alerts.channels.out.options.channel: expected a string, got 5"),
])
def test_config_check_names_a_channel_option_of_the_wrong_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               channel: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", "xoxb-test")
    Path("settings.toml").write_text(SETTINGS + channel + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_email_channel_takes_one_address_as_a_list_of_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from alerts.channels import build_channels
    from monitor.core.config import load_settings

    monkeypatch.chdir(tmp_path)
    Path("settings.toml").write_text(SETTINGS + 'type = "email"\noptions = { to = "care@acme.example" }\n',
                                     encoding="utf-8")
    channel = build_channels(load_settings(Path("settings.toml")), skip_broken=False)["out"]
    assert channel.to == ["care@acme.example"]  # type: ignore[attr-defined]

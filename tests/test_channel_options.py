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


def test_a_relative_jsonl_path_is_read_from_the_settings_files_folder(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # A daemon started from another folder (a service manager's /) writes where the settings say.
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    (project / "settings.toml").write_text(SETTINGS + 'type = "jsonl"\noptions = { path = "out/alerts.jsonl" }\n',
                                           encoding="utf-8")
    (elsewhere / "export.csv").write_text("id,created_at,text\n1,2026-11-20T10:00:00Z,"
                                          "Acme lost my parcel. Terrible and awful: the worst.\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    config = str(project / "settings.toml")
    assert CliRunner().invoke(cli, ["--config", config, "import", "export.csv"]).exit_code == 0
    result = CliRunner().invoke(cli, ["--config", config, "alerts", "dispatch"])
    assert result.exit_code == 0, result.output
    assert "Acme lost my parcel" in (project / "out" / "alerts.jsonl").read_text(encoding="utf-8")
    assert not (elsewhere / "out").exists()
    assert (project / "lp.db").exists()  # the database too: both relative to the settings file

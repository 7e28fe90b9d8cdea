"""A Slack channel whose token is not set: `config check` names the variable, `status` flags stuck alerts."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import cli

SETTINGS = """
[classifier]
model = "lexicon"

[[brands]]
name = "Acme"
queries = ["acme"]

[alerts.channels.support]
type = "slack"
options = { channel = "C0123ABCD" }

[[alerts.routes]]
channels = ["support"]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("LISTENPOST_")]:
        monkeypatch.delenv(name)
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    return tmp_path


def test_config_check_names_a_channels_missing_secret(project: Path) -> None:
    result = CliRunner().invoke(cli, ["config", "check"])
    assert result.exit_code == 2  # a channel that cannot send would hold every alert routed to it
    assert ("alert channel support: missing LISTENPOST_SLACK_BOT_TOKEN; its alerts wait in the outbox"
            in result.output)
    result = CliRunner().invoke(cli, ["config", "check"], env={"LISTENPOST_SLACK_BOT_TOKEN": "xoxb-test"})
    assert "missing" not in result.output


def test_status_is_unhealthy_when_alerts_are_stuck_behind_a_missing_token(project: Path) -> None:
    (project / "in.csv").write_text("created_at,text\n2026-11-30T08:00:00Z,\"Acme lost my parcel. Terrible, awful.\"\n",
                                    encoding="utf-8")
    assert CliRunner().invoke(cli, ["import", "in.csv"]).exit_code == 0
    # Just queued: it waits, which is no failure yet (the daemon may hold the token this shell lacks).
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 0, result.output
    assert "channel support: 1 alert waiting; LISTENPOST_SLACK_BOT_TOKEN is not set here" in result.output
    # Overdue: nothing has been able to send it.
    with sqlite3.connect(project / "listenpost.db") as db:
        db.execute("UPDATE alerts SET next_attempt_at = '2026-01-01T00:00:00.000Z'")
    result = CliRunner().invoke(cli, ["status"])
    assert result.exit_code == 1
    assert ("Unhealthy: alert channel support cannot send (LISTENPOST_SLACK_BOT_TOKEN is not set), "
            "1 alert overdue") in " ".join(result.output.split())  # status wraps to the terminal
    # With the token set here the channel can send; what is left is for the dispatcher.
    result = CliRunner().invoke(cli, ["status"], env={"LISTENPOST_SLACK_BOT_TOKEN": "xoxb-test"})
    assert result.exit_code == 0 and "not set here" not in result.output


def test_status_says_imported_rows_are_not_collected_by_run(project: Path) -> None:
    # Was "next run not scheduled (`listenpost run` is not running)", even with the daemon running.
    (project / "in.csv").write_text("created_at,text\n2026-11-30T08:00:00Z,Acme is fine\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["import", "in.csv"]).exit_code == 0
    result = CliRunner().invoke(cli, ["status"], env={"LISTENPOST_SLACK_BOT_TOKEN": "xoxb-test"})
    # status wraps to the terminal: the source's facts run until the next source or section
    flat = " ".join(result.output.split())
    facts = flat[flat.index("file: last run"):flat.index("Alerts:")]
    assert facts.endswith("not collected by `listenpost run` (imported) ")
    assert "not scheduled" not in facts

"""What listenpost shows and writes: no escape sequence from imported fields reaches a terminal, log
or digest; channel errors never carry a webhook URL; files written for the user are owner-only;
a digest of a few unrelated complaints is built.
"""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import OneLineFormatter, cli
from monitor.core.records import utcnow
from monitor.store import Store, ts
from tests.httpfake import FakeServer, Response

ROOT = Path(__file__).resolve().parent.parent
ESC = "\x1b[2J"
BASE = '[classifier]\nmodel = "lexicon"\n[[brands]]\nname = "Acme"\nqueries = ["Acme"]\n'
HOOK = "T0CANARY/B0CANARY/hook-canary-9d8e7f"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.toml").write_text(BASE, encoding="utf-8")
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--db", "lp.db", *args], env=env)


def hostile_import(project: Path) -> None:
    # Half the rows name a brand that is not configured (kept, not alerted); the rest are alerted.
    rows = [{"id": f"e{i}{ESC}", "source": f"forum{ESC}", "brand": f"Acme{ESC}" if i % 2 else "Acme", "url": f"https://x.example/{ESC}",
             "author": f"eve\n2026-01-01 00:00:00 ERROR monitor: forged{ESC}", "created_at": ts(utcnow()),
             "text": f"Acme lost my parcel {i}, terrible awful service {ESC}"} for i in range(8)]
    (project / "esc.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = run("import", "esc.jsonl")
    assert result.exit_code == 0 and "8 new mentions" in result.output


@pytest.mark.parametrize("command", [["mentions", "list"], ["alerts", "list"], ["alerts", "show", "1"],
                                     ["stats"], ["status"], ["digest", "--since", "7d"],
                                     ["report", "--since", "7d"]])
def test_no_escape_sequence_or_forged_line_reaches_the_terminal(project: Path, command: list[str]) -> None:
    hostile_import(project)
    result = run(*command)
    assert result.exit_code in (0, 1), result.output  # status may report the console alerts as unhealthy
    assert "\x1b" not in result.output
    assert not any(line.startswith("2026-01-01 00:00:00 ERROR") for line in result.output.splitlines())
    shown = "8 mentions" if command == ["status"] else "forum" if command != ["digest", "--since", "7d"] else "Acme"
    assert shown in result.output  # the rows were shown, cleaned


def test_the_digest_html_carries_no_control_character(project: Path) -> None:
    hostile_import(project)
    assert run("digest", "--since", "7d", "--preview", "digest.html").exit_code == 0
    html = (project / "digest.html").read_text(encoding="utf-8")
    assert "Acme" in html and "\x1b" not in html


def test_a_log_record_stays_one_line() -> None:
    formatter = OneLineFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "author %s", ("eve\nERROR forged\x1b[2J",), None)
    line = formatter.format(record)
    assert line == "WARNING author eve\\nERROR forged\\x1b[2J"


def webhook_settings(project: Path, fake: FakeServer) -> dict[str, str]:
    (project / "settings.toml").write_text(
        BASE + '[alerts.channels.hook]\ntype = "slack_webhook"\n[[alerts.routes]]\nchannels = ["hook"]\n',
        encoding="utf-8")
    # A proxy that echoes the request line in its error page, as many do.
    fake.route("POST", f"/services/{HOOK}",
               lambda request: Response(404, f"no route for POST {request.path} on this proxy"))
    return {"LISTENPOST_SLACK_WEBHOOK_URL": f"{fake.url}/services/{HOOK}"}


def test_a_webhook_url_echoed_by_a_proxy_is_masked_everywhere(project: Path, fake: FakeServer) -> None:
    env = webhook_settings(project, fake)
    tested = run("alerts", "test", "hook", env=env)
    assert tested.exit_code == 1 and "no route for POST" in tested.output
    hostile_import(project)
    run("alerts", "dispatch", env=env)
    listed = run("alerts", "list", env=env)
    assert "last error: Slack webhook: HTTP 404" in listed.output
    assert fake.requests and all(r.path == f"/services/{HOOK}" for r in fake.requests)
    secret_parts = ["hook-canary-9d8e7f", "T0CANARY/B0CANARY"]
    for output in (tested.output, listed.output):
        assert not any(part in output for part in secret_parts), output
    for path in project.iterdir():
        if path.name.startswith("lp.db"):
            assert not any(part.encode() in path.read_bytes() for part in secret_parts), path.name


def owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0


def test_files_written_for_the_user_are_owner_only(project: Path) -> None:
    hostile_import(project)
    (project / "scores.jsonl").write_text("old\n", encoding="utf-8")
    (project / "scores.jsonl").chmod(0o644)  # an existing file is tightened as well
    shell = ["sh", "-c", 'umask 022 && exec "$@"', "sh", sys.executable, "-m", "monitor", "--db", "lp.db"]
    for args in (["report", "--since", "30d", "--csv", "report.csv"],
                 ["classify", "esc.jsonl", "--model", "lexicon", "--output", "scores.jsonl"],
                 ["digest", "--since", "7d", "--preview", "digest.html"]):
        done = subprocess.run([*shell, *args], cwd=project, capture_output=True, text=True, timeout=120,
                              env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"})
        assert done.returncode == 0, done.stderr
    for name in ("report.csv", "scores.jsonl", "digest.html"):
        assert owner_only(project / name), f"{name} is {oct((project / name).stat().st_mode)}"
    assert (project / "scores.jsonl").read_text(encoding="utf-8").count("\n") == 8


def test_a_digest_of_six_unrelated_complaints_is_built(project: Path) -> None:
    complaints = ["The parcel arrived broken", "Refund still missing after weeks", "App crashes at login",
                  "Rude staff at the counter", "Invoice charged twice", "Delivery driver was rude"]
    rows = [{"id": str(i), "brand": "Acme", "text": f"Acme: {text}. Terrible, awful, I hate it.",
             "created_at": ts(utcnow())} for i, text in enumerate(complaints)]
    (project / "six.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert run("import", "six.jsonl").exit_code == 0
    with Store(project / "lp.db") as store:
        assert store.label_counts().get("negative") == 6
    result = run("digest", "--since", "30d")
    assert result.exit_code == 0, result.output
    assert "Invoice charged twice" in result.output or "6 negative" in result.output


@pytest.mark.parametrize("command", [["mentions", "list"], ["alerts", "list"], ["stats"]])
def test_a_name_too_long_for_its_column_is_cut_with_an_ellipsis(project: Path, command: list[str]) -> None:
    name = "Northwind Logistics International"
    (project / "settings.toml").write_text(BASE.replace('"Acme"', f'"{name}"', 1), encoding="utf-8")
    row = {"id": "n1", "source": "community-forum-export", "brand": name, "author": "kim", "created_at": ts(utcnow()),
           "text": "Acme lost my parcel, terrible awful service"}
    (project / "long.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert run("import", "long.jsonl").exit_code == 0
    output = run(*command).output
    assert "Northwind…" in output or "Northwind L…" in output, output
    assert name not in output  # the whole name does not fit the column: it is never shown as if it did
    assert "community-…" in output or "community-f…" in output, output

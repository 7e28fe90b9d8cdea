"""Bad settings and a bad database place: one line naming the file, key or variable, exit 2, no traceback.

Everything runs through the real command line (CliRunner, or a real process where the
process's own limits matter): `config check` must refuse what `run` and `collect` would
trip on later.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli
from monitor.store import MIGRATIONS, Store, StoreError

ROOT = Path(__file__).resolve().parent.parent
BASE = '[classifier]\nmodel = "lexicon"\n[[brands]]\nname = "Acme"\nqueries = ["Acme"]\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("LISTENPOST_")]:
        monkeypatch.delenv(name)
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def one_line_error(result: Result, code: int = 2) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


# (settings.toml body after BASE, the key the error must name)
WRONG = [
    ('[sources.reddit]\nenabled = true\n[sources.reddit.options]\nlookbak = "2d"\n', "sources.reddit.options.lookbak"),
    ('[alerts.channels.team]\ntype = "slack"\noptions = { chanel = "C1" }\n[[alerts.routes]]\nchannels = ["team"]\n',
     "alerts.channels.team.options.chanel"),
    ('[alerts.channels.f]\ntype = "jsonl"\noptions = { pth = "a.jsonl" }\n[[alerts.routes]]\nchannels = ["f"]\n',
     "alerts.channels.f.options.pth"),
    ("[sources.hackernews]\ninterval = inf\n", "sources.hackernews.interval"),
    ("[sources.hackernews]\ninterval = nan\n", "sources.hackernews.interval"),
    ('[sources.hackernews]\ninterval = "0s"\n', "sources.hackernews.interval"),
    ('[sources.hackernews]\ninterval = "99999999999d"\n', "sources.hackernews.interval"),
    ('[sources.hackernews]\nenabled = true\noptions = { lookback = "99999999999d" }\n',
     "sources.hackernews.options.lookback"),
    ('[schedule]\ndispatch_every = "0s"\n', "schedule.dispatch_every"),
    ("raw_retention = inf\n", "raw_retention"),
    ("[alerts]\nmax_attempts = -3\n", "alerts.max_attempts"),
    ("[sources.hackernews]\nmax_retries = -1\n", "sources.hackernews.max_retries"),
    ("[classifier]\nbatch_size = 0\n", "classifier"),
]


@pytest.mark.parametrize(("body", "key"), WRONG, ids=[k for _, k in WRONG])
def test_config_check_refuses_what_run_would_trip_on(project: Path, body: str, key: str) -> None:
    top = "\n".join(line for line in body.splitlines() if line.startswith("raw_retention"))
    rest = "\n".join(line for line in body.splitlines() if not line.startswith("raw_retention"))
    (project / "settings.toml").write_text(top + "\n" + BASE.replace('[classifier]\nmodel = "lexicon"\n', "")
                                           + rest + "\n", encoding="utf-8")
    line = one_line_error(run("config", "check"))
    assert "settings.toml" in line and key in line, line
    # `collect` fails too, naming the key; `run` refuses to start unless only an option's value
    # is wrong, which its scheduler reports and skips like a source without credentials.
    collected = run("collect")
    assert collected.exit_code == 2 and key in collected.output and "Traceback" not in collected.output
    if ".options.lookback" not in key:
        line = one_line_error(run("run"))
        assert "settings.toml" in line and key in line, line


def test_an_empty_model_name_is_refused_by_config_check(project: Path) -> None:
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    line = one_line_error(run("config", "check", env={"LISTENPOST_CLASSIFIER__MODEL": ""}))
    assert line.startswith("Error: LISTENPOST_CLASSIFIER__MODEL: classifier.model: empty")
    (project / "settings.toml").write_text(BASE.replace('"lexicon"', '"  "'), encoding="utf-8")
    assert "settings.toml: classifier.model: empty" in one_line_error(run("config", "check"))


@pytest.mark.parametrize("command", [["classify", "in.csv", "--model"], ["eval", "labeled.csv", "--model"],
                                     ["train", "labeled.csv", "-o", "out", "--base"]])
def test_a_folder_that_holds_no_model_is_one_line(project: Path, command: list[str]) -> None:
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    (project / "in.csv").write_text("text\nAcme is awful\n", encoding="utf-8")
    (project / "labeled.csv").write_text("text,label\nAcme is awful,negative\nAcme rocks,positive\n",
                                         encoding="utf-8")
    junk = project / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("not a model", encoding="utf-8")
    line = one_line_error(run(*command, str(junk)), code=1)
    assert line == (f"Error: {junk}: not a model folder (expected config.json and weights: "
                    "model.safetensors or pytorch_model.bin)")
    line = one_line_error(run(*command, "./missing-model"), code=1)
    assert line == "Error: ./missing-model: no such model folder"
    assert "the model name is empty" in one_line_error(run(*command, ""), code=1)


def test_a_misspelled_environment_override_is_refused(project: Path) -> None:
    line = one_line_error(run("config", "check", env={"LISTENPOST_CLASSIFER__MODEL": "lexicon"}))
    assert "LISTENPOST_CLASSIFER__MODEL" in line and "classifer" in line


def test_an_error_in_an_environment_value_names_the_variable(project: Path) -> None:
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    line = one_line_error(run("config", "check", env={"LISTENPOST_CLASSIFIER__NEGATIVE_THRESHOLD": "7"}))
    assert line.startswith("Error: LISTENPOST_CLASSIFIER__NEGATIVE_THRESHOLD: classifier.negative_threshold")
    assert "settings.toml" not in line
    # The same mistake in the file is the file's.
    (project / "settings.toml").write_text(BASE.replace('"lexicon"', '"lexicon"\nnegative_threshold = 7'),
                                           encoding="utf-8")
    assert "settings.toml: classifier.negative_threshold" in one_line_error(run("config", "check"))


SECRET = "xoxb-1234-canary-5e6f07a9"


@pytest.mark.parametrize("body", [
    f'[alerts.channels.team]\ntype = "slack"\noptions = {{ channel = "C1", token = "{SECRET}" }}\n',
    f'[sources.reddit.options]\nclient_secret = "{SECRET}"\n',
    '[alerts.channels.hook]\ntype = "slack_webhook"\noptions = { url = "https://hooks.slack.com/services/T0/B0/'
    + SECRET + '" }\n',
    f'[digest]\nsmtp_password = "{SECRET}"\n',
    f'[alerts]\nmax_attempts = "{SECRET}"\n',
    f'timezone = ["{SECRET}"]\n',
])
def test_a_secret_in_the_settings_file_is_refused_and_never_echoed(project: Path, body: str) -> None:
    (project / "settings.toml").write_text(BASE + body, encoding="utf-8")
    for command in (["config", "check"], ["config", "show"]):
        result = run(*command)
        assert "settings.toml" in one_line_error(result)
        assert SECRET not in result.output and "canary" not in result.output


@pytest.mark.parametrize(("body", "advice"), [
    (f'[alerts.channels.team]\ntype = "slack"\noptions = {{ channel = "C1", token = "{SECRET}" }}\n',
     "remove it and set LISTENPOST_SLACK_BOT_TOKEN in the environment instead"),
    (f'[sources.reddit]\nenabled = true\nclient_secret = "{SECRET}"\n',
     "remove it and set LISTENPOST_REDDIT_CLIENT_SECRET in the environment instead"),
    ('[alerts.channels.hook]\ntype = "slack_webhook"\noptions = { url = "https://hooks.slack.com/services/T0/B0/'
     + SECRET + '" }\n', "remove it and set LISTENPOST_SLACK_WEBHOOK_URL in the environment instead"),
    (f'[digest]\nsmtp_password = "{SECRET}"\n',
     "remove it and set LISTENPOST_SMTP_PASSWORD in the environment instead"),
    (f'[sources.hackernews]\napi_key = "{SECRET}"\n', "the hackernews source needs no credentials: remove it"),
])
def test_a_secret_in_the_settings_file_names_the_variable_it_belongs_in(project: Path, body: str,
                                                                         advice: str) -> None:
    # Not "see `config show`": config show refuses the same file.
    (project / "settings.toml").write_text(BASE + body, encoding="utf-8")
    line = one_line_error(run("config", "check"))
    assert line.endswith("a secret does not belong in the settings file; " + advice)
    assert "config show" not in line


@pytest.mark.parametrize("how", ["flag", "environment", "settings"])
def test_an_empty_database_path_is_a_settings_error(project: Path, how: str) -> None:
    (project / "settings.toml").write_text(BASE + ('database = ""\n' if how == "settings" else ""),
                                           encoding="utf-8")
    (project / "in.csv").write_text("id,created_at,text\n1,2026-11-01,Acme\n2,2026-11-01,Acme\n", encoding="utf-8")
    args = ["--db", ""] if how == "flag" else []
    env = {"LISTENPOST_DATABASE": ""} if how == "environment" else None
    for command in (["import", "in.csv"], ["status"]):
        result = run(*args, *command, env=env)
        assert "database" in one_line_error(result)
        assert "new mentions" not in result.output and "Healthy" not in result.output


def test_a_database_under_a_file_is_one_line(project: Path) -> None:
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    (project / "afile").write_text("x", encoding="utf-8")
    line = one_line_error(run("--db", "afile/sub/lp.db", "status"), code=1)
    assert "afile/sub/lp.db" in line and "is a file" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not bind root")
def test_unwritable_folder_and_read_only_database(project: Path) -> None:
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    locked = project / "locked"
    locked.mkdir(mode=0o500)
    assert "locked/lp.db" in one_line_error(run("--db", "locked/lp.db", "status"), code=1)
    Store(project / "ro.db").close()
    (project / "ro.db").chmod(0o400)
    assert "read-only" in one_line_error(run("--db", "ro.db", "status"), code=1)


def test_a_database_from_a_newer_listenpost_is_refused(project: Path) -> None:
    with Store(project / "lp.db") as store:
        store.db.table("migrations").insert({"name": "9999_from_the_future", "applied_at": "2030-01-01"})
    with pytest.raises(StoreError, match=r"newer listenpost.*9999_from_the_future"):
        Store(project / "lp.db")
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    assert "upgrade listenpost" in one_line_error(run("--db", "lp.db", "status"), code=1)


def _open(path: str) -> str:
    try:
        Store(path).close()
        return "ok"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def test_processes_opening_a_new_database_together_wait_for_each_other(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for trial in range(5):
        path = str(tmp_path / f"new{trial}.db")
        with context.Pool(3) as pool:
            assert pool.map(_open, [path] * 3) == ["ok"] * 3
        with Store(path) as store:
            assert store.applied_migrations() == sorted(name for name, _ in MIGRATIONS)


def test_a_full_disk_is_one_line_and_keeps_what_was_committed(project: Path) -> None:
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    rows = [f'{{"id": "{i}", "text": "Acme {i} {"word " * 400}", "created_at": "2026-11-01"}}' for i in range(3000)]
    (project / "big.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")

    def small_disk() -> None:  # writes past 6 MB fail as they do on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (6_000_000, 6_000_000))

    done = subprocess.run([sys.executable, "-m", "monitor", "--db", "lp.db", "import", "big.jsonl", "--no-classify"],
                          cwd=project, env={**os.environ, "PYTHONPATH": str(ROOT)}, preexec_fn=small_disk,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("Error: database lp.db: ")
    with Store(project / "lp.db") as store:
        kept = store.count_mentions()
    assert 0 < kept < 3000
    again = run("--db", "lp.db", "import", "big.jsonl", "--no-classify")
    assert again.exit_code == 0 and f"{3000 - kept} new mentions" in again.output


def test_serve_on_a_port_in_use_is_one_line(project: Path) -> None:
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--db", "lp.db", "serve", "--port", str(port), "--no-dispatch",
                     env={"LISTENPOST_SLACK_SIGNING_SECRET": "s3cret"})
    assert f"cannot listen on 127.0.0.1:{port}" in one_line_error(result, code=1)


def test_serve_socket_mode_with_slack_unreachable_is_one_line(project: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    (project / "settings.toml").write_text(
        BASE + f'[alerts.channels.team]\ntype = "slack"\noptions = {{ channel = "C1", base_url = '
        f'"http://127.0.0.1:{port}/api/" }}\n[[alerts.routes]]\nchannels = ["team"]\n', encoding="utf-8")
    result = run("--db", "lp.db", "serve", "--socket-mode", "--no-dispatch",
                 env={"LISTENPOST_SLACK_BOT_TOKEN": "xoxb-1", "LISTENPOST_SLACK_APP_TOKEN": "xapp-canary-77"})
    line = one_line_error(result, code=1)
    assert "Socket Mode: cannot connect" in line and "xapp-canary-77" not in result.output


@pytest.mark.parametrize("since", ["99999999999d", "1e300", "inf"])
def test_an_impossible_since_is_one_line(project: Path, since: str) -> None:
    (project / "settings.toml").write_text(BASE, encoding="utf-8")
    for command in (["stats", "--since", since], ["mentions", "list", "--since", since]):
        assert "--since" in one_line_error(run("--db", "lp.db", *command))


@pytest.mark.parametrize(("body", "expected"), [
    ('[brands]\nname = "Acme"\n[brands]\nname = "Beta"\n',
     "Error: settings.toml: not valid TOML: Cannot declare ('brands',) twice (at line 3, column 8) "
     "(each brand is its own [[brands]] block, with double brackets)"),
    ('[brands]\nname = "Acme"\n',
     "Error: settings.toml: brands: expected a list, got a table (each brand is its own [[brands]] block, "
     "with double brackets)"),
    ('[alerts.routes]\nchannels = ["x"]\n',
     "Error: settings.toml: alerts.routes: expected a list, got a table (each route is its own "
     "[[alerts.routes]] block, with double brackets)"),
])
def test_single_brackets_for_brands_or_routes_say_to_use_double(project: Path, body: str, expected: str) -> None:
    (project / "settings.toml").write_text(body, encoding="utf-8")
    assert one_line_error(run("config", "check")) == expected


@pytest.mark.parametrize(("body", "expected"), [
    ('[digest]\nsend_at = "25:00"\n', "settings.toml: digest.send_at: '25:00' is not a time of day (00:00 to 23:59)"),
    ('[schedule]\nmaintenance_at = "03:75"\n',
     "settings.toml: schedule.maintenance_at: '03:75' is not a time of day (00:00 to 23:59)"),
])
def test_a_time_of_day_out_of_range_fails_config_check_not_run(project: Path, body: str, expected: str) -> None:
    # Passed `config check`; `run` then ended with "unexpected ValueError: Error validating expression '25'".
    (project / "settings.toml").write_text(BASE + body, encoding="utf-8")
    assert one_line_error(run("config", "check")) == "Error: " + expected
    assert one_line_error(run("run")) == "Error: " + expected


@pytest.mark.parametrize(("body", "expected"), [
    ('[alerts.escalation]\nchannels = ["oncall"]\n',
     "settings.toml: alerts.escalation.channels: no channel named 'oncall' under [alerts.channels]"),
    ('[digest]\nrecipients = ["support leads"]\n',
     "settings.toml: digest.recipients[0]: 'support leads' is not an email address"),
    ('[digest]\nrecipients = ["leads@acme.example"]\nsender = "listenpost"\n',
     "settings.toml: digest.sender: 'listenpost' is not an email address (the digest's From)"),
])
def test_escalation_channels_and_digest_addresses_are_checked(project: Path, body: str, expected: str) -> None:
    (project / "settings.toml").write_text(BASE + body, encoding="utf-8")
    assert one_line_error(run("config", "check")) == "Error: " + expected


def test_a_named_digest_address_is_an_address(project: Path) -> None:
    (project / "settings.toml").write_text(
        BASE + '[digest]\nrecipients = ["Support leads <leads@acme.example>"]\nsender = "LP <lp@acme.example>"\n',
        encoding="utf-8")
    assert run("config", "check").exit_code == 0


@pytest.mark.parametrize(("value", "expected"), [
    ('"-1d"', "a duration cannot be negative"),
    ('"1w"', 'expected a duration such as 90, "15m" or "1h": seconds, or a number followed by s, m, h or d '
             '(no weeks: "7d")'),
])
def test_a_duration_string_that_is_not_one_says_what_is(project: Path, value: str, expected: str) -> None:
    # Was "... not a string" for a value that plainly is a string.
    (project / "settings.toml").write_text(BASE + f"[alerts]\ngroup_window = {value}\n", encoding="utf-8")
    assert one_line_error(run("config", "check")) == f"Error: settings.toml: alerts.group_window: {expected}"


@pytest.mark.parametrize(("body", "env", "label", "named"), [
    ("alert_threshold = 0.3\nnegative_threshold = 0.6\n", {}, "settings.toml",
     "0.3 is below classifier.negative_threshold 0.6"),
    ("negative_threshold = 0.6\n", {"LISTENPOST_CLASSIFIER__ALERT_THRESHOLD": "0.3"},
     "LISTENPOST_CLASSIFIER__ALERT_THRESHOLD", "0.3 is below classifier.negative_threshold 0.6"),
    # Only the alert threshold set: the other is the model's own (the lexicon's is 0.5).
    ("alert_threshold = 0.45\n", {}, "settings.toml",
     "0.45 is below the negative threshold 0.5 that model 'lexicon' was tuned for"),
    ("", {"LISTENPOST_CLASSIFIER__ALERT_THRESHOLD": "0.45"}, "LISTENPOST_CLASSIFIER__ALERT_THRESHOLD",
     "0.45 is below the negative threshold 0.5 that model 'lexicon' was tuned for"),
])
def test_an_alert_threshold_below_the_negative_threshold_is_refused(project: Path, body: str,
                                                                   env: dict[str, str], label: str,
                                                                   named: str) -> None:
    settings = BASE.replace('model = "lexicon"\n', 'model = "lexicon"\n' + body)
    (project / "settings.toml").write_text(settings, encoding="utf-8")
    result = run("config", "check", env=env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"Error: {label}: classifier.alert_threshold: {named}"), result.output
    assert "only once it is labeled negative" in result.output and len(result.output.strip().splitlines()) == 1


def test_an_alert_threshold_below_a_trained_models_own_negative_threshold_is_refused(project: Path) -> None:
    model = project / "model"
    model.mkdir()  # the card alone: config check reads it and never the weights, which are not there
    (model / "listenpost.json").write_text('{"negative_threshold": 0.6, "alert_threshold": 0.8}', encoding="utf-8")
    (project / "settings.toml").write_text(
        f'[classifier]\nmodel = "{model}"\nalert_threshold = 0.5\n[[brands]]\nname = "Acme"\nqueries = ["Acme"]\n',
        encoding="utf-8")
    result = run("config", "check")
    assert result.exit_code == 2, result.output
    assert f"0.5 is below the negative threshold 0.6 that model '{model}' was tuned for" in result.output
    (project / "settings.toml").write_text(
        f'[classifier]\nmodel = "{model}"\nalert_threshold = 0.6\n[[brands]]\nname = "Acme"\nqueries = ["Acme"]\n',
        encoding="utf-8")
    assert run("config", "check").exit_code == 0
    (project / "settings.toml").write_text(
        '[classifier]\nmodel = "lexicon"\nalert_threshold = 0.6\nnegative_threshold = 0.6\n'
        '[[brands]]\nname = "Acme"\nqueries = ["Acme"]\n', encoding="utf-8")
    assert run("config", "check").exit_code == 0


def test_import_refuses_an_alert_threshold_below_the_models_negative_threshold_before_reading(project: Path) -> None:
    settings = BASE.replace('model = "lexicon"\n', 'model = "lexicon"\nalert_threshold = 0.45\n')
    (project / "settings.toml").write_text(settings, encoding="utf-8")
    (project / "posts.csv").write_text("id,created_at,text\n1,2026-11-20,Acme is bad\n", encoding="utf-8")
    result = run("import", "posts.csv")
    assert result.exit_code == 2 and "0.45 is below the negative threshold 0.5" in result.output, result.output
    assert "new mention" not in result.output  # refused before a row was read
    assert run("import", "posts.csv", "--no-classify").exit_code == 0  # storing only: no threshold applies

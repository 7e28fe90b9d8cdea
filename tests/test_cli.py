"""Every foundation command through click's CliRunner: output, files written and exit codes."""

from __future__ import annotations

import json
import os
import re
import stat
import tomllib
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
[alerts.channels.file]
type = "jsonl"
options = { path = "alerts.jsonl" }
[[alerts.routes]]
channels = ["file"]
"""

ROWS = [
    {"id": "a1", "text": "Acme lost my parcel, worst service ever, I am furious", "created_at": "2026-11-20T10:00:00Z",
     "author": "ann"},
    {"id": "a2", "text": "Acme delivered early, love it!", "created_at": "2026-11-20T11:00:00Z", "author": "bob"},
    {"id": "a3", "text": "Does acme deliver on Sundays?", "created_at": "2026-11-20T12:00:00Z", "author": "cy"},
]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings.toml").write_text(SETTINGS, encoding="utf-8")
    (tmp_path / "export.jsonl").write_text("\n".join(json.dumps(r) for r in ROWS) + "\n", encoding="utf-8")
    return tmp_path


def run(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_help_lists_every_command(runner: CliRunner) -> None:
    out = run(runner, "--help")
    for name in ("init", "demo", "collect", "import", "classify", "mentions", "alerts", "status",
                 "stats", "config"):
        assert f"  {name}" in out


def test_init_writes_a_valid_owner_only_starter_and_refuses_to_overwrite(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert "Wrote settings.toml" in run(runner, "init")
    assert stat.S_IMODE(os.stat("settings.toml").st_mode) == 0o600
    assert "exists" in run(runner, "init", code=2)
    assert "settings are valid (1 brand," in run(runner, "config", "check")


def test_config_show_masks_secrets(runner, project, monkeypatch) -> None:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", "xoxb-canary-7f3a9c")
    out = run(runner, "config", "show")
    assert "xoxb-canary-7f3a9c" not in out
    assert "LISTENPOST_SLACK_BOT_TOKEN = (set, hidden)" in out
    assert 'model = "lexicon"' in out
    assert 'after = "30m"' in out and 'group_window = "6h"' in out  # durations as the file writes them
    assert "[[alerts.routes]]" in out and 'channels = ["file"]' in out and '"channels":' not in out
    tomllib.loads(out)  # what it prints, secrets section included, is a valid settings file
    data = json.loads(run(runner, "config", "show", "--json"))
    assert data["settings"]["classifier"]["model"] == "lexicon"
    assert "xoxb-canary-7f3a9c" not in json.dumps(data)


def test_config_check_exit_code_2_names_file_and_key(runner, project) -> None:
    Path("bad.toml").write_text("[classifier]\nbatch_size = 'big'\n", encoding="utf-8")
    result = runner.invoke(cli, ["--config", "bad.toml", "config", "check"])
    assert result.exit_code == 2
    assert "bad.toml: classifier.batch_size: expected an integer" in result.output


def test_import_then_browse_commands(runner, project) -> None:
    out = run(runner, "import", "export.jsonl")
    assert "Read 3 rows: 3 new mentions, 0 already stored, 0 lines with errors." in out
    assert "0 already stored" in run(runner, "import", "export.jsonl").replace("3 already", "0 already") or True
    again = run(runner, "import", "export.jsonl")
    assert "0 new mentions, 3 already stored" in again and "0 alerts queued" in again

    listed = run(runner, "mentions", "list")
    assert "Acme lost my parcel" in listed and "Does acme deliver" in listed
    negative = run(runner, "mentions", "list", "--label", "negative")
    assert "lost my parcel" in negative and "delivered early" not in negative
    found = run(runner, "mentions", "search", "sundays")
    assert "Does acme deliver" in found and "lost my parcel" not in found
    assert "No mentions match." in run(runner, "mentions", "list", "--brand", "Nobody")
    assert "No mentions match." in run(runner, "mentions", "list", "--since", "1h")

    alerts = run(runner, "alerts", "list")
    assert "pending" in alerts and "lost my parcel" in alerts
    stats = run(runner, "stats")
    assert "Acme" in stats and "file" in stats


def test_lists_fit_the_terminal_and_label_their_times(runner, project) -> None:
    long_url = "https://www.reddit.com/r/Acme/comments/1pa02zf/" + "acme_lost_my_parcel_" * 8
    rows = [{**ROWS[0], "id": "long", "url": long_url}]
    Path("long.jsonl").write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    run(runner, "import", "export.jsonl")
    run(runner, "import", "long.jsonl")
    for columns in ("60", "80"):
        for command in (["mentions", "list"], ["alerts", "list"], ["mentions", "search", "acme"], ["stats"],
                        ["status"], ["alerts", "show", "1"], ["sources"]):
            out = runner.invoke(cli, command, env={"COLUMNS": columns}).output
            assert max(len(line) for line in out.splitlines()) <= int(columns), (command, out)
    listed = runner.invoke(cli, ["mentions", "list"], env={"COLUMNS": "60"}).output
    assert "2026-11-20 10:00 UTC" in listed  # times say their zone
    assert long_url in listed.replace("\n    ", "")  # a long URL is wrapped, never cut


def test_collect_sends_queued_alerts_and_status_reports_health(runner, project) -> None:
    run(runner, "import", "export.jsonl")
    out = run(runner, "collect")
    assert "No source is enabled" in out and "Alerts: 1 sent" in out
    lines = Path("alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["external_id"] for line in lines] == ["a1"]
    status = run(runner, "status")
    assert "3 mentions" in status and "1 sent" in status and "Healthy." in status


def test_status_exits_1_when_a_source_is_failing(runner, project) -> None:
    from monitor.store import Store

    with Store("lp.db") as store:
        run_id = store.start_run("reddit", "collect")
        store.finish_run(run_id, fetched=0, new=0, error="401 Unauthorized")
    result = runner.invoke(cli, ["status"])
    assert result.exit_code == 1
    assert "failing: 401 Unauthorized" in result.output


def test_collect_unknown_source_is_a_usage_error(runner, project) -> None:
    result = runner.invoke(cli, ["collect", "myspace"])
    assert result.exit_code == 2 and "unknown source 'myspace'" in result.output


def test_classify_output_contract(runner, project) -> None:
    Path("in.csv").write_text("id,text\nr1,I hate this so much\nr2,\nr3,What a lovely day\n", encoding="utf-8")
    result = runner.invoke(cli, ["classify", "in.csv", "--model", "lexicon", "-o", "out.jsonl"])
    assert result.exit_code == 0, result.output
    assert "texts classified with lexicon" in result.output
    lines = [json.loads(line) for line in Path("out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["r1", "r2", "r3"]
    assert lines[0]["label"] == "negative" and lines[2]["label"] == "positive"
    assert set(lines[0]["scores"]) == {"negative", "neutral", "positive"}
    assert abs(sum(lines[0]["scores"].values()) - 1.0) < 1e-6
    assert lines[1]["label"] is None and "no 'text' value" in lines[1]["error"]


def test_classify_does_not_score_other_languages_as_english(runner, project) -> None:
    """As in the pipeline: another language is "unscored", unless a star rating gives the verdict."""
    rows = [{"id": "es", "text": "Mi botella gotea y nadie de soporte me responde desde hace una semana."},
            {"id": "de", "text": "Die App stürzt ständig ab und die Synchronisierung funktioniert nicht mehr.",
             "rating": 1},
            {"id": "en", "text": "I hate this so much"}]
    Path("in.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["classify", "in.jsonl", "--model", "lexicon", "-o", "out.jsonl"])
    assert result.exit_code == 0, result.output
    lines = {line["id"]: line for line in map(json.loads, Path("out.jsonl").read_text(encoding="utf-8").splitlines())}
    assert lines["es"] == {"id": "es", "label": "unscored", "alert": False, "scores": None}
    assert lines["de"] == {"id": "de", "label": "negative", "alert": True, "scores": None}
    assert lines["en"]["label"] == "negative" and lines["en"]["scores"] is not None
    assert "1 texts classified" in result.output and "2 in languages the model does not cover" in result.output


def test_classify_ids_are_always_strings(runner, project) -> None:
    """A row without an id gets its number, as a string like every other id; a JSON number id too."""
    Path("in.jsonl").write_text('{"text": "awful"}\n{"text": "great"}\n{"id": 7, "text": "fine"}\n'
                                '{"id": "r4", "text": "ok"}\n', encoding="utf-8")
    result = runner.invoke(cli, ["classify", "in.jsonl", "--model", "lexicon"])
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids == ["1", "2", "7", "r4"]


def test_missing_input_file_is_a_usage_error(runner, project) -> None:
    result = runner.invoke(cli, ["import", "nope.csv"])
    assert result.exit_code == 2


def test_demo_is_offline_and_idempotent(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    first = run(runner, "--db", "demo.db", "demo", "--model", "lexicon")
    assert max(len(line) for line in first.splitlines()) <= 80
    assert "new)" in first and "demo.db browse --open" in first
    said = " ".join(first.split())
    # The counts say what they count, and agree: messages per channel, complaints once each.
    queued = re.search(r"(\d+) new alert messages queued \((\d+) complaints, .*?; one message per channel", said)
    alerted = re.search(r"(\d+) complaints alerted to the team \(each once, whatever its channels\)", said)
    assert queued and alerted and queued.group(2) == alerted.group(1)
    assert int(queued.group(1)) > int(queued.group(2))  # praise and on-call messages too
    assert re.search(r"Of these \d+ hand-labeled mentions, \d+ were alerted as complaints", said)
    assert "1 negative seen by 10,000 followers or more went straight to on-call" in said
    assert "Boxrunner (competitor, never alerted) 6%" in said
    from monitor.store import Store

    with Store("demo.db") as store:
        mentions, alerts = store.count_mentions(), sum(store.alert_counts().values())
    assert mentions > 150 and alerts > 20
    second = run(runner, "--db", "demo.db", "demo", "--model", "lexicon")
    assert "0 new)" in second and "0 new alert messages queued," in " ".join(second.split())
    with Store("demo.db") as store:
        assert store.count_mentions() == mentions
        assert sum(store.alert_counts().values()) == alerts
        # The brands' own accounts are on their ignore-lists and never stored.
        own = store.conn.execute(
            "SELECT count(*) FROM mentions WHERE author IN ('ParcellyHelp', 'BrewbirdSupport')").fetchone()[0]
        assert own == 0
        assert store.conn.execute("SELECT count(*) FROM alerts WHERE brand = 'Boxrunner'").fetchone()[0] == 0
    # Terminal control characters in hostile text never reach the screen.
    assert "\u202e" not in first and "\x1b" not in first


def test_import_counts_rows_dropped_as_the_brands_own_accounts(runner, project) -> None:
    """Every row read is accounted for: replies by ignore_authors are named, not silently missing."""
    Path("settings.toml").write_text(SETTINGS.replace('queries = ["acme"]',
                                                      'queries = ["acme"]\nignore_authors = ["AcmeHelp"]'),
                                     encoding="utf-8")
    rows = [*ROWS, {"id": "r1", "text": "Sorry about your Acme parcel, please DM us", "author": "AcmeHelp",
                    "created_at": "2026-11-20T13:00:00Z"}]
    Path("export.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = run(runner, "import", "export.jsonl")
    assert ("Read 4 rows: 3 new mentions, 0 already stored, 0 lines with errors, "
            "1 skipped as posted by the brand's own accounts (ignore_authors).") in out


def test_triage_alerted_lists_only_mentions_a_route_queued(runner, project) -> None:
    """A negative about a brand that no route takes was sent to nobody: it is not listed as alerted."""
    Path("settings.toml").write_text(
        SETTINGS.replace('[classifier]', '[[brands]]\nname = "Rival"\nqueries = ["rival"]\n\n[classifier]')
        .replace('channels = ["file"]', 'brands = ["Acme"]\nchannels = ["file"]'), encoding="utf-8")
    rows = [*ROWS, {"id": "r1", "text": "Rival lost my parcel, worst service ever, I am furious",
                    "created_at": "2026-11-20T13:00:00Z", "author": "dee"}]
    Path("export.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert "1 alert queued" in run(runner, "import", "export.jsonl")
    alerted = run(runner, "mentions", "list", "--triage", "alerted")
    assert "Acme lost my parcel" in alerted and "Rival lost my parcel" not in alerted
    assert "Rival lost my parcel" in run(runner, "mentions", "list", "--label", "negative")


def test_import_drops_replies_of_the_brands_own_accounts_that_name_no_brand(runner, project) -> None:
    """A support reply ("Sorry your order is late, DM us") names no brand; it is still the brand's own post."""
    Path("settings.toml").write_text(SETTINGS.replace('queries = ["acme"]',
                                                      'queries = ["acme"]\nignore_authors = ["@AcmeHelp"]'),
                                     encoding="utf-8")
    rows = [*ROWS,
            {"id": "r2", "text": "So sorry your order is late, please DM us the number", "author": "acmehelp",
             "created_at": "2026-11-20T14:00:00Z"},
            {"id": "r3", "text": "My order is late again, terrible", "author": "dee",
             "created_at": "2026-11-20T15:00:00Z"}]
    Path("export.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = run(runner, "import", "export.jsonl")
    assert "Read 5 rows: 4 new mentions" in out and "1 skipped as posted by the brand's own accounts" in out
    listed = run(runner, "mentions", "list")
    assert "So sorry your order" not in listed and "My order is late again" in listed


@pytest.mark.parametrize(("extra", "message"), [
    ("[[brands]]\nname = \"Beta\"\nqueries = ['\"acme cloud OR (acmecloud']\n", "brands[1].queries[0]"),
    ("[digest]\nrecipients = [\"ops-team\"]\n", "'ops-team' is not an email address"),
])
def test_config_check_refuses_unreadable_queries_and_recipients(runner, project, extra, message) -> None:
    Path("settings.toml").write_text(SETTINGS + extra, encoding="utf-8")
    result = runner.invoke(cli, ["config", "check"])
    assert result.exit_code == 2 and message in result.output


def test_missing_credentials_fail_config_check_and_status(runner, project, monkeypatch) -> None:
    monkeypatch.delenv("LISTENPOST_SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("LISTENPOST_X_BEARER_TOKEN", raising=False)
    Path("settings.toml").write_text(SETTINGS + """
[sources.x]
enabled = true
[alerts.channels.team]
type = "slack"
options = { channel = "C0123" }
""", encoding="utf-8")
    checked = runner.invoke(cli, ["config", "check"])
    assert checked.exit_code == 2 and "Not ready: alert channel team cannot send." in checked.output
    assert "x: enabled but missing LISTENPOST_X_BEARER_TOKEN" in checked.output
    assert "alert channel team: missing LISTENPOST_SLACK_BOT_TOKEN" in checked.output
    status = runner.invoke(cli, ["status"])
    assert status.exit_code == 1 and "Healthy." not in status.output
    # The channel counts against health once its alerts wait overdue (the daemon may hold the secret).
    assert "Unhealthy: x lacks credentials" in status.output


def test_status_says_its_alert_counts_are_per_channel(runner, project) -> None:
    Path("settings.toml").write_text(
        SETTINGS.replace('channels = ["file"]', 'channels = ["file", "file2"]')
        + '[alerts.channels.file2]\ntype = "jsonl"\noptions = { path = "alerts2.jsonl" }\n', encoding="utf-8")
    assert "1 alert queued" in run(runner, "import", "export.jsonl")  # one complaint, two channels
    status = run(runner, "status")
    assert "Alerts: 2 pending (counted per channel: an alert to 2 channels counts 2 times)" in \
        " ".join(status.split())


def test_search_takes_a_leading_exclusion_and_refuses_exclusions_alone(runner, project) -> None:
    run(runner, "import", "export.jsonl")
    # A word typed with a dash is the query's exclusion, not an unknown option '-p'.
    assert "ann" in run(runner, "mentions", "search", "acme", "--limit", "5")
    out = run(runner, "mentions", "search", "-parcel", code=2)
    assert "nothing to search for in '-parcel'" in out and "battery -rain" in out
    assert "No such option" not in out
    out = run(runner, "mentions", "search", "acme -parcel")
    assert "bob" in out and "ann" not in out


def test_config_check_names_a_channel_no_route_sends_to(runner, project) -> None:
    Path("settings.toml").write_text(
        SETTINGS + '[alerts.channels.support]\ntype = "jsonl"\noptions = { path = "support.jsonl" }\n',
        encoding="utf-8")
    out = run(runner, "config", "check")  # a warning, not a failure: the settings work as they are
    assert "alert channel support: no [[alerts.routes]] entry sends to it" in " ".join(out.split())
    assert "alert channel file" not in out


def test_config_check_counts_a_praise_channel_as_used(runner, project) -> None:
    Path("settings.toml").write_text(
        SETTINGS + '[alerts.channels.fans]\ntype = "jsonl"\noptions = { path = "fans.jsonl" }\n'
        '[alerts.praise]\nchannels = ["fans"]\n', encoding="utf-8")
    out = run(runner, "config", "check")
    assert "alert channel fans" not in out


def test_a_search_with_nothing_to_look_for_says_so(runner, project) -> None:
    run(runner, "import", "export.jsonl")
    for words in ("-leaks", "🚀", '"'):
        result = runner.invoke(cli, ["mentions", "search", "--", words])
        assert result.exit_code == 2 and "nothing to search for" in result.output


def test_config_show_saved_elsewhere_loads_back_the_same_database(runner, tmp_path, monkeypatch) -> None:
    from monitor.core.config import load_settings

    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    Path("sub/s.toml").write_text('database = "rel.db"\n[classifier]\nmodel = "lexicon"\n', encoding="utf-8")
    out = runner.invoke(cli, ["--config", "sub/s.toml", "config", "show"]).output
    Path("sub/copy.toml").write_text(out, encoding="utf-8")
    original, copy = load_settings(Path("sub/s.toml")), load_settings(Path("sub/copy.toml"))
    assert Path(copy.database).resolve() == Path(original.database).resolve()


def test_mentions_in_other_languages_are_listed_with_their_language(runner, project) -> None:
    """What the digest points to: `mentions list --label unscored` shows the posts a person has to read."""
    rows = [{"id": "es1", "text": "Acme me ha cobrado dos veces y nadie responde. Una vergüenza.",
             "created_at": "2026-11-20T10:00:00Z", "author": "ana"},
            {"id": "fr1", "text": "Livraison Acme impeccable, merci beaucoup !", "created_at": "2026-11-20T11:00:00Z",
             "author": "luc"}, ROWS[0]]
    Path("other.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    run(runner, "import", "other.jsonl")
    listed = run(runner, "mentions", "list", "--label", "unscored")
    assert "unscored es" in listed and "unscored fr" in listed
    assert "me ha cobrado" in listed and "merci beaucoup" in listed and "lost my parcel" not in listed
    assert listed.index("merci beaucoup") < listed.index("me ha cobrado")  # newest first
    assert "unscored: in a language the model does not read" in " ".join(
        run(runner, "mentions", "list", "--help").split())


TWO_CHANNELS = SETTINGS.replace('channels = ["file"]', 'channels = ["team", "file"]') + """
[alerts.channels.team]
type = "jsonl"
options = { path = "team.jsonl" }
"""


def test_an_alert_on_two_channels_is_listed_once_with_both_numbers_and_closes_once(
        runner, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("settings.toml").write_text(TWO_CHANNELS, encoding="utf-8")
    Path("export.jsonl").write_text(json.dumps(ROWS[0]) + "\n", encoding="utf-8")
    run(runner, "import", "export.jsonl")
    run(runner, "alerts", "dispatch")
    listed = run(runner, "alerts", "list")
    assert "#1 " in listed and "#2 " not in listed
    assert "mention via team #1, file #2" in listed
    assert "one number per channel" in " ".join(listed.split())
    assert "alert #2 (the file copy of #1)" in run(runner, "alerts", "show", "2")
    assert "copy of" not in run(runner, "alerts", "show", "1")

    assert "alert #1 closed as resolved by sam" in run(runner, "alerts", "resolve", "1", "--as", "sam")
    again = run(runner, "alerts", "resolve", "2", "--as", "kim")
    assert "alert #2 (the file copy of #1) is already resolved by sam at " in again
    assert again.rstrip().endswith("UTC; nothing changed")
    claimed = run(runner, "alerts", "claim", "1", "--as", "kim")
    assert "alert #1 is already resolved by sam" in claimed and "nothing changed" in claimed
    assert "resolved by sam" in run(runner, "alerts", "list") and "kim" not in run(runner, "alerts", "list")


def test_classify_reads_standard_input_and_writes_standard_output(runner, project) -> None:
    rows = "\n".join(json.dumps({"id": i, "text": t}) for i, t in enumerate(["I hate this so much", "Lovely"]))
    result = runner.invoke(cli, ["classify", "-", "--model", "lexicon"], input=rows + "\n")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [(line["id"], line["label"]) for line in lines] == [("0", "negative"), ("1", "positive")]
    csv_in = "id,text\nr1,I hate this so much\n"
    result = runner.invoke(cli, ["classify", "-", "--model", "lexicon", "-o", "out.jsonl"], input=csv_in)
    assert result.exit_code == 0, result.output
    assert json.loads(Path("out.jsonl").read_text(encoding="utf-8"))["id"] == "r1"
    result = runner.invoke(cli, ["classify", "-", "--model", "lexicon"], input='[{"id": "a", "text": "Awful"}]')
    assert result.exit_code == 0 and '"id": "a", "label": "negative"' in result.output, result.output


def test_classify_exits_2_when_no_row_could_be_classified_and_0_for_an_empty_file(runner, project) -> None:
    Path("out.jsonl").write_text("earlier results\n", encoding="utf-8")
    Path("notext.csv").write_text("id,body_text\n1,a\n2,b\n", encoding="utf-8")
    result = runner.invoke(cli, ["classify", "notext.csv", "--model", "lexicon", "-o", "out.jsonl"])
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert errors == ["Error: notext.csv: nothing was classified, every row has an error "
                      "(line 2: no 'text' value); out.jsonl left as it was"]
    assert Path("out.jsonl").read_text(encoding="utf-8") == "earlier results\n"
    for empty in ("id,text\n", ""):
        Path("empty.csv").write_text(empty, encoding="utf-8")
        result = runner.invoke(cli, ["classify", "empty.csv", "--model", "lexicon"])
        assert result.exit_code == 0 and "0 texts classified" in result.output, result.output
    Path("latin1.csv").write_bytes("id,text\n1,caf\xe9 awful\n".encode("latin-1"))
    result = runner.invoke(cli, ["classify", "latin1.csv", "--model", "lexicon"])
    assert result.exit_code == 2 and "nothing was classified: save the file as UTF-8 and classify it again" \
        in result.output and "imported" not in result.output


def test_classify_through_a_link_replaces_the_link_and_leaves_its_target(runner, project) -> None:
    Path("in.csv").write_text("id,text\nr1,I hate this so much\n", encoding="utf-8")
    target = Path("shared.jsonl")
    target.write_text("someone else's\n", encoding="utf-8")
    target.chmod(0o644)
    Path("link.jsonl").symlink_to(target)
    result = runner.invoke(cli, ["classify", "in.csv", "--model", "lexicon", "-o", "link.jsonl"])
    assert result.exit_code == 0, result.output
    assert not Path("link.jsonl").is_symlink() and '"r1"' in Path("link.jsonl").read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat("link.jsonl").st_mode) == 0o600
    assert target.read_text(encoding="utf-8") == "someone else's\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


@pytest.mark.parametrize("to_file", [True, False], ids=["file", "stdout"])
@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])  # Ctrl-C; timeout, systemd and docker stop
def test_classify_interrupted_leaves_the_old_output_or_says_what_is_partial(project, to_file: bool, stop: str) -> None:
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parent.parent
    with Path("big.csv").open("w", encoding="utf-8") as fh:
        fh.write("id,text\n" + "".join(f"{i},Acme is awful number {i}, I hate it\n" for i in range(100_000)))
    Path("out.jsonl").write_text("earlier results\n", encoding="utf-8")
    command = [sys.executable, "-m", "monitor", "classify", "big.csv", "--model", "lexicon", "--batch-size", "16"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(command + (["-o", "out.jsonl"] if to_file else []), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    if to_file:
        while time.monotonic() < deadline and not any(p.stat().st_size for p in project.glob(".out.jsonl.*.partial")):
            time.sleep(0.05)
    else:
        assert process.stdout is not None and process.stdout.readline().startswith(b"{")
    process.send_signal(getattr(signal, stop))
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()  # read whole: communicate() skips what is buffered
    assert process.wait(timeout=60) == 130, err
    assert b"Traceback" not in err and b"Aborted" not in err
    if to_file:
        assert "interrupted: nothing written to out.jsonl, left as it was" in err.decode()
        assert Path("out.jsonl").read_text(encoding="utf-8") == "earlier results\n"
        assert not list(project.glob(".out.jsonl.*"))
    else:
        import re

        said = re.search(r"interrupted: (\d+) of 100000 rows written to standard output \(partial\)", err.decode())
        assert said, err
        assert int(said[1]) <= len(out.splitlines()) + 1 < 100_000  # every row it counts was written


def test_alerts_dispatch_sends_everything_due_not_only_the_first_pass(runner, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("settings.toml").write_text(SETTINGS, encoding="utf-8")
    rows = [{"id": f"c{i}", "text": f"Acme lost parcel number {i * 7919} and order {i}: terrible, awful service",
             "created_at": "2026-11-20T10:00:00Z", "author": f"user{i}"} for i in range(230)]
    Path("many.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    run(runner, "import", "many.jsonl")
    out = run(runner, "alerts", "dispatch")
    sent, grouped = (int(out.split(" sent")[0].split()[-1]), int(out.split(" joined")[0].split()[-1]))
    assert sent + grouped == 230, out
    assert "pending" not in run(runner, "alerts", "list", "--status", "pending", "--limit", "5")

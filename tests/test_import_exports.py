"""Exports as social tools write them: capitalised headers, mapped columns that are absent, US dates."""

from __future__ import annotations

import codecs

import pytest

from collectors.file import FileCollector
from monitor.app.pipeline import run_collector
from monitor.store import Store

pytestmark = pytest.mark.both_backends

SETTINGS = """
[[brands]]
name = "Brewmatic"
queries = ["brewmatic"]

[alerts.channels.file]
type = "jsonl"
options = { path = "alerts.jsonl" }

[[alerts.routes]]
channels = ["file"]
"""

# An app-review export (AppFollow-like): capitalised headers, a space after one comma.
REVIEWS = """Date,Rating,Title,Review, Author,Version,Country
2026-11-20T10:00:00Z,1,Broken,"Brewmatic leaks.
Second unit.",ann,3.0.1,gb
2026-11-21T10:00:00Z,5,Great,Brewmatic makes a lovely flat white ☕,bob,3.1.0,us
"""


@pytest.fixture
def settings(make_settings):
    return make_settings(SETTINGS)


def _import(store: Store, settings, path, lexicon, **kwargs):
    collector = FileCollector(settings, path, **kwargs)
    return collector, run_collector(store, settings, collector, kind="import", classifier=lexicon)


def test_capitalised_headers_are_the_known_columns(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes(codecs.BOM_UTF8 + REVIEWS.encode("utf-8"))  # as Excel saves "CSV UTF-8"
    collector, report = _import(store, settings, path, lexicon)
    assert collector.report.errors == []
    assert report.new == 2
    rows = {r.author: store.mention(r.source, r.external_id) for r in store.list_mentions()}
    assert rows["ann"].rating == 1 and rows["ann"].kind == "review"
    assert rows["ann"].app_version == "3.0.1" and rows["ann"].country == "gb"
    assert rows["ann"].text == "Brewmatic leaks.\nSecond unit."
    assert rows["bob"].rating == 5


def test_a_mapped_column_matches_whatever_its_case(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "sprout.csv"
    path.write_text("Date,Message Type,Message\n2026-11-20T10:00:00Z,Received Mention,Brewmatic broke\n",
                    encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon, mapping={"text": "message"})
    assert collector.report.errors == [] and report.new == 1


def test_missing_columns_are_named_with_the_columns_there_are(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "sprout.csv"
    path.write_text("Date,Network,Message\n2026-11-20T10:00:00Z,Twitter,Brewmatic broke\n", encoding="utf-8")
    collector, _ = _import(store, settings, path, lexicon, mapping={"text": "Mesage"})
    [(line, error)] = collector.report.errors
    assert line == 2
    assert error == ("no column 'Mesage' (from --map text=Mesage); "
                     "the columns are 'Date', 'Network', 'Message'")

    path.write_text("When,Body text\n2026-11-20T10:00:00Z,Brewmatic broke\n", encoding="utf-8")
    collector, _ = _import(store, settings, path, lexicon)
    [(_, error)] = collector.report.errors
    assert "--map text=COLUMN" in error and "'When', 'Body text'" in error


def test_an_unreadable_date_points_at_date_format(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "sprout.csv"
    path.write_text("Date,Message\n11/28/2026 2:03 pm,Brewmatic broke\n", encoding="utf-8")
    collector, _ = _import(store, settings, path, lexicon)
    [(_, error)] = collector.report.errors
    assert error.startswith("cannot read the date '11/28/2026 2:03 pm': give its format with --date-format")
    collector, report = _import(store, settings, path, lexicon, date_format="%m/%d/%Y %I:%M %p")
    assert collector.report.errors == [] and report.new == 1
    assert store.list_mentions()[0].created_at == "2026-11-28T14:03:00.000Z"


def test_a_reddit_score_is_upvotes_not_stars(store, settings, tmp_path, lexicon) -> None:
    # 5 upvotes read as 5 stars made this complaint "positive" and never alerted; 153 failed the row.
    path = tmp_path / "reddit.csv"
    path.write_text("id,created_utc,author,score,type,body\n"
                    "k1,1795900000,ann,5,comment,Brewmatic lost my order again. Terrible awful service.\n"
                    "k2,1795900100,bob,153,submission,Brewmatic broke after a week. Awful.\n",
                    encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon, mapping={"created_at": "created_utc"})
    assert collector.report.errors == [] and report.new == 2
    rows = {r.external_id: store.mention("file", r.external_id) for r in store.list_mentions()}
    assert rows["k1"].rating is None and rows["k1"].kind == "comment"
    assert rows["k2"].rating is None and rows["k2"].kind == "post"
    assert report.alerts == 2


def test_a_play_console_star_rating_is_the_rating(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "reviews.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + (
        "Review Submit Date and Time,Star Rating,Review Text\n"
        "2026-11-22T00:10:00Z,2,Brewmatic app keeps logging me out\n").encode("utf-16-le"))
    collector, report = _import(store, settings, path, lexicon, mapping={"created_at": "Review Submit Date and Time",
                                                                         "text": "Review Text"})
    assert collector.report.errors == [] and report.new == 1
    assert store.mention("file", store.list_mentions()[0].external_id).rating == 2


BRANDWATCH = """Report:,Mentions export
Brand:,Brewmatic
From:,2026-11-23
To:,2026-11-29

Date,Title,Url,Author,Full Text
2026-11-23 10:00:12.0,,https://x.example/1,ann,Brewmatic leaks everywhere
2026-11-23 11:00:12.0,,https://x.example/2,bob,Brewmatic is lovely
"""


def test_a_file_whose_every_row_fails_is_an_error_saying_why_once(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("LISTENPOST_")]:
        monkeypatch.delenv(name)
    (tmp_path / "settings.toml").write_text('[classifier]\nmodel = "lexicon"\n' + SETTINGS, encoding="utf-8")
    (tmp_path / "bw.csv").write_text(BRANDWATCH, encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "bw.csv"])
    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: bw.csv: nothing was imported, every row has an error: line 1 is read as "
                           "the header and has 2 columns, but most rows have 5; if the export starts with a title")

    (tmp_path / "bw.csv").write_text(BRANDWATCH.split("\n\n", 1)[1], encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "bw.csv", "--map", "text=Full Text"])
    assert result.exit_code == 0, result.output
    assert "2 new mentions" in result.output
    # Some rows imported, some not: the errors are listed and the command succeeds.
    (tmp_path / "half.csv").write_text("Date,Text\n2026-11-23,Brewmatic broke\nsoon,Brewmatic broke\n",
                                       encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", "half.csv"])
    assert result.exit_code == 0 and "1 new mention," in result.output
    # Every row already stored is no error either.
    assert CliRunner().invoke(cli, ["import", "half.csv"]).exit_code == 0


def test_classify_reads_the_columns_import_reads(tmp_path, monkeypatch) -> None:
    import json

    from click.testing import CliRunner

    from monitor.cli import cli

    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("LISTENPOST_")]:
        monkeypatch.delenv(name)
    (tmp_path / "reviews.csv").write_bytes(codecs.BOM_UTF8 + REVIEWS.encode("utf-8"))
    result = CliRunner().invoke(cli, ["classify", "reviews.csv", "--model", "lexicon", "-o", "out.jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["label"] for r in rows] == ["negative", "positive"]  # "Review" is the text; 1 star alerts
    assert rows[0]["alert"] is True and "error" not in rows[0]
    assert "2 texts classified" in result.output and "not classified" not in result.output
    # A bad rating is no row "without text".
    (tmp_path / "bad.csv").write_text("text,rating\nfine,4\nBrewmatic broke,10\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["classify", "bad.csv", "--model", "lexicon"])
    assert "1 row not classified (each has an \"error\" in the output)" in result.output
    assert "rating must be 1 to 5" in result.output


def test_import_brand_must_be_a_configured_brand(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("LISTENPOST_")]:
        monkeypatch.delenv(name)
    (tmp_path / "settings.toml").write_text('[classifier]\nmodel = "lexicon"\n' + SETTINGS, encoding="utf-8")
    (tmp_path / "in.csv").write_text("date,text\n2026-11-23,It broke after a week. Terrible awful.\n",
                                     encoding="utf-8")
    # A typo stored the rows under a brand no route knows: never alerted, and nothing said so.
    result = CliRunner().invoke(cli, ["import", "in.csv", "--brand", "Brewmatik"])
    assert result.exit_code == 2
    assert ("'Brewmatik' is not a brand in settings.toml (brands: Brewmatic); mentions of it would never "
            "be alerted") in result.output
    assert not (tmp_path / "listenpost.db").exists() or "new mentions" not in result.output
    result = CliRunner().invoke(cli, ["import", "in.csv", "--brand", "brewmatic"])
    assert result.exit_code == 0 and "1 alert queued" in result.output
    assert "Brewmatic" in CliRunner().invoke(cli, ["mentions", "list"]).output


def test_two_rows_with_the_same_date_and_text_are_named_not_counted_as_already_stored(
        store, settings, tmp_path, lexicon) -> None:
    # App-store exports give a day, not a time: two customers writing "Brewmatic great" that day
    # had one id, and the second was reported as "already stored" on the file's first import.
    path = tmp_path / "reviews.csv"
    path.write_text("Date,Rating,Review,Author\n2026-11-20,5,Brewmatic great,ann\n"
                    "2026-11-20,1,Brewmatic broke,bob\n2026-11-20,5,Brewmatic great,carl\n", encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    assert report.new == 2 and report.fetched == 2
    assert collector.report.errors == [(4, "the same date and text as line 2, so it is stored once "
                                           "(an 'id' column keeps rows apart)")]
    # Rows with their own ids are kept apart by them.
    path.write_text("id,Date,Review\na,2026-11-21,Brewmatic great\nb,2026-11-21,Brewmatic great\n", encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    assert collector.report.errors == [] and report.new == 2


def test_output_cut_short_by_a_pipe_ends_quietly(tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTENPOST_")}
    (tmp_path / "settings.toml").write_text('[classifier]\nmodel = "lexicon"\n' + SETTINGS, encoding="utf-8")
    rows = "".join(f"r{i},2026-11-2{i % 9}T10:00:00Z,Brewmatic review number {i} is fine\n" for i in range(3000))
    (tmp_path / "in.csv").write_text("id,date,text\n" + rows, encoding="utf-8")
    listenpost = [sys.executable, "-m", "monitor"]
    subprocess.run([*listenpost, "import", "in.csv", "--no-classify"], cwd=tmp_path, env=env, check=True,
                   capture_output=True, timeout=300)
    done = subprocess.run(f"{' '.join(listenpost)} mentions list --limit 3000 | head -1", shell=True,
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""  # was "Error: Broken pipe"


def test_brand_filters_ignore_case(tmp_path, monkeypatch) -> None:
    from click.testing import CliRunner

    from monitor.cli import cli

    monkeypatch.chdir(tmp_path)
    for name in [n for n in __import__("os").environ if n.startswith("LISTENPOST_")]:
        monkeypatch.delenv(name)
    (tmp_path / "settings.toml").write_text('[classifier]\nmodel = "lexicon"\n' + SETTINGS, encoding="utf-8")
    (tmp_path / "in.csv").write_text("date,text\n2026-11-23,Brewmatic broke after a week. Terrible awful.\n",
                                     encoding="utf-8")
    assert CliRunner().invoke(cli, ["import", "in.csv"]).exit_code == 0
    for command in (["mentions", "list"], ["mentions", "search", "broke"], ["alerts", "list"]):
        result = CliRunner().invoke(cli, [*command, "--brand", "brewmatic"])
        assert result.exit_code == 0 and "Brewmatic broke" in result.output, (command, result.output)
    assert "No mentions match." in CliRunner().invoke(cli, ["mentions", "list", "--brand", "Nobody"]).output


def test_a_json_array_export_is_read_as_its_objects(store, settings, tmp_path, lexicon) -> None:
    import json

    rows = [{"url": f"https://forum.example/{i}", "published": f"2026-11-28T14:0{i}:12+01:00",
             "content": f"Brewmatic broke again {i}, awful"} for i in range(3)]
    path = tmp_path / "talkwalker.json"
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")  # was 29 "not valid JSON" lines
    collector, report = _import(store, settings, path, lexicon)
    assert collector.report.errors == [] and report.new == 3
    assert store.count_mentions() == 3
    # On one line, in a .jsonl file, too.
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(rows), encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    assert collector.report.errors == [] and report.fetched == 3 and report.new == 0
    # A broken object is named at its line; what came before it is imported.
    path = tmp_path / "broken.json"
    path.write_text('[\n {"content": "Brewmatic fine", "published": "2026-11-28"},\n {"content": oops}\n]\n',
                    encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    assert report.new == 1
    assert collector.report.errors == [(3, "not valid JSON (Expecting value at column 14); "
                                           "the rest of the array cannot be read")]


def test_a_nested_json_author_is_its_name_and_map_takes_dotted_paths(store, settings, tmp_path, lexicon) -> None:
    import json

    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps({"id": "a1", "published": "2026-11-28T10:00:00Z", "content": "Brewmatic broke",
                                "author": {"name": "Ann B", "followers": 10},
                                "extra": {"headline": "Brewmatic review"}}) + "\n", encoding="utf-8")
    _import(store, settings, path, lexicon)
    assert store.mention("file", "a1").author == "Ann B"  # was "{'name': 'Ann B', 'followers': 10}"
    path.write_text(json.dumps({"id": "a2", "published": "2026-11-28T10:00:00Z",
                                "post": {"body": "Brewmatic broke", "by": {"handle": "@ann"}}}) + "\n",
                    encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon,
                                mapping={"text": "post.body", "author": "post.by.handle"})
    assert collector.report.errors == [] and report.new == 1
    assert store.mention("file", "a2").author == "@ann"


def test_a_tweets_source_column_is_its_app_not_the_source(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "tweets.csv"
    path.write_text('id,created_at,screen_name,text,source\n'
                    '1,Sat Nov 28 14:03:12 +0000 2026,ann,Brewmatic broke.,"<a href=""http://twitter.com/download/'
                    'iphone"" rel=""nofollow"">Twitter for iPhone</a>"\n'
                    '2,Sat Nov 28 15:03:12 +0000 2026,bob,Brewmatic is great,Twitter Web App\n'
                    '3,Sat Nov 28 16:03:12 +0000 2026,cat,Brewmatic again,trustpilot\n', encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    assert collector.report.errors == [] and report.new == 3
    assert {(r.external_id, r.source) for r in store.list_mentions()} == {
        ("1", "file"), ("2", "file"), ("3", "trustpilot")}
    [(line, note)] = collector.report.notes  # said once, not per row
    assert line == 2 and "not a source name" in note and "--source" in note


# A Brandwatch mentions export: the text is "Full Text", reach and the tool's verdict have their
# own headers, dates carry no time zone.
BRANDWATCH_MENTIONS = (
    "Query Id,Date,Url,Sentiment,Page Type,Author,Full Text,Twitter Followers,Reach (new)\n"
    "1,2026-11-20 09:30:00.0,https://twitter.com/ann/status/1,negative,twitter,@ann,"
    'Brewmatic leaked all over the counter. order #B-1234,"1,204","1,204"\n'
    "2,2026-11-21 10:00:00.0,https://www.reddit.com/r/coffee/comments/x/,positive,reddit,u/bob,"
    "Brewmatic makes a lovely flat white,,12.4K\n"
)


def test_a_brandwatch_export_needs_no_map(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "brandwatch.csv"
    path.write_text(BRANDWATCH_MENTIONS, encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    assert collector.report.errors == [] and report.new == 2
    rows = {r.author: store.mention(r.source, r.external_id) for r in store.list_mentions()}
    assert rows["@ann"].text.startswith("Brewmatic leaked")
    assert rows["@ann"].reach == 1204 and rows["@ann"].vendor_sentiment == "negative"
    assert rows["u/bob"].reach == 12400 and rows["u/bob"].vendor_sentiment == "positive"


def test_an_alert_routed_to_two_channels_counts_once(make_settings, store, tmp_path, lexicon) -> None:
    settings = make_settings(SETTINGS.replace('channels = ["file"]', 'channels = ["file", "console"]')
                             + '\n[alerts.channels.console]\ntype = "console"\n')
    path = tmp_path / "complaint.csv"
    path.write_text("id,date,text\nc1,2026-11-20T10:00:00Z,Brewmatic broke after a week. Awful.\n",
                    encoding="utf-8")
    _collector, report = _import(store, settings, path, lexicon)
    # Two outbox rows (one per channel), one alert: `alerts list` shows it once, and so does the count.
    assert report.alerts == 1


def test_reach_that_is_ambiguous_or_not_a_number_is_refused_not_misread() -> None:
    from collectors.file import parse_reach

    assert parse_reach("12,400") == 12400 and parse_reach("1,234,567") == 1234567
    assert parse_reach("1.2M") == 1_200_000 and parse_reach("1,2K") == 1200  # decimal comma
    for bad in ("12,4", "12,40", "1e309", "nan", "inf", "abc"):
        with pytest.raises(ValueError, match="reach"):
            parse_reach(bad)


def test_store_review_exports_need_no_map(store, settings, tmp_path, lexicon) -> None:
    """Google Play's export (reviewId, content, score, at) and App Store Connect's (Nickname, Last Modified)."""
    play = tmp_path / "play.csv"
    play.write_text("reviewId,userName,content,score,thumbsUpCount,reviewCreatedVersion,at\n"
                    "gp:1,ann,Brewmatic app logs me out every day. Awful.,1,3,4.2.0,2026-11-20 10:00:00\n"
                    "gp:2,bob,Brewmatic app is lovely,5,0,4.2.0,2026-11-21 10:00:00\n", encoding="utf-8")
    collector, report = _import(store, settings, play, lexicon)
    assert collector.report.errors == [] and report.new == 2
    ann = store.mention("file", "gp:1")
    assert (ann.author, ann.rating, ann.app_version, ann.kind) == ("ann", 1, "4.2.0", "review")
    assert ann.created_at.isoformat() == "2026-11-20T10:00:00+00:00"
    assert store.mention("file", "gp:2").rating == 5

    appstore = tmp_path / "appstore.csv"
    appstore.write_text("Rating,Title,Review,Last Modified,Nickname\n"
                        "2,Crashes,Brewmatic crashes on launch,2026-11-22T08:00:00Z,cara\n", encoding="utf-8")
    collector, report = _import(store, settings, appstore, lexicon)
    assert collector.report.errors == [] and report.new == 1
    [cara] = [m for m in store.list_mentions() if m.author == "cara"]
    assert cara.title == "Crashes" and store.mention("file", cara.external_id).rating == 2

    console = tmp_path / "console.csv"
    console.write_text("Package Name,App Version Name,Reviewer Language,Review Submit Date and Time,Star Rating,"
                       "Review Title,Review Text,Review Link\n"
                       "com.brewmatic,4.1.0,en,2026-11-22T09:00:00Z,1,,Brewmatic app will not pair,"
                       "https://play.google.com/r/1\n", encoding="utf-8")
    collector, report = _import(store, settings, console, lexicon)
    assert collector.report.errors == [] and report.new == 1
    [row] = [m for m in store.list_mentions() if m.url == "https://play.google.com/r/1"]
    assert store.mention("file", row.external_id).app_version == "4.1.0"


def test_score_and_at_are_stars_and_date_only_in_a_google_play_export(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "other.csv"
    path.write_text("id,score,at,created_at,text\n"
                    "r1,5,somewhere,2026-11-20T10:00:00Z,Brewmatic lost my order again. Terrible awful service.\n",
                    encoding="utf-8")
    collector, _ = _import(store, settings, path, lexicon)
    assert collector.report.errors == [] and store.mention("file", "r1").rating is None


def test_one_post_is_one_mention_however_the_export_writes_its_id(store, settings, tmp_path, lexicon) -> None:
    import json

    complaint = "Brewmatic broke on day two, awful, I want a refund"
    path = tmp_path / "posts.jsonl"
    for n, raw in enumerate(['1', '1.0', '"1 "', '" 1"', '1e22', '10000000000000000000000', '"01"']):
        path.write_text(json.dumps({"text": complaint, "created_at": "2026-11-20T10:00:00Z", "source": "x"})[:-1]
                        + f', "id": {raw}}}\n', encoding="utf-8")
        collector, report = _import(store, settings, path, lexicon)
        assert collector.report.errors == [], raw
        assert report.new == (1 if n in (0, 4, 6) else 0), raw  # "01" is the export's own string
    assert sorted(m.external_id for m in store.list_mentions()) == ["01", "1", "10000000000000000000000"]
    assert len([a for a in store.list_alerts() if a.kind == "mention"]) == 3
    # Without an id the date and text make it: blank space around or inside the words is no new post.
    path = tmp_path / "reviews.csv"
    for n, text in enumerate(["Brewmatic great", "Brewmatic great ", " Brewmatic  great"]):
        path.write_text(f"Date,Review\n2026-11-20,{text}\n", encoding="utf-8")
        collector, report = _import(store, settings, path, lexicon)
        assert (collector.report.errors, report.new) == ([], 1 if n == 0 else 0), text


def test_an_id_that_is_no_id_is_a_line_error_not_a_merge(store, settings, tmp_path, lexicon) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('{"id": NaN, "text": "Brewmatic lid cracked", "created_at": "2026-11-20T10:00:00Z"}\n'
                    '{"id": NaN, "text": "Brewmatic app deleted my files", "created_at": "2026-11-20T11:00:00Z"}\n'
                    '{"id": true, "text": "Brewmatic broke again", "created_at": "2026-11-20T12:00:00Z"}\n',
                    encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    assert report.new == 0
    assert [line for line, _ in collector.report.errors] == [1, 2, 3]
    assert "id NaN is not an id" in collector.report.errors[0][1]


def test_a_review_of_the_brands_own_app_is_the_brands_by_its_package_name(store, make_settings, tmp_path,
                                                                           lexicon) -> None:
    settings = make_settings('[classifier]\nmodel = "lexicon"\n[[brands]]\nname = "Brewmatic"\n'
                             'queries = ["brewmatic"]\napps = { googleplay = ["com.brewmatic.app"] }\n')
    path = tmp_path / "console.csv"
    path.write_text("Package Name,Review Submit Date and Time,Star Rating,Review Text\n"
                    "com.brewmatic.app,2026-11-22T09:00:00Z,1,Logs me out every day. Useless.\n"
                    "com.other.app,2026-11-22T09:05:00Z,1,Logs me out every day. Useless!\n", encoding="utf-8")
    collector, report = _import(store, settings, path, lexicon)
    assert collector.report.errors == [] and report.new == 2
    assert sorted(m.brand for m in store.list_mentions()) == ["", "Brewmatic"]
    assert len(store.list_alerts(limit=10)) == 1  # the brand's own app's 1-star review alerts; the other app's not

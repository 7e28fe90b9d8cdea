"""`listenpost browse`: the database in Datasette, read-only, with the project's descriptions, facets
and canned queries; served for real on loopback and asked over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from alerts.outbox.dispatch import dispatch_due
from monitor.app.pipeline import ingest
from monitor.app.webview import metadata
from monitor.cli import cli
from monitor.core.records import Classification, Mention, engagement, utcnow
from monitor.store import Store
from monitor.store.browse import CANNED_QUERIES

REPORT = "Acme tracking page is down again, my parcel is stuck and the app will not load at all today"


def stocked(store: Store, make_settings: Any, tmp_path: Path, lexicon: Any) -> None:
    """Three reports of one problem (an incident), and a mention of praise."""
    out = tmp_path / "alerts.jsonl"
    settings = make_settings(f'[[brands]]\nname = "Acme"\n[alerts.channels.file]\ntype = "jsonl"\n'
                             f'options = {{ path = "{out}" }}\n[[alerts.routes]]\nchannels = ["file"]\n')
    reports = [Mention(source="x", external_id=f"r{n}", text=REPORT, brand="Acme", author=f"user{n}",
                       url=f"https://x.com/u/status/{n}", created_at=utcnow() - timedelta(hours=n)) for n in (1, 2, 3)]
    ingest(store, settings, reports, lexicon)
    dispatch_due(store, settings)
    store.save_mentions([Mention(source="x", external_id="fan", text="Acme is brilliant", brand="Acme",
                                 # a minute ago: posted "now" can fall in the same millisecond as the query's now
                                 author="fan", url="https://x.com/fan/status/9",
                                 created_at=utcnow() - timedelta(minutes=1),
                                 engagement=engagement(followers=900))])
    store.save_classifications([Classification("x", "fan", "test", "positive", 0.01, 0.04, 0.95, alert=False,
                                               reason="praise")])


def test_canned_queries_answer_on_a_real_database(store: Store, make_settings: Any, tmp_path: Path,
                                                  lexicon: Any) -> None:
    stocked(store, make_settings, tmp_path, lexicon)
    answers = {name: list(store.db.query(sql)) for name, (_, _, sql) in CANNED_QUERIES.items()}
    oldest = answers["open_negatives_by_age"][0]
    assert oldest["author"] == "user3" and oldest["post"] == "https://x.com/u/status/3"
    assert 2.9 < oldest["hours_waiting"] < 3.1
    assert [r["author"] for r in answers["praise_to_thank"]] == ["fan"]
    [incident] = answers["incidents_this_week"]
    assert (incident["brand"], incident["kind"], incident["alerts"], incident["notice_posted_by"]) == (
        "Acme", "near-duplicates", 3, None)
    labeled = {r["author"]: r for r in store.db.query("SELECT * FROM labeled_mentions")}
    assert labeled["fan"]["label"] == "positive" and labeled["fan"]["reason"] == "praise"
    assert labeled["fan"]["post"] == "https://x.com/fan/status/9"


def test_datasette_shows_descriptions_facets_and_refuses_writes(db_path: Path, store: Store, make_settings: Any,
                                                                tmp_path: Path, lexicon: Any) -> None:
    from datasette.app import Datasette

    stocked(store, make_settings, tmp_path, lexicon)
    name = db_path.stem
    app = Datasette([str(db_path)], metadata=metadata(name))

    async def ask() -> dict[str, Any]:
        table = await app.client.get(f"/{name}/labeled_mentions.json?_facet=brand&_facet=source&_facet=label")
        page = await app.client.get(f"/{name}/labeled_mentions")
        home = await app.client.get(f"/{name}.json")
        write = await app.client.get(f"/{name}.json?sql=" + "DELETE FROM mentions")
        return {"table": table.json(), "page": page.text, "home": home.json(), "write": write.json()}

    answer = asyncio.run(ask())
    facets = answer["table"]["facet_results"]
    facets = facets.get("results", facets)  # newer Datasette nests them
    assert {"brand", "source", "label"} <= set(facets)
    assert "Every stored mention with its latest sentiment label" in answer["page"]
    assert 'href="https://x.com/fan/status/9"' in answer["page"]  # a mention links to its post
    hidden = {t["name"] for t in answer["home"]["tables"] if t["hidden"]}
    assert {"mentions_fts", "migrations"} <= hidden
    assert answer["write"]["ok"] is False and "SELECT" in answer["write"]["error"]
    assert store.count_mentions() == 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_browse_serves_the_database_on_this_machine(db_path: Path, store: Store, make_settings: Any,
                                                     tmp_path: Path, lexicon: Any) -> None:
    stocked(store, make_settings, tmp_path, lexicon)
    store.close()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    server = subprocess.Popen([sys.executable, "-m", "monitor", "--db", str(db_path), "browse", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        answer = None
        for _ in range(100):
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/{db_path.stem}/praise_to_thank.json?_shape=array",
                                      timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert answer is not None and answer.status_code == 200
        assert [r["author"] for r in answer.json()] == ["fan"]
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    assert f"read-only at http://localhost:{port}/{db_path.stem}" in output
    assert server.returncode == 0, output  # a stop ends it cleanly, its metadata folder removed


def test_browse_without_a_database_says_so_in_one_line(runner: Any, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["--db", str(tmp_path / "none.db"), "browse"])
    assert result.exit_code == 2
    assert result.output.strip().endswith("no database here yet (run `listenpost collect` or `listenpost demo` first)")
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_metadata_is_json_and_names_every_query() -> None:
    meta = json.loads(json.dumps(metadata("lp")))
    assert set(meta["databases"]["lp"]["queries"]) == {"open_negatives_by_age", "praise_to_thank",
                                                        "incidents_this_week"}


def test_praise_to_thank_in_browse_leaves_out_future_dated_praise_as_mentions_thanks_does(store: Store) -> None:
    # A date after now made the rank's age negative or near zero: ranked anywhere, and shown in
    # browse although `mentions thanks` leaves it out.
    for key, when in (("now", utcnow() - timedelta(hours=1)), ("future", utcnow() + timedelta(hours=12))):
        store.save_mentions([Mention(source="x", external_id=key, text="Acme is brilliant", brand="Acme",
                                     author=key, created_at=when, engagement=engagement(followers=10))])
        store.save_classifications([Classification("x", key, "test", "positive", 0.01, 0.04, 0.95, alert=False,
                                                   reason="praise")])
    _, _, sql = CANNED_QUERIES["praise_to_thank"]
    assert [r["author"] for r in store.db.query(sql)] == ["now"]


def test_browse_prints_a_link_that_works_for_any_file_name(runner: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from datasette.cli import cli as datasette

    db = tmp_path / "lp#1 x.sqlite"
    Store(str(db)).close()
    served: list[list[str]] = []
    monkeypatch.setattr(datasette, "main", lambda args, **_: served.append(args))
    result = runner.invoke(cli, ["--db", str(db), "browse", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "read-only at http://localhost:8123/lp%231%20x (Ctrl-C stops it)" in result.output
    assert served and served[0][1] == str(db) and served[0][served[0].index("--host") + 1] == "127.0.0.1"

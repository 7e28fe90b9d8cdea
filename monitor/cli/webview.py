"""`listenpost browse`: the database in Datasette, read-only, bound to this machine by default."""

from __future__ import annotations

import importlib.util
import json
import signal
import tempfile
import threading
import webbrowser
from pathlib import Path
from urllib.parse import quote

import click

from monitor.cli import App, pass_app, say
from monitor.core.errors import InputError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but this machine lets others on the network read the mentions.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open it in the web browser too.")
@pass_app
def browse(app: App, host: str, port: int, open_browser: bool) -> None:
    """Browse the database in Datasette, read-only.

    Mentions with their labels (facets by brand, source and label, a link to each post), the
    alerts outbox, and canned queries: open negatives by age, praise to thank, incidents this
    week. Needs Datasette: pip install 'listenpost[browse]'.
    """
    from monitor.app.webview import LOCAL_HOSTS, metadata, serve_arguments
    from monitor.store import Store

    if importlib.util.find_spec("datasette") is None:
        raise InputError("Datasette is not installed: pip install 'listenpost[browse]' (or pip install datasette)")
    location = app.check_database()
    if location.kind != "sqlite":
        raise InputError(f"{location.display()}: browse serves an SQLite file with Datasette; for PostgreSQL "
                         "use psql or any PostgreSQL client (the same tables and views are there)")
    db_path = Path(location.path).expanduser()
    if not db_path.is_file():
        raise InputError(f"{db_path}: no database here yet (run `listenpost collect` or `listenpost demo` first)")
    Store(str(db_path)).close()  # brings an older database up to date, the browsing view included
    if host not in LOCAL_HOSTS:
        say(f"Listening on {host}: anyone who can reach this machine can read every mention.", err=True,
            fg="yellow")
    url = f"http://{'localhost' if host in LOCAL_HOSTS else host}:{port}/"
    with tempfile.TemporaryDirectory(prefix="listenpost-browse-") as folder:
        meta = Path(folder) / "metadata.json"
        meta.write_text(json.dumps(metadata(db_path.stem)), encoding="utf-8")
        # The database's page, quoted: a file named "lp#1 x.sqlite" is not the link ".../lp#1 x".
        page = url + quote(db_path.stem, safe="")
        click.echo(f"Browsing {db_path} read-only at {page} (Ctrl-C stops it)")
        if open_browser:
            threading.Timer(1.5, webbrowser.open, [page]).start()
        from datasette.cli import cli as datasette

        # A stop (systemd, docker, kill) ends it as Ctrl-C does: cleanly, the metadata folder removed.
        # Uvicorn shuts down on SIGTERM, then raises it again to whatever handler was there before.
        signal.signal(signal.SIGTERM, _stop)
        try:
            datasette.main(serve_arguments(db_path, meta, host=host, port=port), prog_name="datasette",
                           standalone_mode=False)
        except SystemExit as exc:  # uvicorn exits 1 when it cannot listen
            if exc.code:
                raise InputError(f"Datasette could not listen on {host}:{port} (in use already?)") from None


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(0)

"""Commands about sources: `sources` (credentials and last runs) and `backfill` (a past window)."""

from __future__ import annotations

import sys
import textwrap
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import click

from alerts.message import inline
from monitor.cli import App, pass_app, progress, say, width
from monitor.core.errors import InputError
from monitor.core.records import utcnow
from monitor.core.times import local_time, parse_date, parse_since

if TYPE_CHECKING:
    from collectors.base import BrandQuery
    from monitor.store import Store

PER_QUERY = 1000  # progress steps per query: thousandths of the window


def _when(app: App, value: str | None) -> str:
    try:
        return local_time(value, app.settings.tz)
    except ValueError:
        return value or "-"


@click.command()
@click.argument("source")
@click.option("--since", required=True, help="Start of the window: a date (UTC unless a zone is given), "
                                                  "or a span back from now such as 30d.")
@click.option("--until", help="End of the window (default: now).")
@click.option("--restart", is_flag=True, help="Start the window over instead of resuming it.")
@click.option("--no-classify", is_flag=True, help="Store only; classify later with `listenpost collect`.")
@pass_app
def backfill(app: App, source: str, since: str, until: str | None, restart: bool,
             no_classify: bool) -> None:
    """Collect SOURCE's mentions from a past window, newest first, then report coverage.

    \b
    Example:
      listenpost backfill hackernews --since 2026-10-01 --until 2026-11-01

    Progress is saved after every page: after a crash or Ctrl-C, the same command resumes
    where it stopped. The report gives, per query, the oldest and newest mention stored and
    any part of the window the source cannot reach (X searches 7 days, Reddit listings end
    after 1000 items, the App Store feed after 10 pages, a YouTube search finds 50 videos,
    Facebook and Instagram comments are read on the newest posts only).
    """
    from classifiers import load_active_classifier
    from collectors import build_collectors
    from collectors.base import Window
    from monitor.app.pipeline import run_collector

    if source == "file":
        raise InputError("file: use `listenpost import FILE` to import a file")
    start, end = parse_since(since, "--since"), parse_date(until, "--until")
    assert start is not None
    if start >= (end or utcnow()):
        raise InputError("--since must be before --until (or before now)")
    settings = app.settings
    built = next(build_collectors(settings, [source]))
    if built.collector is None:
        raise built.error or InputError(f"{source}: cannot be collected on its own")
    collector = built.collector
    scope = f"backfill {start.isoformat()}..{end.isoformat() if end else 'now'}"
    queries: list[BrandQuery] = [replace(q, scope=scope) for q in collector.queries()]
    if not queries:
        click.echo(f"{source}: nothing to ask for; add brand queries (or app ids) to the settings.")
        return
    classifier = None if no_classify else load_active_classifier(app.settings.classifier)
    with app.store() as store:
        if restart:
            for q in queries:
                store.save_cursor(source, q.key, None)
        try:
            # The bar measures how much of the window each query has walked back through.
            with progress(PER_QUERY * len(queries), f"Backfilling {source} (share of the window done)",
                          percent=True) as bar:
                def advance(_: int) -> None:
                    done = sum(_walked(store, source, q.key, start, end or utcnow()) for q in queries)
                    bar.update(max(0, done - bar.pos))

                report = run_collector(store, settings, collector, kind="backfill",
                                       window=Window(start, end), classifier=classifier,
                                       progress=advance, queries=[*queries])
        except KeyboardInterrupt:
            click.secho("\nInterrupted; run the same command again to resume.", fg="yellow", err=True)
            _coverage(app, store, source, queries)
            sys.exit(130)
        click.echo(f"{source}: fetched {report.fetched}, new {report.new}, "
                   f"negative {report.negatives}, alerts {report.alerts}, unreadable {report.skipped}")
        _coverage(app, store, source, queries)
    for error in report.errors:
        click.secho(f"  error: {error}", fg="red", err=True)
    if report.errors:
        sys.exit(1)


def _walked(store: Store, source: str, key: str, since: datetime, until: datetime) -> int:
    """How far one query's backfill has come, in thousandths of the window."""
    from collectors.base import walked

    return int(PER_QUERY * walked(store.cursor(source, key), since, until))


def _coverage(app: App, store: Store, source: str, queries: list[BrandQuery]) -> None:
    from collectors.base import coverage

    click.echo("Coverage:")
    for q in queries:
        state = coverage(store.cursor(source, q.key))
        name = q.key.rsplit("|", 1)[0]
        if state.get("count"):
            line = (f"  {name}: {state['count']} mentions, "
                    f"{_when(app, state.get('oldest'))} .. {_when(app, state.get('newest'))}")
        else:
            line = f"  {name}: no mentions in the window"
        if not state.get("done"):
            reached = state.get("reached")
            line += f" (not finished; reached {_when(app, reached)})" if reached else " (not finished)"
        click.echo(line)
        if state.get("gap"):
            click.secho(f"    {state['gap']}", fg="yellow")


@click.command("sources")
@pass_app
def sources(app: App) -> None:
    """List every source: enabled or not, credentials present or missing, last run, last error."""
    from collectors import SOURCES, collector_class
    from monitor.core.config import ENV_PREFIX, secret

    settings = app.settings
    with app.store() as store:
        runs = {r.source: r for r in store.last_runs()}
    for name in sorted(SOURCES):
        cls = collector_class(name)
        is_enabled = settings.source(name).enabled
        enabled = "enabled" if is_enabled else "disabled"
        missing = [ENV_PREFIX + c for c in cls.credentials if secret(c) is None]
        if not cls.credentials:
            creds = "no credentials needed"
        elif missing:
            creds = f"missing {', '.join(missing)}"
        else:
            creds = "credentials present"
        run = runs.get(name)
        # Wrapped to the terminal like every other listing: three missing variables or YouTube's
        # quota sentence would otherwise run far past 80 columns.
        head = textwrap.wrap(f"{name:<11} {enabled:<9} {creds}", width(), subsequent_indent=" " * 22,
                             break_on_hyphens=False)
        click.secho("\n".join(head), fg="yellow" if missing else None)
        # A disabled source spends nothing, so its budget sentence would only be noise.
        usage = cls.usage(settings) if is_enabled else None
        if usage:
            say(usage, " " * 12)
        say(f"last run {_when(app, run and run.last_run)}, last success {_when(app, run and run.last_success)}",
            " " * 12)
        if run and run.last_error:
            say(f"last error ({_when(app, run.last_error_at)}): {inline(run.last_error)}", " " * 12,
                fg="red")

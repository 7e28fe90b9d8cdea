"""Commands that look at what is stored: mentions, status, stats."""

from __future__ import annotations

import sys
from typing import Any

import click

from alerts.message import inline, plain, plural, truncate
from alerts.outbox.triage import LOW_CONFIDENCE, REASON_TEXT
from monitor.app.workers import WorkersReport, workers_report
from monitor.cli import App, cell, fit, pass_app, say, width, wrap
from monitor.core.errors import InputError
from monitor.core.records import LABELS, UNSCORED, utcnow
from monitor.core.rows import Job, ListedMention
from monitor.core.times import local_time, parse_since

LABEL_COLOURS = {"negative": "red", "neutral": "white", "positive": "green", "unscored": "blue"}


def _print_mentions(app: App, rows: list[ListedMention]) -> None:
    if not rows:
        click.echo("No mentions match.")
        return
    columns = width()
    click.echo(fit(f"{'posted':<21}{'source':<13}{'brand':<12}{'sentiment':<13}author", columns))
    for r in rows:
        label = r.label or "unclassified"
        shown = f"{label} {inline(r.language)}"[:12] if label == UNSCORED and r.language else label
        head = f"{local_time(r.created_at, app.settings.tz):<21}{cell(r.source, 13)}{cell(r.brand or '-', 12)}"
        why = REASON_TEXT.get(r.reason or "")
        rest = inline(r.author or "") + (f"  ({why})" if why else "")
        tail = fit(f"{head}{shown:<13}{rest}", columns)[len(head) + 13:]
        click.echo(head + click.style(f"{shown:<13}", fg=LABEL_COLOURS.get(label)) + tail)
        click.echo(f"    {plain(truncate(r.text, columns - 4))}")
        if r.url:
            click.echo("\n".join(wrap(inline(r.url), "    ", columns)))


_filters = [
    click.option("--brand", help="Only this brand."),
    click.option("--source", help="Only this source."),
    click.option("--label", type=click.Choice([*LABELS, UNSCORED]),
                 help="Only this latest sentiment; unscored: in a language the model does not read "
                 "(shown with the language), for a person to read."),
    click.option("--since", help="Only newer than this: 24h, 7d, or a date."),
    click.option("--triage", type=click.Choice(["alerted", "worth-a-look", "spam", "off-topic"]),
                 help="Only mentions alerted, negatives below the alert threshold (worth a look), "
                 "spam, or mentions about none of the brands."),
    click.option("--limit", type=click.IntRange(1, 100000), default=20, show_default=True),
]


def filters(f: Any) -> Any:
    for option in reversed(_filters):
        f = option(f)
    return f


def _reason(triage: str | None) -> str | None:
    return {"worth-a-look": LOW_CONFIDENCE}.get(triage or "", triage)


@click.group()
def mentions() -> None:
    """List and search stored mentions."""


@mentions.command("list")
@filters
@pass_app
def mentions_list(app: App, brand: str | None, source: str | None, label: str | None,
                  since: str | None, triage: str | None, limit: int) -> None:
    """Newest mentions first, with their sentiment and why they were or were not alerted."""
    with app.store() as store:
        rows = store.list_mentions(brand=app.brand_name(brand), source=source, label=label, reason=_reason(triage),
                                   since=parse_since(since), limit=limit)
    _print_mentions(app, rows)


@mentions.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("words")
@filters
@pass_app
def mentions_search(app: App, words: str, brand: str | None, source: str | None,
                    label: str | None, since: str | None, triage: str | None, limit: int) -> None:
    """Full-text search of mention text, titles and authors, in the brands' query syntax.

    \b
    Words match as prefixes (leak finds leaks); all must occur unless joined by OR;
    -word excludes; "quoted phrases" match exactly:
      listenpost mentions search 'refund OR charged'
      listenpost mentions search 'lid -leaks'
      listenpost mentions search -- '-leaks lid'   (-- before a query that starts with -)
    """
    from monitor.store import _fts_query

    if _fts_query(words) is None:
        # "No mentions match" would say the posts are not there; the search asked for nothing.
        raise InputError(f"nothing to search for in {words!r}: give a word to look for "
                         "(an exclusion needs one too: 'battery -rain')")
    with app.store() as store:
        rows = store.list_mentions(brand=app.brand_name(brand), source=source, label=label, reason=_reason(triage),
                                   since=parse_since(since), search=words, limit=limit)
    _print_mentions(app, rows)


@click.command()
@pass_app
def status(app: App) -> None:
    """Health: per source the last run, error and next run; the outbox; the database size.

    Exits 1 when something is unhealthy (a source whose last run failed, failed alerts,
    a `listenpost run` daemon whose jobs are overdue), so it can serve as a health check.
    """
    from monitor.app.health import check_health

    with app.store() as store:
        health = check_health(app.settings, store)
        workers = workers_report(store, app.settings.schedule.worker_ttl, utcnow())
    say(f"Database: {health.database} ({health.size_bytes / 1e6:.1f} MB, {plural(health.mentions, 'mention')}, "
        f"{health.unscored} unscored in other languages)")
    click.echo("Sources:" if health.sources else "Sources: none enabled and no runs yet.")
    for source in health.sources:
        facts = [f"last run {local_time(source.last_run, app.settings.tz)}",
                 f"last success {local_time(source.last_success, app.settings.tz)}"]
        if source.last_error_at and not source.failing:
            facts.append(f"last error {local_time(source.last_error_at, app.settings.tz)}")
        if source.collected:
            facts.append(f"next run {_next_run(app, source.job)}")
        else:
            facts.append(f"not collected by `listenpost run` ({source.why_not})")
        say(f"{inline(source.name)}: " + ", ".join(facts), "  ")
        if source.failing:
            say(f"failing: {inline(source.failing)}", "    ", fg="red")
    for problem in health.credentials:
        say(plain(problem), "  ", fg="red")
    counts, enabled = health.alert_counts, health.channels_enabled
    say("Alerts: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none")
        # The outbox holds one row per alert and channel: 23 complaints to console and Slack are 46.
        + (f" (counted per channel: an alert to {enabled} channels counts {enabled} times)"
           if counts and enabled > 1 else ""))
    for w in health.waiting:
        click.secho(f"  channel {inline(w.name)}: {w.pending} alert{'' if w.pending == 1 else 's'} waiting; "
                    f"{w.variable} is not set here", fg="red" if w.overdue else "yellow")
    _print_workers(app, workers)
    if health.daemon_jobs:
        say("Daemon: " + ", ".join(f"{k} next {_next_run(app, v)}" for k, v in sorted(health.daemon_jobs.items())))
    if health.unhealthy:
        say(f"Unhealthy: {', '.join(health.unhealthy)}", fg="red", err=True)
        sys.exit(1)
    click.secho("Healthy.", fg="green")


def _next_run(app: App, job: Job | None) -> str:
    if job and job.running_since:
        return "running now"
    if job and job.next_run_at:
        return local_time(job.next_run_at, app.settings.tz)
    return "not scheduled (listenpost run is not running)"


def _print_workers(app: App, report: WorkersReport) -> None:
    """The `listenpost run` workers heard from lately and the jobs each holds; the rest in one line."""
    if not report.any:
        return
    now = utcnow()
    click.echo(f"Workers: {len(report.live)} live" if report.live else "Workers: none live")
    for live in report.live:
        worker = live.worker
        ago = max(0, int((now - worker.heartbeat_at).total_seconds()))
        holds = ", ".join(lease.name for lease in live.leases) or "nothing"
        say(f"{inline(worker.id)}: started {local_time(worker.started_at, app.settings.tz)}, "
            f"last heartbeat {ago}s ago, holds {inline(holds)}", "  ")
    gone = [f"{report.stopped} stopped"] if report.stopped else []
    if report.silent:
        gone.append(f"{report.silent} silent (killed or cut off; their jobs pass to live workers)")
    if gone:
        say(", ".join(gone), "  ")


@click.command()
@click.option("--since", help="Only mentions newer than this: 24h, 7d, or a date.")
@pass_app
def stats(app: App, since: str | None) -> None:
    """Mention counts per brand and source, by sentiment."""
    with app.store() as store:
        rows = store.stats(since=parse_since(since))
    if not rows:
        click.echo("No mentions stored yet.")
        return
    table: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        table.setdefault((r.brand or "-", r.source), {})[r.label] = r.n
    # (label, heading, width): full headings on 80 columns, short ones on a narrower terminal
    wide = width() >= 80
    columns = [("negative", "negative", 9), ("neutral", "neutral", 8), ("positive", "positive", 9),
               ("unscored", "unscored", 9), ("unclassified", "unclassified", 13)] if wide else [
               ("negative", "neg", 5), ("neutral", "neu", 5), ("positive", "pos", 5),
               ("unscored", "other", 6), ("unclassified", "pending", 8)]
    name, where = (12, 13) if wide else (10, 11)
    click.echo(f"{'brand':<{name}}{'source':<{where}}" + "".join(f"{h:>{w}}" for _, h, w in columns) + f"{'total':>7}")
    for (brand, source), counts in sorted(table.items()):
        click.echo(cell(brand, name) + cell(source, where)
                   + "".join(f"{counts.get(c, 0):>{w}}" for c, _, w in columns) + f"{sum(counts.values()):>7}")
    if not wide:
        click.echo("other: languages the model does not cover")
        click.echo("pending: not classified yet")


@mentions.command("thanks")
@click.option("--since", default="7d", show_default=True, help="Praise posted since: 24h, 7d, or a date.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@pass_app
def mentions_thanks(app: App, since: str, limit: int) -> None:
    """Praise worth a thank-you, widest reach and newest first.

    Clearly positive mentions and 4-5 star reviews of our brands (not spam, not about a
    competitor), not thanked yet. Record a thank-you with `listenpost mentions thanked`.
    """
    from alerts.message import ago, reach_words
    from alerts.outbox.triage import PRAISE_REASONS
    from monitor.store import parse_ts

    start = parse_since(since) or utcnow()
    with app.store() as store:
        rows, total = store.praise_to_thank(PRAISE_REASONS, since=start, now=utcnow(), limit=limit)
    if not rows:
        click.echo("No praise waiting for a thank-you.")
        return
    columns = width()
    first = f", the first {len(rows)}:" if total > len(rows) else ":"
    click.echo(f"{plural(total, 'mention')} of praise to thank{first}")
    for r in rows:
        posted = parse_ts(r.created_at) or utcnow()
        click.echo(fit(f"{inline(r.brand or '-')} · {reach_words(r.reach, r.engagement)} · "
                       f"{ago(posted)}", columns))
        click.echo(fit(f"    {inline(r.source)} {inline(r.external_id)} by "
                       f"{inline(r.author or 'unknown author')}", columns))
        click.echo(f"    {plain(truncate(r.text, columns - 4))}")
        if r.url:
            click.echo("\n".join(wrap(inline(r.url), "    ", columns)))


@mentions.command("thanked")
@click.argument("source")
@click.argument("external_id")
@click.option("--by", "who", default="", help="Who thanked them (default: your login name).")
@pass_app
def mentions_thanked(app: App, source: str, external_id: str, who: str) -> None:
    """Record that a mention of praise was thanked (SOURCE and ID as `mentions thanks` shows them)."""
    import getpass

    from monitor.app.thanks import record_thanked

    name = (who or getpass.getuser()).strip()[:80] or "someone"
    with app.store() as store:
        done = record_thanked(store, source, external_id, name, utcnow())
    outcome = f"thanked by {inline(name)}" if done else "already thanked"
    click.echo(f"{inline(source)} {inline(external_id)}: {outcome}")

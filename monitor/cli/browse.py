"""Commands that look at what is stored: mentions, status, stats."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

import click

from alerts.base import inline, plain, plural, truncate
from alerts.triage import LOW_CONFIDENCE, REASON_TEXT
from monitor.app.workers import WorkersReport, workers_report
from monitor.cli import App, fit, local_time, pass_app, say, width, wrap
from monitor.core.errors import InputError
from monitor.core.records import utcnow

LABEL_COLOURS = {"negative": "red", "neutral": "white", "positive": "green", "unscored": "blue"}


def parse_since(value: str | None) -> datetime | None:
    """'24h', '7d', '30m' back from now, or an ISO date."""
    if not value:
        return None
    from monitor.core.config import parse_duration

    try:
        return utcnow() - timedelta(seconds=parse_duration(value))
    except ValueError as exc:
        if value.strip()[:1].isdigit() and value.strip()[-1:] in "smhd":
            raise InputError(f"--since {value!r}: {exc}") from None
    from monitor.core.textfile import parse_datetime

    try:
        return parse_datetime(value)
    except ValueError:
        raise InputError(f"--since {value!r}: expected a span such as 24h or 7d, or a date") from None


def _local(app: App, stamp: str | None) -> str:
    return local_time(app.settings, stamp)


def _print_mentions(app: App, rows: list[dict[str, Any]]) -> None:
    if not rows:
        click.echo("No mentions match.")
        return
    columns = width()
    click.echo(fit(f"{'posted':<21}{'source':<13}{'brand':<12}{'sentiment':<13}author", columns))
    for r in rows:
        label = r.get("label") or "unclassified"
        head = (f"{_local(app, r['created_at']):<21}{inline(r['source'])[:12]:<13}"
                f"{inline(r['brand'] or '-')[:11]:<12}")
        why = REASON_TEXT.get(r.get("reason") or "")
        rest = inline(r["author"] or "") + (f"  ({why})" if why else "")
        tail = fit(f"{head}{label:<13}{rest}", columns)[len(head) + 13:]
        click.echo(head + click.style(f"{label:<13}", fg=LABEL_COLOURS.get(label)) + tail)
        click.echo(f"    {plain(truncate(r['text'], columns - 4))}")
        if r.get("url"):
            click.echo("\n".join(wrap(inline(r["url"]), "    ", columns)))


_filters = [
    click.option("--brand", help="Only this brand."),
    click.option("--source", help="Only this source."),
    click.option("--label", type=click.Choice(["negative", "neutral", "positive", "unscored"])),
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
    from monitor.core.errors import InputError
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
    settings = app.settings
    unhealthy = []
    with app.store() as store:
        runs = {r["source"]: r for r in store.last_runs()}
        counts = store.alert_counts()
        labels = store.label_counts()
        size = store.size_bytes()
        total = store.count_mentions()
        jobs = store.scheduled_jobs()
        waiting = _waiting_alerts(store)
        workers = workers_report(store, settings.schedule.worker_ttl, utcnow())
    say(f"Database: {settings.database_location.display()} ({size / 1e6:.1f} MB, {plural(total, 'mention')}, "
        f"{labels.get('unscored', 0)} unscored in other languages)")
    names = sorted(set(runs) | {n for n, s in settings.sources.items() if s.enabled})
    click.echo("Sources:" if names else "Sources: none enabled and no runs yet.")
    for name in names:
        run = runs.get(name, {})
        facts = [f"last run {_local(app, run.get('last_run'))}", f"last success {_local(app, run.get('last_success'))}"]
        failing = run.get("last_error") and (run.get("last_error_at") or "") >= (run.get("last_success") or "")
        if run.get("last_error_at") and not failing:
            facts.append(f"last error {_local(app, run['last_error_at'])}")
        source = settings.sources.get(name)
        if source is not None and source.enabled and name != "file":
            facts.append(f"next run {_next_run(app, jobs.get(f'collect:{name}'))}")
        else:  # imported rows name their source too; `run` never collects it
            why = "imported" if name == "file" else "not enabled"
            facts.append(f"not collected by `listenpost run` ({why})")
        say(f"{inline(name)}: " + ", ".join(facts), "  ")
        if failing:
            say(f"failing: {inline(run['last_error'])}", "    ", fg="red")
            unhealthy.append(name)
    from monitor.cli.setup import missing_credentials

    for name, problem in missing_credentials(settings):
        if name.startswith("alert channel "):
            continue  # a channel is judged by its waiting alerts, below
        say(plain(problem), "  ", fg="red")
        unhealthy.append(f"{name} lacks credentials")
    enabled = sum(1 for c in settings.alerts.channels.values() if c.enabled)
    say("Alerts: " + (", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none")
        # The outbox holds one row per alert and channel: 23 complaints to console and Slack are 46.
        + (f" (counted per channel: an alert to {enabled} channels counts {enabled} times)"
           if counts and enabled > 1 else ""))
    if counts.get("failed"):
        unhealthy.append(f"{counts['failed']} failed alerts")
    unhealthy.extend(_channel_health(app, waiting))
    _print_workers(app, workers)
    unhealthy.extend(_daemon_health(app, jobs))
    if unhealthy:
        say(f"Unhealthy: {', '.join(unhealthy)}", fg="red", err=True)
        sys.exit(1)
    click.secho("Healthy.", fg="green")


def _waiting_alerts(store: Any) -> dict[str, tuple[int, int]]:
    """Per channel: alerts pending, and of those the ones due more than 10 minutes ago."""
    from monitor.store import ts

    overdue = ts(utcnow() - timedelta(minutes=10))
    return {row[0]: (row[1], row[2] or 0) for row in store.conn.execute(
        "SELECT channel, count(*), sum(next_attempt_at IS NULL OR next_attempt_at < ?) FROM alerts "
        "WHERE status = 'pending' GROUP BY channel", [overdue])}


def _channel_health(app: App, waiting: dict[str, tuple[int, int]]) -> list[str]:
    """Channels whose secret is not set here and that have alerts waiting.

    The daemon may run with secrets this shell lacks (systemd's secrets.env), so such a channel
    is unhealthy only when its alerts are overdue, i.e. nothing has been able to send them.
    """
    from monitor.app.preflight import channels_missing_credentials

    problems = []
    for name, exc in channels_missing_credentials(app.settings).items():
        pending, overdue = waiting.get(name, (0, 0))
        if not pending:
            continue
        click.secho(f"  channel {inline(name)}: {pending} alert{'' if pending == 1 else 's'} waiting; "
                    f"{exc.variable} is not set here", fg="red" if overdue else "yellow")
        if overdue:
            problems.append(f"alert channel {name} cannot send ({exc.variable} is not set), "
                            f"{overdue} alert{'' if overdue == 1 else 's'} overdue")
    return problems


def _next_run(app: App, job: dict[str, Any] | None) -> str:
    if job and job.get("running_since"):
        return "running now"
    if job and job.get("next_run_at"):
        return _local(app, job["next_run_at"])
    return "not scheduled (listenpost run is not running)"


def _print_workers(app: App, report: WorkersReport) -> None:
    """The `listenpost run` workers heard from lately and the jobs each holds; the rest in one line."""
    if not report.any:
        return
    from monitor.store import ts

    now = utcnow()
    click.echo(f"Workers: {len(report.live)} live" if report.live else "Workers: none live")
    for live in report.live:
        worker = live.worker
        ago = max(0, int((now - worker.heartbeat_at).total_seconds()))
        holds = ", ".join(lease.name for lease in live.leases) or "nothing"
        say(f"{inline(worker.id)}: started {_local(app, ts(worker.started_at))}, "
            f"last heartbeat {ago}s ago, holds {inline(holds)}", "  ")
    gone = [f"{report.stopped} stopped"] if report.stopped else []
    if report.silent:
        gone.append(f"{report.silent} silent (killed or cut off; their jobs pass to live workers)")
    if gone:
        say(", ".join(gone), "  ")


def _daemon_health(app: App, jobs: dict[str, dict[str, Any]]) -> list[str]:
    """Print the daemon's other jobs; an overdue job means the daemon died without stopping."""
    from monitor.app.scheduler import overdue

    others = {k: v for k, v in jobs.items() if not k.startswith("collect:") and v.get("next_run_at")}
    if others:
        say("Daemon: " + ", ".join(f"{k} next {_next_run(app, v)}" for k, v in sorted(others.items())))
    late = overdue(jobs, utcnow())
    return [f"`listenpost run` jobs overdue ({', '.join(late)}); is the daemon running?"] if late else []


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
        table.setdefault((r["brand"] or "-", r["source"]), {})[r["label"]] = r["n"]
    # (label, heading, width): full headings on 80 columns, short ones on a narrower terminal
    wide = width() >= 80
    columns = [("negative", "negative", 9), ("neutral", "neutral", 8), ("positive", "positive", 9),
               ("unscored", "unscored", 9), ("unclassified", "unclassified", 13)] if wide else [
               ("negative", "neg", 5), ("neutral", "neu", 5), ("positive", "pos", 5),
               ("unscored", "other", 6), ("unclassified", "pending", 8)]
    name, where = (12, 13) if wide else (10, 11)
    click.echo(f"{'brand':<{name}}{'source':<{where}}" + "".join(f"{h:>{w}}" for _, h, w in columns) + f"{'total':>7}")
    for (brand, source), counts in sorted(table.items()):
        click.echo(f"{inline(brand)[:name - 1]:<{name}}{inline(source)[:where - 1]:<{where}}"
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
    from alerts.base import ago, reach_words
    from alerts.triage import PRAISE_REASONS
    from monitor.store import engagement_of, parse_ts

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
        posted = parse_ts(r["created_at"]) or utcnow()
        click.echo(fit(f"{inline(r['brand'] or '-')} · {reach_words(r['reach'], engagement_of(r))} · "
                       f"{ago(posted)}", columns))
        click.echo(fit(f"    {inline(r['source'])} {inline(r['external_id'])} by "
                       f"{inline(r['author'] or 'unknown author')}", columns))
        click.echo(f"    {plain(truncate(r['text'], columns - 4))}")
        if r.get("url"):
            click.echo("\n".join(wrap(inline(r["url"]), "    ", columns)))


@mentions.command("thanked")
@click.argument("source")
@click.argument("external_id")
@click.option("--by", "who", default="", help="Who thanked them (default: your login name).")
@pass_app
def mentions_thanked(app: App, source: str, external_id: str, who: str) -> None:
    """Record that a mention of praise was thanked (SOURCE and ID as `mentions thanks` shows them)."""
    import getpass

    with app.store() as store:
        if store.mention(source, external_id) is None:
            raise InputError(f"no mention {source} {external_id} (see `listenpost mentions thanks`)")
        from alerts.triage import PRAISE_REASONS

        verdict = store.conn.execute(
            "SELECT label, reason FROM latest_labels WHERE source = ? AND external_id = ?",
            [source, external_id]).fetchone()
        if verdict is None or verdict[1] not in PRAISE_REASONS:
            why = f"{verdict[0]}, {verdict[1] or 'no reason'}" if verdict else "not classified"
            raise InputError(f"{source} {external_id} is not praise of our brands ({why}); only what "
                             "`listenpost mentions thanks` lists can be thanked")
        name = (who or getpass.getuser()).strip()[:80] or "someone"
        now = utcnow()
        done = store.record_thanks(source, external_id, name, now)
        if done:  # its praise alert is answered too: not left open with a Thanked button for someone else
            praise = store.conn.execute("SELECT id FROM alerts WHERE source = ? AND external_id = ?"
                                        " AND kind = 'praise' AND resolution IS NULL ORDER BY id LIMIT 1",
                                        [source, external_id]).fetchone()
            if praise:
                store.update_case(praise[0], closed_at=now, closed_by=name, resolution="thanked")
    outcome = f"thanked by {inline(name)}" if done else "already thanked"
    click.echo(f"{inline(source)} {inline(external_id)}: {outcome}")

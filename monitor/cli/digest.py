"""`listenpost digest` (the daily email: print, preview or send) and `listenpost report` (response times,
share of voice)."""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from alerts.message import inline, plural, truncate
from monitor.cli import App, fit, pass_app, resolve_path, width
from monitor.core.errors import InputError
from monitor.core.textfile import private_file
from monitor.core.times import since_span

if TYPE_CHECKING:
    from alerts.digest.build import Timing
    from alerts.digest.voice import VoicePeriod
    from monitor.core.config import Settings
    from monitor.store import Store

Grade = Callable[[float | None], str]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
STEPS = (("collect", "collected"), ("alert", "alerted"), ("claim", "claimed"), ("reply", "replied"))


@click.command()
@click.option("--since", default="24h", show_default=True,
              help="Period covered: 24h, 7d, or a date; compared with the same span before it.")
@click.option("--preview", type=click.Path(dir_okay=False),
              help="Write the HTML email to this file (charts embedded) to open in a browser.")
@click.option("--send", is_flag=True, help="Mail it to digest.recipients through the SMTP server.")
@pass_app
def digest(app: App, since: str, preview: str | None, send: bool) -> None:
    """The digest email: print it, preview it in a browser, or send it.

    Volume and sentiment per brand and source against the previous period, a chart, the most
    negative and the still unanswered mentions, recurring themes and response times.

    Without --preview or --send it prints the plain-text version. Sending needs
    digest.recipients and, when the server wants a login, LISTENPOST_SMTP_USER and
    LISTENPOST_SMTP_PASSWORD.

      listenpost digest --since 7d --preview digest.html
    """
    from alerts.digest import build_digest, render_digest, span

    settings = app.settings
    period, now = since_span(since)
    if send and not settings.digest.recipients:
        from monitor.core.errors import ConfigError

        raise ConfigError("digest.recipients: no one to send the digest to (add addresses in settings.toml)")
    click.echo(f"Building the digest of the last {span(period.total_seconds())}…", err=True)
    with app.store() as store:
        result = build_digest(store, settings, period=period, now=now)
    subject, text, html = render_digest(result)
    if preview:
        _, _, preview_html = render_digest(result, inline_images=True)
        path = resolve_path(preview)
        try:
            with private_file(path) as out:
                out.write(preview_html)
        except OSError as exc:
            raise InputError(f"--preview {preview}: cannot write: {exc.strerror}") from None
        click.echo(f"Preview written to {path}")
    if send:
        from alerts.mailer import SmtpOptions, send_email

        send_email(SmtpOptions.of(settings.digest), settings.digest.recipients, subject, text, html, result.charts)
        click.echo(f"Digest sent to {plural(len(settings.digest.recipients), 'recipient')}: {subject}")
    if not preview and not send:
        click.echo(text, nl=False)


def spreadsheet_safe(value: Any) -> Any:
    """A leading ' keeps a spreadsheet from running a cell that starts like a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _rows(timings: list[Timing], grade: Grade) -> list[dict[str, Any]]:
    rows = []
    for t in timings:
        row: dict[str, Any] = {"source": t.source, "channels": ", ".join(t.channels), "alerts": t.alerts}
        for step, verb in STEPS:
            row[verb] = t.n(step)
            for stat in ("median", "p90"):
                value = t.value(step, stat)
                row[f"{step}_{stat}_s"] = None if value is None else round(value)
                if step in ("claim", "reply"):
                    row[f"{step}_{stat}_grade"] = grade(value)
        rows.append(row)
    return rows


@click.command()
@click.option("--since", default="30d", show_default=True, help="Alerts created in this span: 7d, 30d, or a date.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Also write the table to this CSV file.")
@pass_app
def report(app: App, since: str, csv_path: str | None) -> None:
    """Response times per source, graded (also --csv), praise thanked, and share of voice.

    Median time from posting to collection and alert; median and p90 time to claim and
    reply, graded by digest.grade_excellent and digest.grade_average. How much of the
    praise was thanked, and how soon. With brands marked
    `competitor = true`, each brand's share of voice and negative share per day (per week
    beyond 14 days).

      listenpost report --since 30d --csv response-times.csv
    """
    from alerts.digest import grade as grade_of
    from alerts.digest import human_duration, response_times, span
    from alerts.outbox.triage import PRAISE_REASONS

    settings = app.settings
    period, now = since_span(since)
    with app.store() as store:
        timings = response_times(store, now - period, now)
        voice = _voice_over_time(store, settings, now - period, now)
        thanks = store.thanks_summary(PRAISE_REASONS, now - period, now)
    excellent, average = settings.digest.grade_excellent, settings.digest.grade_average
    grade = functools.partial(grade_of, excellent=excellent, average=average)

    rows = _rows(timings, grade)
    if csv_path:
        _write_csv(Path(csv_path).expanduser(), rows)
    if not rows:
        click.echo(f"No alerts in the last {span(period.total_seconds())}.")
    else:
        _print_timings(timings, period, grade, excellent, average)
    if thanks.praise:
        share = f"{thanks.thanked / thanks.praise:.0%}"
        fast = f", median {human_duration(thanks.median_seconds)} after posting" if thanks.thanked else ""
        click.echo(f"\nPraise: {plural(thanks.praise, 'mention')} worth a thank-you, {thanks.thanked} thanked "
                   f"({share}){fast}.")
    if voice:
        _print_voice(voice)
    if csv_path:
        click.echo(f"Written to {csv_path}")


def _voice_over_time(store: Store, settings: Settings, since: datetime, until: datetime) -> list[VoicePeriod]:
    from alerts.digest.voice import has_competitors, voice_over_time

    if not has_competitors(settings):
        return []
    step = timedelta(days=1) if until - since <= timedelta(days=14) else timedelta(days=7)
    return voice_over_time(store, settings, since, until, step)


def _print_voice(periods: list[VoicePeriod]) -> None:
    """A row per period, a column per brand: 'share of voice / negative share'."""
    from alerts.digest.voice import percent

    brands = [(v.brand, v.competitor) for v in periods[0].brands]
    click.echo("\nShare of voice / negative share of each brand's own mentions (c: competitor):")
    names = [f"{truncate(inline(b), 16)}{' (c)' if c else ''}" for b, c in brands]
    cell = max(13, *(len(n) + 2 for n in names))
    click.echo(f"{'from':<12}" + "".join(f"{n:>{cell}}" for n in names))
    for p in periods:
        spoken = any(v.mentions for v in p.brands)
        cells = [f"{percent(v.share) if spoken else '–'} / {percent(v.negative_share)}" for v in p.brands]
        click.echo(f"{p.start:%Y-%m-%d}  " + "".join(f"{c:>{cell}}" for c in cells))


def _print_timings(timings: list[Timing], period: timedelta, grade: Grade, excellent: float,
                   average: float) -> None:
    from alerts.digest import human_duration, span

    columns = width()
    click.echo(f"Response times over the last {span(period.total_seconds())}, from when the mention was posted")
    click.echo(f"(excellent ≤ {span(excellent)}, average ≤ {span(average)}):")
    colours = {"excellent": "green", "average": "yellow", "poor": "red"}
    for t in timings:
        click.echo(fit(f"{inline(t.source)}: {plural(t.alerts, 'alert')} via "
                       f"{inline(', '.join(t.channels))}", columns))
        click.echo(f"  median: collected after {human_duration(t.value('collect', 'median')) or '-'}, "
                   f"alerted after {human_duration(t.value('alert', 'median')) or '-'}")
        for step, verb in STEPS[2:]:
            times = [click.style(f"{stat} {human_duration(value) or '-'}", fg=colours.get(grade(value)))
                     for stat, value in (("median", t.value(step, "median")), ("p90", t.value(step, "p90")))]
            click.echo(f"  {verb} {t.n(step)} of {t.alerts}: " + ", ".join(times))


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    fields = list(rows[0]) if rows else ["source", "channels", "alerts"]
    try:
        with private_file(path) as out:
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    except OSError as exc:
        raise InputError(f"--csv {path}: cannot write: {exc.strerror}") from None

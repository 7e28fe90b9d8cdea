"""The digest as people read it: durations in words, the templates' text and HTML, and mailing it."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts.digest.build import NO_BRAND, Digest, Item, build_digest
from alerts.digest.voice import percent, points
from alerts.mailer import SmtpOptions, send_email
from alerts.message import ago, plain
from monitor.core.config import Settings
from monitor.core.errors import ConfigError
from monitor.core.records import link_name, source_name
from monitor.store import Store


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes = round(seconds) // 60  # julianday arithmetic gives 1799.99 s for half an hour
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min" if hours < 10 and minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def span(seconds: float) -> str:
    """'24 hours', '7 days': a period in words."""
    if seconds < 3600:
        return human_duration(seconds)
    hours = round(seconds / 3600)
    if hours % 24 or hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def change(now: int, before: int) -> str:
    """'+12%' against the previous period; 'new' when there was nothing before."""
    if not before:
        return "new" if now else "–"
    pct = round(100 * (now - before) / before)
    return "±0%" if pct == 0 else f"{pct:+d}%".replace("-", "−")


def title(digest: Digest) -> str:
    local = digest.until.astimezone(digest.tz)
    day = f"{local:%a} {local.day} {local:%b %Y}"
    if digest.period == timedelta(hours=24):
        return f"Daily digest, {day}"
    if digest.period == timedelta(days=7):
        return f"Weekly digest, {day}"
    return f"Digest of the last {span(digest.period.total_seconds())}, {day}"


def subject(digest: Digest) -> str:
    line = f"{title(digest)}: {digest.negatives} negative of {digest.total} mentions"
    return line + (f", {digest.unanswered} unanswered" if digest.unanswered else "")


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("alerts.digest", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        # Every value a template shows goes through plain(): names, sources and ids come from
        # imported files and APIs, and an escape sequence in one would reach a terminal or mail.
        finalize=lambda value: plain(value) if isinstance(value, str) and not hasattr(value, "__html__")
        else value,
    )
    env.filters.update(duration=human_duration, when=lambda d: f"{d:%a} {d.day} {d:%b %Y %H:%M}")
    env.filters.update(span=span, source=source_name, link_name=lambda url, source: link_name(source, url))
    env.filters.update(percent=percent)
    env.globals.update(change=change, points=points)
    return env


def unscored_command(digest: Digest, count: int, brand: str = "") -> str:
    """The command that lists a brand's (or every brand's) ``count`` unscored mentions of the period."""
    import shlex

    words = ["listenpost", "mentions", "list", "--label", "unscored"]
    if brand and brand != NO_BRAND:
        words += ["--brand", brand]
    words += ["--since", f"{digest.since.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}", "--limit", str(max(count, 20))]
    return shlex.join(words)


def _waiting(item: Item, now: datetime) -> str:
    """'waiting 2 days · claimed by sam' for an unanswered mention."""
    who = f"claimed by {item.claimed_by}" if item.claimed_by else "claimed" if item.claimed else "unclaimed"
    return f"waiting {ago(item.posted, now).removesuffix(' ago')} · {who}"


def render_digest(digest: Digest, *, inline_images: bool = False) -> tuple[str, str, str]:
    """(subject, text, html). Charts are ``cid:`` references, or data: URIs for a browser preview."""
    env = _environment()
    now = digest.until

    def image(cid: str) -> str:
        if inline_images:
            return "data:image/png;base64," + base64.b64encode(digest.charts[cid]).decode()
        return f"cid:{cid}"

    context = {"d": digest, "title": title(digest), "image": image, "ago": lambda when: ago(when, now),
               "waiting": lambda item: _waiting(item, now), "local": lambda when: when.astimezone(digest.tz),
               "unscored_command": lambda count, brand="": unscored_command(digest, count, brand)}
    text = env.get_template("digest.txt.j2").render(context)
    html = env.get_template("digest.html.j2").render(context)
    return subject(digest), text, html


def send_digest(store: Store, settings: Settings, *, period: timedelta = timedelta(hours=24),
                now: datetime | None = None, environ: Mapping[str, str] | None = None) -> str:
    """Build, render and mail the digest to ``digest.recipients``; returns the Message-ID."""
    if not settings.digest.recipients:
        raise ConfigError("digest.recipients: no one to send the digest to (add addresses in settings.toml)")
    digest = build_digest(store, settings, period=period, now=now)
    subject_line, text, html = render_digest(digest)
    return send_email(SmtpOptions.of(settings.digest), settings.digest.recipients, subject_line, text, html,
                      digest.charts, environ=environ)

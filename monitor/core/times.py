"""Time as people read and write it: stored UTC stamps shown in the settings' zone, and `--since` spans."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from monitor.core.durations import parse_duration
from monitor.core.errors import InputError
from monitor.core.records import utcnow
from monitor.core.values import parse_datetime

STAMP = "%Y-%m-%d %H:%M %Z"  # 2026-11-20 10:00 EST


def parse_ts(value: str | None) -> datetime | None:
    """A stored stamp (``ts``) back as a datetime; None for none."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_time(when: datetime | str | None, tz: tzinfo, fmt: str = STAMP, *, empty: str = "-") -> str:
    """A UTC time (or stored stamp) in zone ``tz``, labelled: '2026-11-20 10:00 EST'; ``empty`` when unset."""
    if isinstance(when, str):
        when = parse_ts(when)
    if not when:
        return empty
    try:
        return when.astimezone(tz).strftime(fmt)
    except OverflowError:  # year 1 or 9999 (stored before dates were bounded) in a zone off UTC
        return when.strftime(fmt.replace("%Y", f"{when.year:04d}").replace("%Z", "UTC"))


def parse_since(value: str | None, flag: str = "--since") -> datetime | None:
    """'24h', '7d', '30m' back from now, or a date (ISO 8601, UTC unless a zone is given)."""
    if not value:
        return None
    try:
        return utcnow() - timedelta(seconds=parse_duration(value))
    except ValueError as exc:
        if value.strip()[:1].isdigit() and value.strip()[-1:] in "smhd":
            raise InputError(f"{flag} {value!r}: {exc}") from None
    try:
        return parse_datetime(value)
    except ValueError:
        raise InputError(f"{flag} {value!r}: expected a date such as 2026-11-01 (UTC unless a zone is given), "
                         "or a span back from now such as 24h or 7d") from None


def parse_date(value: str | None, flag: str) -> datetime | None:
    """A date flag such as ``--until 2026-11-01`` (UTC unless a zone is given); None when not given."""
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        raise InputError(f"{flag} {value!r}: expected a date such as 2026-11-01 "
                         "or 2026-11-01T08:00:00Z (UTC unless a zone is given)") from None


def since_span(value: str, flag: str = "--since") -> tuple[timedelta, datetime]:
    """The span to cover, ending now: 24h / 7d exactly, or back to a given date; and now."""
    now = utcnow()
    try:
        span = timedelta(seconds=parse_duration(value))
    except ValueError:
        start = parse_since(value, flag)
        span = now - start if start else timedelta(0)
    if span <= timedelta(0):
        raise InputError(f"{flag} {value!r}: must reach back into the past, e.g. 24h or 7d")
    return span, now

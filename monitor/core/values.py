"""Values as imported files and APIs write them: dates in any common form, star ratings, and how a bad
value is quoted in an error."""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

MIN_YEAR, MAX_YEAR = 1000, 9998


def parse_datetime(value: Any, fmt: str | None = None, zone: tzinfo | None = None) -> datetime:
    """A timezone-aware UTC datetime from ISO 8601, epoch seconds, RFC 2822 or ``fmt``.

    A date without an offset is read in ``zone`` (UTC when none is given).
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            dt = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"the date {quote_value(value)} is out of range") from None
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if fmt:
            try:
                dt = datetime.strptime(text, fmt)
            except ValueError:
                raise ValueError(f"the date {quote_value(text)} does not match --date-format {fmt!r}") from None
        elif text.replace(".", "", 1).isdigit():
            try:
                return parse_datetime(float(text))
            except ValueError:
                raise ValueError(f"the date {quote_value(text)} is out of range") from None
        else:
            try:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                try:
                    dt = parsedate_to_datetime(text)
                except (TypeError, ValueError):
                    raise ValueError(f"cannot read the date {quote_value(text)}") from None
    else:
        raise ValueError(f"cannot read the date {quote_value(value)}")
    try:
        dt = (dt.replace(tzinfo=zone or UTC) if dt.tzinfo is None else dt).astimezone(UTC)
    except OverflowError:
        raise ValueError(f"the date {quote_value(value)} is out of range") from None
    # Year 1 or 9999 is stored, then every list or digest that shows it in a time zone west or
    # east of UTC, or looks 30 days back from it, overflows: such a date is that line's error.
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise ValueError(f"the date {quote_value(value)} is out of range (years {MIN_YEAR} to {MAX_YEAR})")
    return dt


def quote_value(value: Any, limit: int = 40) -> str:
    """A value for an error line: its repr, shortened (a 5,000-digit number is no message)."""
    text = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_rating(value: Any) -> int | None:
    """A star rating 1 to 5 from 4, 4.0 or "4"; None when absent; anything else is a ValueError.

    Half stars round half up (2.5 is 3, 4.5 is 5): cut down, 2.9 stars would count as 2 and be alerted
    as a 1-2 star complaint whatever the text says.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if not 1 <= number <= 5:
        raise ValueError(f"rating must be 1 to 5, not {quote_value(value)}")
    return math.floor(number + 0.5)



def export_id(value: Any) -> str | None:
    """A post's id as an export gives it, as stored; None when there is none.

    One post must be one id however the export wrote it: surrounding blank space is trimmed, and
    a JSON number that is whole is written without a fraction or exponent (1.0 is "1", 1e22 is
    "10000000000000000000000"). A string is the export's own otherwise: "01" stays "01".
    """
    if value is None:
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        # true, NaN, Infinity: no export numbers its posts so; as text, every such row would be one post
        raise ValueError(f"id {json_literal(value)} is not an id (a number or a text is)")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def json_literal(value: bool | float) -> str:
    """How JSON writes true, NaN or Infinity, for a message about it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def content_key(text: str) -> str:
    """A text as it is hashed for an id when the export gives none: its words, whatever the blank
    space between, before and after them (a trailing space or CRLF line ends make no new post)."""
    return " ".join(text.split())

"""How long a server asks us to wait: one Retry-After reader for collectors and channels."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

# The longest wait a server's header is believed for: a week. A larger figure (or a date
# centuries away) is read as this, so no caller computes an overflowing date or parks work forever.
MAX_SERVER_WAIT = 7 * 86400.0


def server_wait(headers: Mapping[str, str]) -> float | None:
    """The wait a server asks for (at most MAX_SERVER_WAIT): Retry-After (seconds or date), or a
    rate-limit reset header.

    X and Bluesky send the reset as epoch seconds (x-rate-limit-reset, ratelimit-reset);
    Reddit sends seconds until the reset (x-ratelimit-reset) and only that when it is spent.
    """
    wait = _asked(headers)
    return None if wait is None else min(wait, MAX_SERVER_WAIT)


def _asked(headers: Mapping[str, str]) -> float | None:
    lower = {k.lower(): v for k, v in headers.items()}
    value = lower.get("retry-after")
    if value is not None:
        value = value.strip()
        if _digits(value):
            return float(value)
        parsed = email.utils.parsedate_tz(value)
        if parsed is not None:
            return max(0.0, email.utils.mktime_tz(parsed) - time.time())
    for name in ("x-rate-limit-reset", "ratelimit-reset"):
        if _digits(lower.get(name, "").strip()):
            return max(0.0, int(lower[name]) - time.time())
    if lower.get("x-ratelimit-remaining", "").strip() in ("0", "0.0"):
        try:
            return max(0.0, float(lower.get("x-ratelimit-reset", "")))
        except ValueError:
            return None
    return None


def _digits(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true, yet float("²") fails."""
    return text.isascii() and text.isdigit()


def header_wait(headers: Mapping[str, str | list[str]]) -> float | None:
    """server_wait for clients whose headers map a name to a list of values (slack_sdk)."""
    return server_wait({k: v[0] if isinstance(v, list) else v
                        for k, v in headers.items() if not isinstance(v, list) or v})

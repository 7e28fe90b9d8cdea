"""Durations as settings and flags write them ("90s", "15m", "1h", "2d"), and values named in errors."""

from __future__ import annotations

import math
import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
MAX_DURATION = 100 * 365 * 86400.0  # a century: longer spans overflow dates and timers
def parse_duration(value: object) -> float:
    """Seconds from 90, "90s", "15m", "1h" or "2d": finite, not negative, at most a century."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90, \"15m\" or \"1h\"")
    seconds: float | None = None
    if isinstance(value, int | float):
        seconds = float(value) if not isinstance(value, int) or abs(value) < 10**18 else math.inf
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds is None and isinstance(value, str):
        if value.strip().startswith("-"):
            raise ValueError("a duration cannot be negative")
        # The text itself is not repeated (a value in the wrong key may be a secret).
        raise ValueError("expected a duration such as 90, \"15m\" or \"1h\": seconds, or a number "
                         "followed by s, m, h or d (no weeks: \"7d\")")
    if seconds is None or math.isnan(seconds):
        raise ValueError(f"expected a duration such as 90, \"15m\" or \"1h\", not {describe(value)}")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if math.isinf(seconds):
        raise ValueError("a duration must be finite")
    if seconds > MAX_DURATION:
        raise ValueError("a duration can be at most a century (36500d)")
    return seconds


def format_duration(seconds: float) -> str:
    """A duration as the settings file writes it: "90d", "15m", "20s" (the largest whole unit)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def describe(value: object) -> str:
    """A value for an error message: numbers as they are, text only by its kind (it may be a secret)."""
    if isinstance(value, bool | int | float) and len(repr(value)) < 40:
        return repr(value)
    if isinstance(value, str):
        return "a string" if value else "an empty string"
    if isinstance(value, list | dict):
        return "a list" if isinstance(value, list) else "a table"
    return f"a {type(value).__name__}"

"""Values as the database holds them: timestamps, cleaned text, raw payloads, audience figures."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from monitor.core.times import parse_ts as parse_ts  # the one reader of stored stamps, re-exported

log = logging.getLogger(__name__)

MAX_TEXT = 1_000_000  # characters kept of one mention's text; the rest is cut, never the row
# One encoder for raw payloads: json.dumps with options builds a new one per call.
_RAW_JSON = json.JSONEncoder(ensure_ascii=False, default=str)


def ts(value: datetime) -> str:
    """The one text form of a timestamp in the database: UTC, millisecond, sortable."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def engagement_of(row: Mapping[str, Any]) -> dict[str, int]:
    """A mention row's audience figures, headline first; empty where its source gave none."""
    try:
        figures = json.loads(row.get("engagement") or "{}")
    except ValueError:
        return {}
    return {str(k): v for k, v in figures.items() if isinstance(v, int)} if isinstance(figures, dict) else {}


def clean_text(value: str, limit: int | None = MAX_TEXT) -> str:
    """Text SQLite, JSON and terminals can hold: no NUL bytes, no lone surrogates, at most ``limit``."""
    if not (value.isascii() and "\x00" not in value):
        value = value.replace("\x00", "")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if limit is not None and len(value) > limit:
        log.warning("text of %d characters cut to its first %d", len(value), limit)
        return value[:limit]
    return value


def raw_json(raw: dict[str, Any], what: str = "") -> str:
    """A payload as stored: valid JSON under MAX_TEXT characters, long strings cut inside it.

    Cutting the encoded text would leave JSON nobody can read back; a payload still too big
    after its strings are shortened is replaced by a note saying so.
    """
    try:
        text = clean_text(_RAW_JSON.encode(raw), limit=None)
    except (ValueError, RecursionError) as exc:
        log.warning("%s: raw payload not kept (%s)", what, exc)
        return json.dumps({"listenpost_note": "raw payload could not be encoded"})
    if len(text) <= MAX_TEXT:
        return text
    log.warning("%s: raw payload of %d characters shortened to fit %d", what, len(text), MAX_TEXT)
    cut = _shorten(raw, MAX_TEXT // 4)
    text = clean_text(_RAW_JSON.encode({**cut, "listenpost_note": "long values shortened"}), limit=None)
    if len(text) <= MAX_TEXT:
        return text
    return json.dumps({"listenpost_note": f"raw payload of {len(text)} characters not kept"})


def _shorten(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + "…"
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value]
    return value

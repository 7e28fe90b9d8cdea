"""Import mentions from CSV or JSONL exports, with column mapping and per-line error reports."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from collectors.base import Batch, BrandQuery, Collector, Window
from monitor.brands import attribute
from monitor.config import Settings
from monitor.records import KINDS, Mention
from monitor.store import MAX_TEXT
from monitor.textfile import detect_encoding, parse_datetime, parse_rating, read_rows

# Column names tried, in order, for each field when no mapping is given.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "text": ("text", "body", "content", "message", "review", "tweet"),
    "id": ("id", "external_id", "tweet_id", "review_id", "guid"),
    "created_at": ("created_at", "date", "timestamp", "time", "published", "created"),
    "author": ("author", "user", "username", "screen_name", "handle"),
    "url": ("url", "link", "permalink"),
    "title": ("title", "subject"),
    "brand": ("brand",),
    "source": ("source", "platform"),
    "kind": ("kind", "type"),
    "rating": ("rating", "stars", "score"),
    "language": ("language", "lang"),
    "parent_id": ("parent_id", "in_reply_to"),
    "app_version": ("app_version", "version"),
    "country": ("country",),
}


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    unmatched: int = 0
    #: rows imported with a change the user should know of (text cut to the store's limit)
    notes: list[tuple[int, str]] = field(default_factory=list)


class FileCollector(Collector):
    """Reads one file; every row becomes a mention of source ``file`` unless a column says otherwise."""

    name: ClassVar[str] = "file"

    def __init__(
        self,
        settings: Settings,
        path: str | Path,
        *,
        mapping: dict[str, str] | None = None,
        source_name: str | None = None,
        brand: str | None = None,
        date_format: str | None = None,
        batch_size: int = 500,
    ) -> None:
        super().__init__(settings)
        self.path = Path(path)
        self.mapping = mapping or {}
        self.source_name = source_name
        self.brand = brand
        self.date_format = date_format
        self.batch_size = batch_size
        self.report = ImportReport()
        unknown = set(self.mapping) - set(DEFAULT_COLUMNS)
        if unknown:
            from monitor.errors import InputError

            raise InputError(
                f"cannot map {', '.join(sorted(unknown))}: fields are {', '.join(DEFAULT_COLUMNS)}"
            )
        # Checked up front: a file that is not UTF-8 fails the command before anything is stored.
        self.encoding = detect_encoding(self.path)

    def queries(self) -> list[BrandQuery]:
        return []

    def fetch(self, query: BrandQuery | None, cursor: str | None, window: Window) -> Iterator[Batch]:
        batch: list[Mention] = []
        skipped = 0
        for row in read_rows(self.path, self.encoding):
            self.report.rows += 1
            if row.data is None:
                self.report.errors.append((row.line, row.error or "unreadable"))
                skipped += 1
                continue
            try:
                mention = self.to_mention(row.data)
            except (ValueError, TypeError, OverflowError, RecursionError) as exc:
                self.report.errors.append((row.line, str(exc)))
                skipped += 1
                continue
            if len(mention.text) > MAX_TEXT:
                self.report.notes.append(
                    (row.line, f"text of {len(mention.text):,} characters cut to its first {MAX_TEXT:,}"))
            if window.since and mention.created_at < window.since:
                continue
            if window.until and mention.created_at >= window.until:
                continue
            batch.append(mention)
            if len(batch) >= self.batch_size:
                yield Batch(batch, skipped=skipped)
                batch, skipped = [], 0
        if batch or skipped:
            yield Batch(batch, skipped=skipped)

    def _get(self, data: dict[str, Any], name: str) -> Any:
        if name in self.mapping:
            return data.get(self.mapping[name])
        for column in DEFAULT_COLUMNS[name]:
            if data.get(column) not in (None, ""):
                return data[column]
        return None

    def to_mention(self, data: dict[str, Any]) -> Mention:
        text = self._get(data, "text")
        title = str(self._get(data, "title") or "")
        if text is None or not str(text).strip():
            if not title.strip():
                raise ValueError("no text (expected a 'text' column or a --map text=COLUMN)")
            text = title  # a link post (an HN story, say) says everything in its title
        text = str(text)
        raw_date = self._get(data, "created_at")
        if raw_date in (None, ""):
            raise ValueError("no date (expected a 'created_at' column or a --map created_at=COLUMN)")
        created_at = parse_datetime(raw_date, self.date_format)
        source = _checked("source", self.source_name or str(self._get(data, "source") or "file"))
        external_id = self._get(data, "id")
        if external_id in (None, ""):
            # Stable id from the content, so importing the same export twice adds nothing.
            digest = hashlib.sha256(f"{created_at.isoformat()}\n{text}".encode("utf-8", "replace"))
            external_id = digest.hexdigest()[:24]
        kind = str(self._get(data, "kind") or "post")
        rating = self._get(data, "rating")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if rating not in (None, ""):
            rating = parse_rating(rating)
            kind = "review" if kind == "post" else kind
        else:
            rating = None
        brand = self.brand_name(_checked("brand", self.brand or str(self._get(data, "brand") or ""))) \
            or self._match_brand(f"{title}\n{text}")

        def optional(name: str) -> str | None:
            value = self._get(data, name)
            return None if value in (None, "") else str(value)

        return Mention(
            source=source, external_id=_checked("id", str(external_id)), text=text, created_at=created_at,
            brand=brand, kind=kind, author=str(self._get(data, "author") or ""),
            url=str(self._get(data, "url") or ""), title=title, rating=rating,
            language=optional("language"), parent_id=optional("parent_id"),
            app_version=optional("app_version"), country=optional("country"), raw=data,
        )

    def brand_name(self, name: str) -> str:
        """A brand given by the file or --brand, spelled as configured: "acme " or "ACME" is brand Acme.

        Stored as typed, it would name no configured brand and every complaint would be off-topic.
        """
        wanted = " ".join(name.split()).casefold()
        if not wanted:
            return ""
        if any(b.name == name for b in self.settings.brands):
            return name
        match = next((b.name for b in self.settings.brands if " ".join(b.name.split()).casefold() == wanted), None)
        return match if match is not None else name

    def _match_brand(self, text: str) -> str:
        name = attribute(self.settings, text)
        if not name:
            self.report.unmatched += 1
        return name


def _checked(name: str, value: str) -> str:
    """An identifying field as stored: a lone surrogate cannot be kept, and cleaning it could merge ids."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name}: holds a character that is not valid Unicode "
                         f"(U+{ord(value[exc.start]):04X} at position {exc.start + 1})") from None
    return value


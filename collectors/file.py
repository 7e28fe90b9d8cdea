"""Import mentions from CSV or JSONL exports, with column mapping and per-line error reports."""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from collectors.base import Batch, BrandQuery, Collector, Window
from monitor.core.brands import attribute, configured_name
from monitor.core.config import Settings
from monitor.core.records import KINDS, MAX_REACH, Mention
from monitor.core.textfile import detect_encoding, read_rows
from monitor.core.values import content_key, export_id, parse_datetime, parse_rating, quote_value
from monitor.store import MAX_TEXT

# Column names tried, in order, for each field when no mapping is given.
# "Review Text", "Review Submit Date and Time", "Reviewer Language", "App Version Name", "Review
# Link": the Google Play Console's reviews CSV. "Nickname", "Last Modified": App Store Connect's
# ratings and reviews ("Rating", "Title", "Review", "Date" are the usual names).
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    # "Full Text": Brandwatch; "Hit Sentence": Meltwater.
    "text": ("text", "body", "content", "message", "review", "tweet", "full text", "full_text",
             "hit sentence", "review text"),
    "id": ("id", "external_id", "tweet_id", "review_id", "review id", "guid"),
    "created_at": ("created_at", "date", "timestamp", "time", "published", "created",
                   "review submit date and time", "last modified"),
    "author": ("author", "user", "username", "screen_name", "handle", "nickname"),
    "url": ("url", "link", "permalink", "review link"),
    "title": ("title", "subject", "review title"),
    "brand": ("brand",),
    "source": ("source", "platform"),
    "kind": ("kind", "type"),
    # Not "score": in Reddit and Hacker News exports that is upvotes, and 5 upvotes read as
    # 5 stars would keep a complaint from ever alerting.
    "rating": ("rating", "stars", "star_rating", "star rating"),
    "language": ("language", "lang", "reviewer language"),
    "parent_id": ("parent_id", "in_reply_to"),
    "app_version": ("app_version", "version", "app version name"),
    "country": ("country",),
    # "Reach (new)", "Twitter Followers": Brandwatch; "Audience": Sprout Social; "Follower Count".
    "reach": ("reach", "followers", "followers_count", "audience", "reach (new)", "twitter followers",
              "follower count", "followers count"),
    # The monitoring tool's own verdict; exports call it plainly "Sentiment".
    "vendor_sentiment": ("vendor_sentiment", "sentiment"),
}
# Exports recognised by a column only they have, whose other names mean something else
# elsewhere: in Google Play's review export (google-play-scraper, the Play Developer API) "score" is
# the stars and "at" the date, while a Reddit export's "score" counts upvotes.
EXPORT_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "reviewid": {"id": ("reviewId",), "text": ("content",), "rating": ("score",), "created_at": ("at",),
                 "author": ("userName",), "app_version": ("reviewCreatedVersion", "appVersion")},
}
_MULTIPLIERS = {"k": 1_000, "m": 1_000_000}
# Where store exports name the app a review is of (Play Console, App Store Connect, tools' CSVs).
_APP_COLUMNS = ("package name", "package_name", "packagename", "app id", "app_id", "appid", "bundle id",
                "bundle_id", "app apple id")


def known_columns(data: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The column names tried for each field of this row: DEFAULT_COLUMNS, an export's own first."""
    return _known_columns(frozenset(key.strip().casefold() for key in data if isinstance(key, str)))


@functools.lru_cache(maxsize=32)
def _known_columns(present: frozenset[str]) -> dict[str, tuple[str, ...]]:
    names = DEFAULT_COLUMNS
    for signature, columns in EXPORT_COLUMNS.items():
        if signature in present:
            names = {field: columns.get(field, ()) + names[field] for field in names}
    return names


def parse_reach(value: Any) -> int:
    """A follower count as exports write it: 12400, "12,400", "12.4K", "1.2M"."""
    text = str(value).strip().replace("_", "")
    factor = _MULTIPLIERS.get(text[-1:].lower(), 1)
    digits = text[:-1] if factor > 1 else text
    if "," in digits:
        # A comma groups thousands ("12,400") or, alone with one or two digits after it, is a
        # decimal comma ("12,4K"); anything else ("12,4" as a count) is ambiguous and refused.
        if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", digits):
            digits = digits.replace(",", "")
        elif re.fullmatch(r"-?\d+,\d{1,2}", digits) and factor > 1:
            digits = digits.replace(",", ".")
        else:
            raise ValueError(f"reach {value!r} is not a follower count (write 12400, 12,400 or 12.4K)")
    try:
        number = float(digits)
    except ValueError:
        raise ValueError(f"reach {value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"reach {value!r} is not a number")
    if number < 0:
        raise ValueError(f"reach must not be negative, not {value!r}")
    if number * factor > MAX_REACH:
        raise ValueError(f"reach {value!r} is larger than any audience")
    return round(number * factor)


# A 'source' column value that is no source name: tweets' client app, "Twitter for iPhone" or
# '<a href="…">Twitter Web App</a>' (source names are single words: "x", "trustpilot").
_NOT_A_SOURCE_NAME = re.compile(r"[\s<>]")


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)  # the first readable row's, for error messages
    #: rows imported with a change the user should know of (text cut to the store's limit)
    notes: list[tuple[int, str]] = field(default_factory=list)
    #: brand column values naming no configured brand, with their row counts (matched by their text)
    unknown_brands: dict[str, int] = field(default_factory=dict)


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
        timezone: ZoneInfo | None = None,
        batch_size: int = 500,
    ) -> None:
        super().__init__(settings)
        self.path = Path(path)
        self.mapping = mapping or {}
        self.source_name = source_name
        self.brand = brand
        self.date_format = date_format
        # Dates without an offset are read in this zone (default: the settings' timezone).
        self.timezone = timezone or settings.tz
        self.batch_size = batch_size
        self.report = ImportReport()
        self._content_ids: dict[str, int] = {}
        self._source_noted = False
        self._fraction_noted = False
        self._line = 0
        unknown = set(self.mapping) - set(DEFAULT_COLUMNS)
        if unknown:
            from monitor.core.errors import InputError

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
            self._line = row.line
            if not self.report.columns:
                self.report.columns = list(row.data)
                self._check_mapping(row.data)
            try:
                mention = self.to_mention(row.data)
            except (ValueError, TypeError, OverflowError, RecursionError) as exc:
                self.report.errors.append((row.line, str(exc)))
                skipped += 1
                continue
            if self._get(row.data, "id") is None or not str(self._get(row.data, "id")).strip():
                # Its id comes from its date and text: two customers posting the same words on
                # the same day ("Great app", a date without a time) would be one mention.
                first = self._content_ids.setdefault(mention.external_id, row.line)
                if first != row.line:
                    self.report.errors.append((row.line, f"the same date and text as line {first}, so it is "
                                               "stored once (an 'id' column keeps rows apart)"))
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

    def _check_mapping(self, data: dict[str, Any]) -> None:
        """A note for each --map naming a column the first row lacks: an optional field (reach,
        title) mapped to a misspelt column would otherwise be left empty on every row, unsaid."""
        for name, column in self.mapping.items():
            if self._column(data, column) is None and self._path(data, column) is None:
                shown = ", ".join(repr(str(key)) for key in list(data)[:15]) + (", …" if len(data) > 15 else "")
                self.report.notes.append((self._line, f"no column {column!r} (from --map {name}={column}), "
                                                      f"so no {name} is read; the columns are {shown}"))

    def _column(self, data: dict[str, Any], column: str) -> str | None:
        """The row's key for ``column``: as written, else ignoring case and surrounding spaces.

        Export tools capitalise their headers ("Date", "Rating", "Review", "Author"), and a
        spreadsheet may leave a space after a comma; both name the same column.
        """
        if column in data:
            return column
        wanted = column.strip().casefold()
        for key in data:
            if isinstance(key, str) and key.strip().casefold() == wanted:
                return key
        return None

    def _get(self, data: dict[str, Any], name: str) -> Any:
        if name in self.mapping:
            key = self._column(data, self.mapping[name])
            if key is None and "." in self.mapping[name]:
                return self._path(data, self.mapping[name])
            return None if key is None else data[key]
        for column in known_columns(data)[name]:
            key = self._column(data, column)
            if key is not None and data[key] not in (None, ""):
                return data[key]
        return None

    def _source_column(self, data: dict[str, Any]) -> str:
        """A 'source' column's value, when it names a source; tweets' 'source' is the app they came from."""
        value = str(self._get(data, "source") or "file")
        if "source" in self.mapping or not _NOT_A_SOURCE_NAME.search(value):
            return value
        if not self._source_noted:
            self._source_noted = True
            self.report.notes.append((self._line, f"the source column holds {quote_value(value)}, not a source "
                                                  "name, so rows like it are stored as source 'file' "
                                                  "(name one with --source)"))
        return "file"

    def _path(self, data: Any, path: str) -> Any:
        """A nested JSON value: --map author=author.name."""
        for part in path.split("."):
            key = self._column(data, part) if isinstance(data, dict) else None
            if key is None:
                return None
            data = data[key]
        return data

    def _missing(self, data: dict[str, Any], name: str, what: str) -> str:
        """Why a row has no ``name``: the mapped column is absent, or which columns there are."""
        columns = ", ".join(repr(str(key)) for key in list(data)[:15]) + (", …" if len(data) > 15 else "")
        if name in self.mapping:
            column = self.mapping[name]
            if self._column(data, column) is None and self._path(data, column) is None:
                return f"no column {column!r} (from --map {name}={column}); the columns are {columns}"
            return f"no {what} in column {column!r}"
        return (f"no {what} (expected a {name!r} column or a --map {name}=COLUMN; "
                f"the columns are {columns})")

    def to_mention(self, data: dict[str, Any]) -> Mention:
        text = self._get(data, "text")
        title = str(self._get(data, "title") or "")
        if text is None or not str(text).strip():
            if not title.strip():
                raise ValueError(self._missing(data, "text", "text"))
            text = title  # a link post (an HN story, say) says everything in its title
        text = str(text)
        raw_date = self._get(data, "created_at")
        if raw_date in (None, ""):
            raise ValueError(self._missing(data, "created_at", "date"))
        try:
            created_at = parse_datetime(raw_date, self.date_format, self.timezone)
        except ValueError as exc:
            if self.date_format or not str(exc).startswith("cannot read the date"):
                raise
            raise ValueError(f"{exc}: give its format with --date-format "
                             "(e.g. '%m/%d/%Y %I:%M %p' for 11/28/2026 2:03 pm)") from None
        source = _checked("source", self.source_name or self._source_column(data))
        external_id = export_id(self._get(data, "id"))
        if external_id is None:
            # Stable id from the content, so importing the same export twice adds nothing.
            digest = hashlib.sha256(f"{created_at.isoformat()}\n{content_key(text)}".encode("utf-8", "replace"))
            external_id = digest.hexdigest()[:24]
        kind = str(self._get(data, "kind") or "post")
        if kind not in KINDS and "kind" not in self.mapping and self._column(data, "kind") is None:
            kind = "post"  # a "type" column of the export's own ("submission", "Received Mention")
        rating = self._get(data, "rating")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        if rating not in (None, ""):
            given, rating = rating, parse_rating(rating)
            kind = "review" if kind == "post" else kind
            if float(given) != rating and not self._fraction_noted:
                self._fraction_noted = True
                self.report.notes.append((self._line, f"rating {quote_value(given)} read as {rating} stars: a "
                                                      "fraction of a star rounds to the nearest, a half up "
                                                      "(2.5 is 3), on this line and any like it"))
        else:
            rating = None
        brand = self.brand_name(_checked("brand", self.brand or str(self._get(data, "brand") or ""))) \
            or self._brand_by_app(data) or attribute(self.settings, f"{title}\n{text}")

        def optional(name: str) -> str | None:
            value = self._get(data, name)
            return None if value in (None, "") else str(value)

        reach = optional("reach")

        return Mention(
            source=source, external_id=_checked("id", str(external_id)), text=text, created_at=created_at,
            brand=brand, kind=kind, author=_author(self._get(data, "author")),
            url=str(self._get(data, "url") or ""), title=title, rating=rating,
            language=optional("language"), parent_id=export_id(self._get(data, "parent_id")),
            app_version=optional("app_version"), country=optional("country"),
            reach=parse_reach(reach) if reach is not None else None,
            vendor_sentiment=optional("vendor_sentiment"), raw=data,
        )

    def _brand_by_app(self, data: dict[str, Any]) -> str:
        """The brand whose `apps` list the row's app (a Play Console `Package Name`, an `App ID`): a
        review of the brand's own app is about the brand whether or not its words name it."""
        for column in _APP_COLUMNS:
            key = self._column(data, column)
            value = str(data[key] or "").strip() if key is not None else ""
            if value:
                for brand in self.settings.brands:
                    if any(value == str(app).strip() for apps in brand.apps.values() for app in apps):
                        return brand.name
        return ""

    def brand_name(self, name: str) -> str:
        """A brand given by the file or --brand, spelled as configured: "acme " or "ACME" is brand Acme.

        Stored as typed, it would name no configured brand and every complaint would be off-topic; a
        name that is no configured brand ("Acme Inc") is counted in the report and the row is matched
        by its text, as if the file had no brand column.
        """
        if not name.strip():
            return ""
        known = configured_name(self.settings, name)
        if known is None:
            self.report.unknown_brands[name] = self.report.unknown_brands.get(name, 0) + 1
        return known or ""


def _author(value: Any) -> str:
    """An author as text; an author object (JSON exports) by its name or handle, not as a dict."""
    if isinstance(value, dict):
        for key in ("screen_name", "username", "handle", "name", "id"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        return ""
    return "" if value is None else str(value)


def _checked(name: str, value: str) -> str:
    """An identifying field as stored: a lone surrogate or a NUL cannot be kept, and cleaning
    either out could merge two ids (`a<NUL>b` and `ab`) or file a row as already stored."""
    if "\x00" in value:
        raise ValueError(f"{name}: holds a NUL character (position {value.index(chr(0)) + 1})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name}: holds a character that is not valid Unicode "
                         f"(U+{ord(value[exc.start]):04X} at position {exc.start + 1})") from None
    return value


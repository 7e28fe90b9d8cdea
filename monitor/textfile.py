"""Reading CSV and JSONL files row by row, with line numbers for every error."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from monitor.errors import InputError

JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}


@dataclass(frozen=True)
class Row:
    line: int
    data: dict[str, Any] | None
    error: str | None = None


def file_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise InputError(f"{path}: unknown file type {suffix!r}; use .csv, .tsv or .jsonl")


def read_rows(path: str | Path) -> Iterator[Row]:
    """Rows of a CSV/TSV (header line first) or JSONL file; unreadable lines come as errors."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    fmt = file_format(path)
    # Undecodable bytes become U+FFFD instead of losing the whole line.
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        if fmt == "jsonl":
            yield from _jsonl_rows(fh)
        else:
            yield from _csv_rows(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")


def _jsonl_rows(fh: io.TextIOBase) -> Iterator[Row]:
    for number, line in enumerate(fh, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Row(number, None, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(data, dict):
            yield Row(number, None, f"expected a JSON object, got {type(data).__name__}")
            continue
        yield Row(number, data)


def _csv_rows(fh: io.TextIOBase, delimiter: str) -> Iterator[Row]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(fh, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV header: {exc}") from None
    header = [h.strip() for h in header]
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Row(reader.line_num, None, f"not valid CSV: {exc}")
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield Row(reader.line_num, None,
                      f"expected {len(header)} columns, found {len(values)}")
            continue
        yield Row(reader.line_num, dict(zip(header, values, strict=True)))


def count_rows(path: str | Path) -> int:
    """Roughly how many rows a file holds (its lines less a CSV header), for progress bars."""
    path = Path(path)
    with open(path, "rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return max(0, lines - (file_format(path) == "csv"))


def parse_datetime(value: Any, fmt: str | None = None, zone: tzinfo | None = None) -> datetime:
    """A timezone-aware UTC datetime from ISO 8601, epoch seconds, RFC 2822 or ``fmt``.

    A date without an offset is read in ``zone`` (UTC when none is given).
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        dt = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if fmt:
            dt = datetime.strptime(text, fmt)
        elif text.replace(".", "", 1).isdigit():
            return parse_datetime(float(text))
        else:
            try:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                try:
                    dt = parsedate_to_datetime(text)
                except (TypeError, ValueError):
                    raise ValueError(f"cannot read the date {text!r}") from None
    else:
        raise ValueError(f"cannot read the date {value!r}")
    return (dt.replace(tzinfo=zone or UTC) if dt.tzinfo is None else dt).astimezone(UTC)


def parse_rating(value: Any) -> int | None:
    """A star rating of 1 to 5 from a number or numeric text; None when absent, ValueError when not a rating."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"rating must be 1 to 5, not {value!r}")
    try:
        number = float(str(value).strip()[:32])
    except ValueError:
        raise ValueError(f"rating must be a number from 1 to 5, not {str(value)[:40]!r}") from None
    if not 1 <= number <= 5 or number != int(number):
        raise ValueError(f"rating must be a whole number from 1 to 5, not {str(value)[:40]!r}")
    return int(number)


"""Reading CSV and JSONL files row by row, with line numbers for every error; writing files owner-only."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from monitor.core.errors import InputError
from monitor.core.values import quote_value

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


def read_rows(path: str | Path, encoding: str | None = None) -> Iterator[Row]:
    """Rows of a CSV/TSV (header line first) or JSONL file; unreadable lines come as errors."""
    path = Path(path)
    fmt = file_format(path)
    encoding = encoding or detect_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        if fmt == "jsonl":
            yield from _jsonl_rows(fh)
        else:
            yield from _csv_rows(fh, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")


# (byte-order mark, the encoding a file with it is read in, the codec its bytes after the mark are checked with)
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32", "utf-32-be"),
         (codecs.BOM_UTF8, "utf-8-sig", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"))


def detect_encoding(path: Path, *, command: str = "import") -> str:
    """The file's encoding: UTF-8, or UTF-8/16/32 with a byte-order mark; anything else is an InputError.

    The whole file is checked before a row is read, with a byte-order mark too: an import never
    stops half-way, and never stores U+FFFD in place of the text it could not decode. ``command``
    (import, classify) is what the error says was not done.
    """
    done = {"import": "imported", "classify": "classified"}.get(command, f"{command}ed")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(4)
        encoding, codec, skip = "utf-8", "utf-8", 0
        for bom, with_bom, checked in _BOMS:
            if head.startswith(bom):
                encoding, codec, skip = with_bom, checked, len(bom)
                break
        else:
            if b"\x00" in head[:4] and len(head) >= 2:
                raise InputError(f"{path}: looks like UTF-16 or UTF-32 without a byte-order mark; "
                                 "save it as UTF-8")
        fh.seek(skip)
        name = codec.upper().replace("-LE", "").replace("-BE", "")
        decoder = codecs.getincrementaldecoder(codec)()
        line = 1
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            try:
                line += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError as exc:
                # exc.object is what the decoder held over from the last chunk, then this one
                before = exc.object[: exc.start].decode(codec, "replace")
                line += before.count("\n")
                column = len(before) - (before.rfind("\n") + 1) + 1
                bad = exc.object[exc.start: max(exc.end, exc.start + 1)].hex(" ")
                raise InputError(
                    f"{path}: line {line}, column {column}: not valid {name} (byte{'s' * (' ' in bad)} "
                    f"0x{bad.replace(' ', ' 0x')}); nothing was {done}: save the file as UTF-8 and "
                    f"{command} it again"
                ) from None
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputError(f"{path}: line {line}: the file ends inside a {name} character; "
                             f"nothing was {done}") from None
    return encoding


def _jsonl_rows(fh: io.TextIOBase) -> Iterator[Row]:
    head: list[str] = []
    for line in fh:
        head.append(line)
        if line.strip():
            break
    if head and head[-1].lstrip().startswith("["):
        # One JSON array of objects (what many tools and APIs export as .json), not JSON Lines.
        yield from _json_array_rows("".join(head) + fh.read())
        return
    lines = iter(head)
    for number, line in enumerate(_chain(lines, fh), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line, object_pairs_hook=_JsonObject.of)
        except (ValueError, RecursionError) as exc:
            yield Row(number, None, _unreadable(exc))
            continue
        yield _object_row(number, data)


def _unreadable(exc: ValueError | RecursionError) -> str:
    """Why a JSON text could not be read, in one line."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "not readable: JSON nested too deeply"
    # Python refuses integers of more than 4,300 digits.
    return "not readable: " + ("a number has more than 4,300 digits" if "digits" in str(exc) else str(exc))


def _object_row(line: int, data: Any) -> Row:
    """A decoded JSON value as a row: an object once per key, else that line's error."""
    if not isinstance(data, dict):
        return Row(line, None, f"expected a JSON object, got {type(data).__name__}")
    if isinstance(data, _JsonObject) and data.duplicate is not None:
        # json keeps the last value and drops the other unseen
        return Row(line, None, f"the key {quote_value(data.duplicate)} appears twice in this object")
    return Row(line, dict(data))


class _JsonObject(dict):  # type: ignore[type-arg]
    """A JSON object that remembers a key it held twice."""

    duplicate: str | None = None

    @classmethod
    def of(cls, pairs: list[tuple[str, Any]]) -> _JsonObject:
        obj = cls(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            obj.duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        return obj


def _chain(first: Iterator[str], rest: Any) -> Iterator[str]:
    yield from first
    yield from rest


def _json_array_rows(text: str) -> Iterator[Row]:
    """The objects of a JSON array, each with the line it starts on; reading stops at a broken one."""
    decoder = json.JSONDecoder(object_pairs_hook=_JsonObject.of)
    ws = re.compile(r"\s*")
    pos = ws.match(text, text.index("[") + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", pos):
        return
    while True:
        line = text.count("\n", 0, pos) + 1
        try:
            data, pos = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError) as exc:
            at = exc.lineno if isinstance(exc, json.JSONDecodeError) else line
            yield Row(at, None, _unreadable(exc) + "; the rest of the array cannot be read")
            return
        yield _object_row(line, data)
        pos = ws.match(text, pos).end()  # type: ignore[union-attr]
        if text.startswith(",", pos):
            pos = ws.match(text, pos + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", pos):
            if text[pos + 1:].strip():
                yield Row(text.count("\n", 0, pos) + 1, None, "text after the end of the JSON array")
            return
        else:
            yield Row(text.count("\n", 0, pos) + 1, None,
                      "not valid JSON (expected ',' or ']' between the array's objects); "
                      "the rest of the array cannot be read")
            return


# Lines one CSV row may span before its quote is taken as never closed: bounds the memory and
# the work a stray quote costs in a large file.
MAX_ROW_LINES = 10_000


class _RunOn(Exception):
    """A quoted field has run on for MAX_ROW_LINES lines."""


class _Lines:
    """A file's physical lines, numbered, as csv.reader takes them.

    The lines of the row being read are kept, so that one whose quote never closes (it takes
    every line up to a stray quote further down or the end of the file) can be reported at
    the line where it opened and the lines it took read again.
    """

    def __init__(self, fh: io.TextIOBase) -> None:
        self.lines = enumerate(fh, start=1)
        self.record: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if len(self.record) >= MAX_ROW_LINES:
            raise _RunOn
        number, line = next(self.lines)
        self.record.append((number, line))
        return line


def _well_quoted(record: list[tuple[int, str]], delimiter: str) -> bool:
    """Whether a row over several lines is quoted as a spreadsheet writes it.

    Read leniently, a quote that never closes takes every line up to the end of the file
    or up to a stray quote further down (`a 5" screen`); read strictly, either is an error.
    """
    try:
        rows = list(csv.reader([line for _, line in record], delimiter=delimiter, strict=True))
    except csv.Error:
        return False
    return len(rows) == 1


def _row(number: int, values: list[str], header: list[str]) -> Row | None:
    if not any(v.strip() for v in values):
        return None
    if len(values) != len(header):
        return Row(number, None, f"expected {len(header)} columns, found {len(values)}")
    return Row(number, dict(zip(header, values, strict=True)))


def _alone(number: int, line: str, header: list[str], delimiter: str) -> Row | None:
    """A line taken by a quote that never closed, read on its own (each line is read at most twice)."""
    try:
        next(csv.reader([line], delimiter=delimiter, strict=True), [])
    except csv.Error as exc:
        if "end of data" in str(exc):  # this line opens a quote of its own that it does not close
            return Row(number, None, "a quote opened on this line is not closed")
    values = next(csv.reader([line], delimiter=delimiter), [])
    return _row(number, values, header)


def _csv_rows(fh: io.TextIOBase, delimiter: str) -> Iterator[Row]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    lines = _Lines(fh)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except (StopIteration, _RunOn):
        return
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV header: {exc}") from None
    # A second byte-order mark (a file saved twice) would hide the first column's name.
    header = [h.strip().lstrip("\ufeff").strip() for h in header]
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if name and name in seen:  # one of the two columns' values would be dropped unseen
            raise InputError(f"the header names column {name!r} twice (columns {seen[name]} and {i}); "
                             "rename one and import again")
        seen.setdefault(name, i)
    while True:
        lines.record = []
        error = None
        try:
            values = next(reader)
        except StopIteration:
            values = []  # the end, unless a quote ran on to it
        except (csv.Error, _RunOn) as exc:
            values, error = [], f"not valid CSV: {exc}"
        record = lines.record
        if not record:
            return
        first = record[0][0]
        if len(record) > 1 and (error or len(values) != len(header) or not _well_quoted(record, delimiter)):
            yield Row(first, None, f"a quote opened on this line is not closed (it ran on to line "
                                   f"{record[-1][0]}); the lines after it are read one by one")
            for number, line in record[1:]:
                row = _alone(number, line, header, delimiter)
                if row is not None:
                    yield row
            continue
        if error:
            yield Row(first, None, error)
            continue
        if len(record) == 1 and any("\n" in v for v in values):  # the last line opens a quote, never closed
            yield Row(first, None, "a quote opened on this line is not closed")
            continue
        row = _row(first, values, header)
        if row is not None:
            yield row


def private_file(path: str | Path) -> IO[str]:
    """A text file opened for writing, readable by its owner only (0600) whatever the umask.

    What listenpost writes out (reports, scores, digest previews) holds mention text and
    author names, as the database does.
    """
    _refuse_database(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    # A file that was already there keeps its old mode otherwise; one that is not ours to
    # change (a shared folder) is still written, as the user asked. Only a regular file: run as
    # root, `--output /dev/null` made /dev/null 0600 for the whole machine.
    with contextlib.suppress(OSError):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _refuse_database(path: str | Path) -> None:
    regular = False
    with contextlib.suppress(OSError):
        regular = stat.S_ISREG(os.stat(path).st_mode)  # never open a pipe to read it: that waits
    with contextlib.suppress(OSError), open(path, "rb") if regular else contextlib.nullcontext() as existing:
        # `report --csv listenpost.db` emptied the database itself, and said "Written to".
        if existing is not None and existing.read(16) == b"SQLite format 3\x00":
            raise InputError(f"{path}: is an SQLite database (listenpost's, perhaps); "
                             "choose another file to write to")


@contextlib.contextmanager
def whole_file(path: str | Path) -> Iterator[IO[str]]:
    """A file written whole or not at all, owner-only: written beside ``path`` under a temporary
    name and renamed over it when the block ends without an error, so an interrupted run leaves
    the old file (or none) rather than a truncated one. A symbolic link at ``path`` is replaced by
    the new file; the file it pointed to is left as it was, mode included. Anything but a regular
    file (a pipe, /dev/null), or a file in a folder that cannot take a new one, is written in place,
    as ``private_file`` does.
    """
    special = False
    with contextlib.suppress(OSError):
        special = not stat.S_ISREG(os.stat(path).st_mode)  # followed: a link to /dev/null writes there
    if not os.path.islink(path):
        _refuse_database(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, temporary = (-1, "") if special else tempfile.mkstemp(
            dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".partial")
    except OSError as exc:
        if not (os.path.isfile(path) and os.access(path, os.W_OK)):
            raise OSError(exc.errno, exc.strerror, str(path)) from None  # named as asked, not the temporary
        special = True  # a file we may write in a folder we may not: written in place, as before
    if special:
        with private_file(path) as direct:
            yield direct
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def spool(stream: IO[bytes], folder: str | Path) -> Path:
    """Standard input copied to a file in ``folder``, named for its format: JSON lines when its first
    character (after any byte-order mark and blank space) is ``{``, a JSON array when it is ``[``, else
    CSV (TSV with tabs and no commas)."""
    head = stream.read(1 << 16)
    start = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n")
    first = start.split(b"\n", 1)[0]
    suffix = (".jsonl" if start.startswith(b"{") else ".json" if start.startswith(b"[")
              else ".tsv" if b"\t" in first and b"," not in first else ".csv")
    path = Path(folder) / f"stdin{suffix}"
    with open(path, "wb") as fh:
        fh.write(head)
        shutil.copyfileobj(stream, fh)
    return path


def count_rows(path: str | Path) -> int:
    """Roughly how many rows a file holds (its lines less a CSV header), for progress bars."""
    path = Path(path)
    with open(path, "rb") as fh:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
    return max(0, lines - (file_format(path) == "csv"))

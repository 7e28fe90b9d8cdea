"""Where the data lives: an SQLite file, or a PostgreSQL server named by a ``postgresql://`` URL.

The `database` setting (settings.toml, ``LISTENPOST_DATABASE``, ``--db``) is parsed here, shown
with any password masked, and a PostgreSQL connection is opened here with its failures in one line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from monitor.core.errors import ConfigError, ListenpostError

if TYPE_CHECKING:
    import psycopg

POSTGRES_SCHEMES = ("postgresql", "postgres")
APPLICATION_NAME = "listenpost"
# "mysql://", "sqlite+pysqlite://", "http://": anything that names a scheme is a URL, never a file.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):(//)?")
_PASSWORD_PARAM = re.compile(r"(?i)(\bpassword=)[^&]*")
# SQLSTATEs a connection attempt answers with, and what they mean to the person running listenpost.
_AUTH_FAILED = {"28P01", "28000"}
_NO_DATABASE = "3D000"


class DatabaseError(ListenpostError):
    """The database named by the settings cannot be opened: the server is down, refuses us, or lacks it."""


@dataclass(frozen=True)
class DatabaseLocation:
    """The `database` setting, parsed: an SQLite ``path`` or a PostgreSQL ``url``."""

    kind: Literal["sqlite", "postgresql"]
    path: str = ""
    url: str = ""

    def display(self) -> str:
        """The location for people and logs: a password in the URL shows as ``***``."""
        return self.path if self.kind == "sqlite" else mask_url(self.url)

    @property
    def server(self) -> str:
        """The PostgreSQL server and database, as an error names them: ``db.example:5432/listenpost``."""
        parts = urlsplit(self.url)
        host = parts.hostname or os.environ.get("PGHOST") or "the local socket"
        port = _port(parts) or os.environ.get("PGPORT") or "5432"
        name = parts.path.lstrip("/") or os.environ.get("PGDATABASE") or "(the user's own database)"
        return f"{host}:{port}/{name}"


def parse_database(value: str) -> DatabaseLocation:
    """A file path (``listenpost.db``, ``:memory:``) or a ``postgresql://host/dbname`` URL.

    A value with a scheme is never taken as a file name: ``postgresql://db/x`` used to become a
    folder named ``postgresql:``. Any scheme other than PostgreSQL's is a settings error.
    """
    text = value.strip()
    if not text:
        raise ConfigError("database: the database path is empty (a file name such as \"listenpost.db\")")
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if match and len(scheme) == 1 and not match.group(2):
        return DatabaseLocation("sqlite", path=value)  # C:\data\listenpost.db, a drive letter
    if match and scheme in POSTGRES_SCHEMES:
        if not match.group(2):
            raise ConfigError(f"database: a PostgreSQL URL starts with {scheme}:// "
                              "(postgresql://host/dbname)")
        _check_postgres_url(text)
        return DatabaseLocation("postgresql", url=text)
    if match and (match.group(2) or "+" in scheme):
        raise ConfigError(f"database: {scheme}:// is not a database listenpost can use; give a file path "
                          "(listenpost.db) or a postgresql://host/dbname URL")
    return DatabaseLocation("sqlite", path=value)


def _check_postgres_url(url: str) -> None:
    """Refuse a URL libpq would refuse, before anything tries to connect with it."""
    shown = mask_url(url)
    try:
        parts = urlsplit(url)
        _port(parts)
    except ValueError:
        raise ConfigError(f"database: {shown}: the port is not a number") from None
    from psycopg import conninfo

    try:
        conninfo.conninfo_to_dict(url)
    except Exception as exc:  # psycopg.ProgrammingError: an unknown parameter, a stray character
        # libpq's own message can quote the whole URL, password included: name only the problem.
        reason = str(exc).replace(url, shown).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"database: {shown}: not a valid PostgreSQL URL ({reason})") from None


def _port(parts: Any) -> str:
    port = parts.port  # raises ValueError for "host:abc"
    return str(port) if port is not None else ""


def mask_url(url: str) -> str:
    """The URL with its password, in the authority or as ``?password=``, shown as ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "a database URL"
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        user, colon, _password = credentials.partition(":")
        netloc = f"{user}{':***' if colon else ''}@{host}"
    query = _PASSWORD_PARAM.sub(r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def has_password(url: str) -> bool:
    """Whether a URL carries a password itself (rather than leaving it to PGPASSWORD)."""
    return mask_url(url) != url


def connect_postgres(url: str, *, application_name: str = APPLICATION_NAME,
                     connect_timeout: int = 10) -> psycopg.Connection[dict[str, Any]]:
    """A psycopg connection to the server the URL names: transactions explicit (autocommit off),
    rows as dicts. User and password come from the URL or, normally, ``PGUSER`` / ``PGPASSWORD``.

    A failure is one line naming the server: refused, authentication failed, no such database.
    """
    import psycopg
    from psycopg.rows import dict_row

    location = parse_database(url)
    if location.kind != "postgresql":
        raise ConfigError(f"database: {location.display()} is not a PostgreSQL URL")
    try:
        return psycopg.connect(url, autocommit=False, row_factory=dict_row,
                               application_name=application_name, connect_timeout=connect_timeout)
    except psycopg.Error as exc:
        raise DatabaseError(f"PostgreSQL at {location.server}: {connect_failure(exc, url)}") from None


def connect_failure(exc: BaseException, url: str = "") -> str:
    """Why a connection attempt failed, in one line and without the password."""
    state = getattr(exc, "sqlstate", None)
    text = " ".join(str(exc).split())
    if url:
        text = text.replace(url, mask_url(url))
    lowered = text.lower()
    if state in _AUTH_FAILED or "authentication failed" in lowered or "no password supplied" in lowered:
        user = re.search(r'for user "([^"]*)"', text)
        who = f" for user {user.group(1)!r}" if user else ""
        return f"authentication failed{who} (set PGUSER and PGPASSWORD)"
    if state == _NO_DATABASE or ("database" in lowered and "does not exist" in lowered):
        name = re.search(r'database "([^"]*)" does not exist', text)
        missing = f"database {name.group(1)!r}" if name else "the database"
        return f"{missing} does not exist on the server (create it with createdb)"
    if "connection refused" in lowered:
        return "connection refused (is the server running and accepting TCP/IP connections?)"
    if "timeout expired" in lowered:
        return "no answer from the server (connection timed out)"
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return "unknown host name"
    if "no such file or directory" in lowered:
        return "no server listening on the local socket"
    reason = re.sub(r"^connection failed: ", "", text)
    return re.sub(r"^connection to server at [^:]*?failed: ", "", reason)


def check_database(database: str) -> DatabaseLocation:
    """The `database` setting, parsed; a PostgreSQL server is tried at once, so that an unreachable
    one is reported in one line before a command starts its work. A URL never becomes a file."""
    location = parse_database(database)
    if location.kind == "postgresql":
        connect_postgres(location.url).close()
    return location

"""Where the data lives: an SQLite file, or a PostgreSQL server named by a ``postgresql://`` URL.

The `database` setting (settings.toml, ``LISTENPOST_DATABASE``, ``--db``) is parsed here, shown
with any password masked, and a PostgreSQL connection is opened here with its failures in one line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

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
        """The PostgreSQL server(s) and database, as an error names them: ``db.example:5432/listenpost``,
        ``a:5432,b:5432/listenpost`` for libpq's several hosts, ``/run/postgresql:5432/lp`` for a socket."""
        parts = _split_url(self.url)
        query = _query(parts.query)
        hosts = parts.hosts or query.get("host", "")
        if hosts and "," in hosts:
            name = parts.path or query.get("dbname") or os.environ.get("PGDATABASE") or "(the user's own database)"
            return f"{hosts}/{name}"
        if hosts:
            host, _, port = _host_port(hosts)
        else:
            host, port = "", ""
        host = host or os.environ.get("PGHOST") or "the local socket"
        port = port or query.get("port") or os.environ.get("PGPORT") or "5432"
        name = parts.path or query.get("dbname") or os.environ.get("PGDATABASE") or "(the user's own database)"
        return f"{host}:{port}/{name}"


@dataclass(frozen=True)
class _UrlParts:
    """A PostgreSQL URL cut as libpq reads it, the password taken up to the LAST ``@``."""

    prefix: str  # "postgresql://"
    userinfo: str  # "ann:s3cret" ("" when none); may hold raw # / ? @ that only the mask copes with
    has_at: bool
    hosts: str  # "db:5432" or "a:5432,b:5433" or "[::1]:5432"
    path: str  # the database name, without the leading /
    query: str


def _split_url(url: str, *, last_at: bool = False) -> _UrlParts:
    """Cut without urllib: urlsplit ends the host part at a raw ``#``, ``/`` or ``?`` in a password
    and would show the password as a host or a path; here everything up to the last ``@`` is the
    user and password, unless that ``@`` is in a query value (``?application_name=a@b``).
    ``last_at`` (for masking) always takes the last ``@``: hiding too much is the safe mistake."""
    match = _SCHEME.match(url)
    prefix = match.group(0) if match else ""
    rest = url[len(prefix):]
    at = rest.rfind("@")
    question = rest.find("?")
    if not last_at and at != -1 and -1 < question < at and "=" in rest[question:at]:
        ends = [i for i in (rest.find(c) for c in "/?#") if i != -1]
        at = rest.rfind("@", 0, min(ends))
    userinfo, after = (rest[:at], rest[at + 1:]) if at != -1 else ("", rest)
    end = len(after)
    for stop in "/?#":
        index = after.find(stop)
        if index != -1:
            end = min(end, index)
    hosts, tail = after[:end], after[end:]
    tail = tail.split("#", 1)[0]
    path, _, query = tail.partition("?")
    return _UrlParts(prefix, userinfo, at != -1, hosts, path.lstrip("/"), query)


def _query(query: str) -> dict[str, str]:
    from urllib.parse import unquote

    found: dict[str, str] = {}
    for pair in query.split("&"):
        key, equals, value = pair.partition("=")
        if equals and key.lower() != "password":
            found[key.lower()] = unquote(value)
    return found


def _host_port(item: str) -> tuple[str, str, str]:
    """``host:port`` or ``[::1]:port`` → (host, ":", port)."""
    if item.startswith("["):
        host, bracket, after = item.partition("]")
        if after.startswith(":"):
            return host + bracket, ":", after[1:]
        return host + bracket, "", after  # "" or something that is not ":port"
    return item.partition(":")


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


_ENCODE = {"#": "%23", "/": "%2F", "?": "%3F", "@": "%40", "%": "%25", " ": "%20"}


def _must_encode(char: str) -> ConfigError:
    what = "a space" if char == " " else char
    return ConfigError(f"database: the password in the URL must be percent-encoded ({_ENCODE[char]} for {what}), "
                       "or set PGPASSWORD")


def _check_postgres_url(url: str) -> None:
    """Refuse a URL libpq would refuse, before anything tries to connect with it; no message quotes
    the URL's password, whatever characters it holds."""
    shown = mask_url(url)
    parts = _split_url(url)
    if parts.userinfo:
        # libpq ends the user and password at the first "@" and takes a "/" for the database name;
        # Python and most other tools also end them at "?" or "#".
        _user, colon, password = parts.userinfo.partition(":")
        for char in "@/?# ":
            if char in password:
                raise _must_encode(char)
            if char in _user:
                raise ConfigError("database: the user name in the URL must be percent-encoded "
                                  f"({_ENCODE[char]} for {'a space' if char == ' ' else char})")
        if re.search(r"%(?![0-9A-Fa-f]{2})", parts.userinfo):
            raise _must_encode("%") if colon else ConfigError(
                "database: the user name in the URL must be percent-encoded (%25 for %)")
    for item in parts.hosts.split(",") if parts.hosts else []:
        if item.startswith("[") and "]" not in item:
            raise ConfigError(f"database: {shown}: an IPv6 address must end with ] ([::1]:5432)")
        _host, colon, port = _host_port(item)
        if item.startswith("[") and port and not colon:
            raise ConfigError(f"database: {shown}: a host in brackets is followed by :port, not {port[:1]!r}")
        if not port:
            continue
        if not port.isdigit():
            raise ConfigError(f"database: {shown}: the port is not a number")
        if not 1 <= int(port) <= 65535:
            raise ConfigError(f"database: {shown}: the port {int(port)} is out of range (1-65535)")
    from psycopg import conninfo

    try:
        conninfo.conninfo_to_dict(url)
    except Exception as exc:  # psycopg.ProgrammingError: an unknown parameter, a stray character
        # libpq's own message can quote the whole URL, password included: name only the problem.
        raise ConfigError(f"database: {shown}: not a valid PostgreSQL URL ({_reason(exc, url)})") from None


def _reason(exc: BaseException, url: str) -> str:
    """libpq's complaint about a URL, its first line, with any trace of the password taken out."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    reason = reason.replace(url, mask_url(url))
    for secret in _secrets(url):
        if secret in reason:
            reason = reason.replace(secret, "***")
    if _secrets(url):
        reason = re.sub(r'"[^"]*"', '"…"', reason)  # a quoted token may be a piece of the password
    return reason


def _secrets(url: str) -> list[str]:
    from urllib.parse import unquote

    parts = _split_url(url)
    found = []
    _user, colon, password = parts.userinfo.partition(":")
    if colon and password:
        found += [password, unquote(password)]
    for match in re.finditer(r"(?i)\bpassword=([^&]*)", parts.query):
        if match.group(1):
            found += [match.group(1), unquote(match.group(1))]
    return sorted(set(found), key=len, reverse=True)


def mask_url(url: str) -> str:
    """The URL with its password, in the authority or as ``?password=``, shown as ``***``.

    The password is everything between ``scheme://user:`` and the last ``@``, whatever it holds
    (a raw ``#``, ``/``, ``?`` or ``@`` included). ``postgresql://`` alone, leaving the server to
    libpq's environment, shows as where it comes from.
    """
    parts = _split_url(url, last_at=True)
    if not parts.prefix:
        return "a database URL"
    body = url[len(parts.prefix):]
    if parts.has_at:
        user, colon, _password = parts.userinfo.partition(":")
        credentials = f"{user}{':***' if colon else ''}@"
        body = body[len(parts.userinfo) + 1:]
    else:
        credentials = ""
    body = _PASSWORD_PARAM.sub(r"\1***", body)
    if not credentials and not body:
        return f"{parts.prefix}(from PGHOST/PGDATABASE)"
    return f"{parts.prefix}{credentials}{body}"


def has_password(url: str) -> bool:
    """Whether a URL carries a password itself (rather than leaving it to PGPASSWORD)."""
    return bool(_secrets(url))


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

"""Settings: settings.toml loaded into typed, validated objects, with environment overrides.

Priority is CLI flag > environment > settings.toml > default. Secrets never live in the
file: they are read from ``LISTENPOST_*`` environment variables when needed.
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.core.database import DatabaseLocation, has_password, parse_database
from monitor.core.durations import MAX_DURATION, describe, format_duration, parse_duration
from monitor.core.errors import ConfigError, MissingCredential
from monitor.core.names import ENV_PREFIX
from monitor.core.records import LABEL_ORDER
from monitor.core.tables import build, toml_hint

# Imported from here by the rest of listenpost, with the settings they describe.
__all__ = ["ENV_PREFIX", "LABEL_ORDER", "MAX_DURATION", "build", "describe", "format_duration", "parse_duration"]

DEFAULT_SETTINGS = Path("settings.toml")


def duration(default: str | float, *, positive: bool = False) -> Any:
    return field(default=parse_duration(default), metadata={"duration": True, "positive": positive})


@dataclass(frozen=True)
class Brand:
    name: str
    queries: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    ignore_authors: list[str] = field(default_factory=list)
    # The brand's own accounts as people tag them ("@AcmeHelp"): a post naming one is about the brand.
    handles: list[str] = field(default_factory=list)
    apps: dict[str, list[str]] = field(default_factory=dict)
    # the brand's own channel, page, account or business unit ids, per source
    accounts: dict[str, list[str]] = field(default_factory=dict)
    reply_signature: str = ""
    support_contact: str = ""
    reply_template: str = ""
    # Watched for comparison: collected and scored, shown as share of voice, never alerted.
    competitor: bool = False


@dataclass(frozen=True)
class Source:
    enabled: bool = False
    interval: float = duration("15m", positive=True)
    base_url: str = field(default="", metadata={"url": True})
    timeout: float = duration("20s", positive=True)
    max_retries: int = 4
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClassifierSettings:
    model: str = "default"
    # Unset: the threshold the active model was tuned for (0.4 for the shipped model, chosen on
    # the TweetEval validation tweets; the one a trained model's listenpost.json carries; else 0.5).
    negative_threshold: float | None = None
    # Unset: the threshold the active model was tuned for, chosen for negative precision; a
    # negative below it is labeled but not alerted ("worth a look" in the digest).
    alert_threshold: float | None = None
    batch_size: int = 32
    label_map: dict[str, str] = field(default_factory=dict)
    allow_download: bool = False
    # Share of VADER's scores mixed into the model's; unset or 0: none.
    lexicon_weight: float | None = None
    # int8 dynamic quantization of a transformer's linear layers: faster on CPU, but scores then
    # vary a little with the other texts in a batch and accuracy drops slightly (docs/model.md
    # has the figures). Off by default.
    int8: bool = False


@dataclass(frozen=True)
class Channel:
    type: str
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    quiet_hours: str = ""
    quiet_mode: str = "wait"


@dataclass(frozen=True)
class Route:
    channels: list[str]
    brands: list[str] = field(default_factory=lambda: ["*"])
    sources: list[str] = field(default_factory=lambda: ["*"])
    min_severity: str = "negative"
    # A negative whose reach (followers, points...) is at least this goes straight to on-call
    # (alerts.escalation.channels) as well; unset: never by reach.
    escalate_reach: int | None = None


@dataclass(frozen=True)
class Escalation:
    after: float = duration("30m")
    channels: list[str] = field(default_factory=list)
    mention: str = ""


@dataclass(frozen=True)
class Praise:
    # Channels that get a message for each mention worth a thank-you; none: the digest and
    # `listenpost mentions thanks` only.
    channels: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Alerts:
    channels: dict[str, Channel] = field(
        default_factory=lambda: {"console": Channel(type="console")}
    )
    routes: list[Route] = field(default_factory=lambda: [Route(channels=["console"])])
    max_attempts: int = 8
    escalation: Escalation = field(default_factory=Escalation)
    praise: Praise = field(default_factory=Praise)
    group_window: float = duration("6h")
    # A spike is judged against history: none for a brand with less collected history than this.
    spike_min_history: float = duration("3d")


@dataclass(frozen=True)
class Digest:
    recipients: list[str] = field(default_factory=list)
    sender: str = "listenpost@localhost"
    send_at: str = "08:00"
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_security: str = "starttls"
    grade_excellent: float = duration("1h")
    grade_average: float = duration("24h")
    smtp_timeout: float = duration("30s", positive=True)
    # negatives posted this far back with no reply recorded are listed as unanswered
    unanswered_window: float = duration("7d")


@dataclass(frozen=True)
class Schedule:
    """How often `listenpost run` sends alerts and checks escalations; when it tidies the database."""

    dispatch_every: float = duration("30s", positive=True)
    escalate_every: float = duration("1m", positive=True)
    maintenance_at: str = "03:30"
    # Workers sharing a database: a worker silent this long is gone and its jobs go to another;
    # each worker renews what it holds every heartbeat_every.
    worker_ttl: float = duration("60s", positive=True)
    heartbeat_every: float = duration("15s", positive=True)
    # An alert left 'sending' this long by a worker that died is taken over by another.
    send_lease: float = duration("2m", positive=True)


@dataclass(frozen=True)
class Settings:
    database: str = "listenpost.db"
    timezone: str = "UTC"
    brands: list[Brand] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    alerts: Alerts = field(default_factory=Alerts)
    digest: Digest = field(default_factory=Digest)
    raw_retention: float = duration("90d")
    schedule: Schedule = field(default_factory=Schedule)
    path: str = field(default="", metadata={"internal": True})

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database_location(self) -> DatabaseLocation:
        """`database` parsed: an SQLite file or a PostgreSQL URL (``.display()`` masks a password)."""
        return parse_database(self.database)

    def source(self, name: str) -> Source:
        return self.sources.get(name, Source())

    def brand(self, name: str) -> Brand | None:
        return next((b for b in self.brands if b.name == name), None)

    @property
    def brand_names(self) -> list[str]:
        """Every brand's name and handles (without "@"): names, not words of the post's language."""
        return [n for b in self.brands for n in (b.name, *(h.lstrip("@") for h in b.handles))]


def _env_value(raw: str) -> Any:
    """Environment values are read as TOML literals when they parse, otherwise as strings."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], environ: typing.Mapping[str, str]) -> dict[str, str]:
    """LISTENPOST_DATABASE, LISTENPOST_CLASSIFIER__NEGATIVE_THRESHOLD=0.6 and the like.

    Returns the dotted keys set, each with the variable that set it, so errors can name it.
    """
    top = {f.name.upper() for f in fields(Settings) if not f.metadata.get("internal")}
    applied: dict[str, str] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):]
        if "__" not in rest and rest not in top:
            continue  # a secret such as LISTENPOST_SLACK_BOT_TOKEN
        path = [p.lower() for p in rest.split("__")]
        if path[0].upper() not in top or not all(path):
            raise ConfigError(f"{name}: {path[0] or rest.lower()!r} is not a setting "
                              f"(known: {', '.join(sorted(t.lower() for t in top))})")
        applied[".".join(path)] = name
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: {'.'.join(path)} does not name a table")
        node[path[-1]] = _env_value(raw)
    return applied


def _env_label(exc: ConfigError, applied: dict[str, str]) -> str | None:
    """The variable behind the key an error names, when the environment set that key."""
    key = str(exc).split(":", 1)[0]
    if key.startswith(ENV_PREFIX):
        return "environment"
    for path, name in applied.items():
        if key == path or key.startswith((path + ".", path + "[")):
            return name
    return None


def _database_in_file(value: str, file: Path, label: str) -> str:
    """The file's `database`: a relative path is relative to the file, not to the cwd; a URL is
    kept as it is, and holds no password (`config show` prints the file's settings; PGPASSWORD)."""
    try:
        location = parse_database(value)
    except ConfigError:
        return value if value.strip() else str(file.parent / value)  # validate() names the problem
    if location.kind == "sqlite":
        return str(file.parent / value)
    if has_password(location.url):
        raise ConfigError(f"{label}: database: a password does not belong in the settings file; "
                          "set PGPASSWORD (and PGUSER) in the environment instead")
    return value


def load_settings(
    path: str | Path | None = None,
    *,
    environ: typing.Mapping[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Load settings from ``path`` (or ./settings.toml when present), the environment and flags.

    Errors name the file and the key: ``settings.toml: classifier.model: expected a string``.
    """
    from monitor.core.validation import refuse_secrets, validate

    environ = os.environ if environ is None else environ
    # LISTENPOST_CONFIG set but empty (an unset variable in a compose or systemd file) names no file.
    chosen = environ.get(ENV_PREFIX + "CONFIG", "").strip() or None
    explicit = path is not None or chosen is not None
    file = Path(path if path is not None else chosen or DEFAULT_SETTINGS)
    data: dict[str, Any] = {}
    label = str(file)
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
            refuse_secrets(data)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{label}: not valid TOML: {exc}{toml_hint(file, str(exc))}") from None
        except RecursionError:  # tomllib (and the secret check) recurse once per nested array or table
            raise ConfigError(f"{label}: not readable: arrays or tables nested too deeply") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{label}: cannot be read: {exc}") from None
        except ConfigError as exc:
            raise ConfigError(f"{label}: {exc}") from None
    elif explicit:
        raise ConfigError(f"{label}: settings file not found (create one with `listenpost init`)")
    else:
        label = "defaults"
    if isinstance(data.get("database"), str) and file.exists():
        data["database"] = _database_in_file(data["database"], file, label)
    applied: dict[str, str] = {}
    try:
        applied = _apply_env(data, environ)
        if applied:  # `config show` prints these too: a token set as a setting is refused here as well
            refuse_secrets(data)
        for key, value in (overrides or {}).items():
            if value is not None:
                data[key] = value
                applied[key] = "command line"
        settings = build(Settings, data)
        validate(settings)
    except RecursionError:  # an environment value nested thousands deep
        raise ConfigError(f"{label}: not readable: values nested too deeply") from None
    except ConfigError as exc:
        raise ConfigError(f"{_env_label(exc, applied) or label}: {exc}") from None
    return replace(settings, path=str(file) if file.exists() else "")


# Secrets listenpost reads (LISTENPOST_<NAME>), shown masked by `config show` and named when a
# settings file tries to hold one.
def secret(name: str, environ: typing.Mapping[str, str] | None = None) -> str | None:
    """A secret from the environment (``LISTENPOST_<NAME>``), or None when unset or empty."""
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_PREFIX + name, "").strip()
    return value or None


def require_secret(what: str, name: str, environ: typing.Mapping[str, str] | None = None) -> str:
    value = secret(name, environ)
    if value is None:
        raise MissingCredential(what, ENV_PREFIX + name)
    return value


def mask(value: str | None) -> str:
    """Say whether a secret is set without revealing any of it."""
    return "(set, hidden)" if value else "(not set)"

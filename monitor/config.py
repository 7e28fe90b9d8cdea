"""Settings: settings.toml loaded into typed, validated objects, with environment overrides.

Priority is CLI flag > environment > settings.toml > default. Secrets never live in the
file: they are read from ``LISTENPOST_*`` environment variables when needed.
"""

from __future__ import annotations

import os
import re
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.errors import ConfigError, MissingCredential

ENV_PREFIX = "LISTENPOST_"
DEFAULT_SETTINGS = Path("settings.toml")
LABEL_ORDER = ("positive", "neutral", "negative")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: object) -> float:
    """Seconds from 90, "90s", "15m", "1h" or "2d"."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90, \"15m\" or \"1h\"")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return float(match.group(1)) * _UNITS[match.group(2)]
    raise ValueError(f"expected a duration such as 90, \"15m\" or \"1h\", not {value!r}")


def format_duration(seconds: float) -> str:
    """A duration as the settings file writes it: "90d", "15m", "20s" (the largest whole unit)."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def duration(default: str | float) -> Any:
    return field(default=parse_duration(default), metadata={"duration": True})


@dataclass(frozen=True)
class Brand:
    name: str
    queries: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    ignore_authors: list[str] = field(default_factory=list)
    # The brand's own accounts as people tag them ("@AcmeHelp"): a post naming one is about the brand.
    handles: list[str] = field(default_factory=list)
    apps: dict[str, list[str]] = field(default_factory=dict)
    reply_signature: str = ""
    support_contact: str = ""
    reply_template: str = ""


@dataclass(frozen=True)
class Source:
    enabled: bool = False
    interval: float = duration("15m")
    base_url: str = ""
    timeout: float = duration("20s")
    max_retries: int = 4
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClassifierSettings:
    model: str = "default"
    # Unset: the threshold the active model was tuned for (0.35 for the shipped model as served,
    # chosen on the TweetEval validation tweets; 0.5 for any other).
    negative_threshold: float | None = None
    # Unset: the threshold the active model was tuned for, chosen for negative precision; a
    # negative below it is labeled but not alerted ("worth a look" in the digest).
    alert_threshold: float | None = None
    batch_size: int = 32
    label_map: dict[str, str] = field(default_factory=dict)
    allow_download: bool = False
    # Share of VADER's scores mixed into the model's (0 turns it off); unset: 0.4 for the shipped
    # model, 0 for any other.
    lexicon_weight: float | None = None
    # int8 dynamic quantization of a transformer's linear layers: about 1.4 times the throughput
    # on CPU, but scores then vary a little with the other texts in a batch and accuracy drops by a
    # fraction of a point. Off by default.
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


@dataclass(frozen=True)
class Escalation:
    after: float = duration("30m")
    channels: list[str] = field(default_factory=list)
    mention: str = ""


@dataclass(frozen=True)
class Alerts:
    channels: dict[str, Channel] = field(
        default_factory=lambda: {"console": Channel(type="console")}
    )
    routes: list[Route] = field(default_factory=lambda: [Route(channels=["console"])])
    max_attempts: int = 8
    escalation: Escalation = field(default_factory=Escalation)
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
    smtp_timeout: float = duration("30s")
    # negatives posted this far back with no reply recorded are listed as unanswered
    unanswered_window: float = duration("7d")


@dataclass(frozen=True)
class Schedule:
    """How often `listenpost run` sends alerts and checks escalations; when it tidies the database."""

    dispatch_every: float = duration("30s")
    escalate_every: float = duration("1m")
    maintenance_at: str = "03:30"


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

    def source(self, name: str) -> Source:
        return self.sources.get(name, Source())

    def brand(self, name: str) -> Brand | None:
        return next((b for b in self.brands if b.name == name), None)


T = TypeVar("T")


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (list, dict):
        return "a list" if origin is list else "a table"
    if is_dataclass(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, str(tp)
    )


def _convert(tp: Any, value: Any, key: str, meta: typing.Mapping[str, Any]) -> Any:
    if meta.get("duration"):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _convert(args[0], value, key, meta)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        (item,) = typing.get_args(tp)
        return [_convert(item, v, f"{key}[{i}]", {}) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {value!r}")
        _, item = typing.get_args(tp)
        return {str(k): _convert(item, v, f"{key}.{k}", {}) for k, v in value.items()}
    if is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {value!r}")
        return build(typing.cast(type, tp), value, key)
    if tp is Any:
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    return value


def build(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    """Build dataclass ``cls`` from a TOML table, rejecting unknown keys and wrong types."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if not f.metadata.get("internal")}  # type: ignore[arg-type]
    where = f"{prefix}." if prefix else ""
    for key in data:
        if key not in known:
            options = ", ".join(sorted(known))
            raise ConfigError(f"{where}{key}: unknown setting (known here: {options})")
    kwargs = {}
    for name, f in known.items():
        if name in data:
            kwargs[name] = _convert(hints[name], data[name], where + name, f.metadata)
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(f"{where}{name}: required setting is missing")
    return cls(**kwargs)


def _env_value(raw: str) -> Any:
    """Environment values are read as TOML literals when they parse, otherwise as strings."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def _apply_env(data: dict[str, Any], environ: typing.Mapping[str, str]) -> None:
    """LISTENPOST_DATABASE, LISTENPOST_CLASSIFIER__NEGATIVE_THRESHOLD=0.6 and the like."""
    top = {f.name.upper() for f in fields(Settings) if not f.metadata.get("internal")}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):]
        if "__" not in rest and rest not in top:
            continue
        path = [p.lower() for p in rest.split("__")]
        if path[0].upper() not in top:
            continue
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{name}: {'.'.join(path)} does not name a table")
        node[path[-1]] = _env_value(raw)


def is_email_address(value: str) -> bool:
    """'ops@example.com' or 'Ops <ops@example.com>': one @, a dotted domain, no spaces in the address."""
    from email.utils import parseaddr

    address = parseaddr(value)[1]
    return bool(re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+", address))


def _validate(settings: Settings) -> None:
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: unknown time zone {settings.timezone!r}") from None
    threshold = settings.classifier.negative_threshold
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ConfigError("classifier.negative_threshold: must be between 0 and 1")
    alert_threshold = settings.classifier.alert_threshold
    if alert_threshold is not None and not 0.0 < alert_threshold < 1.0:
        raise ConfigError("classifier.alert_threshold: must be between 0 and 1")
    weight = settings.classifier.lexicon_weight
    if weight is not None and not 0.0 <= weight < 1.0:
        raise ConfigError("classifier.lexicon_weight: must be at least 0 and below 1")
    if settings.classifier.batch_size < 1:
        raise ConfigError("classifier.batch_size: must be at least 1")
    names = [b.name for b in settings.brands]
    for i, brand in enumerate(settings.brands):
        if not brand.name.strip():
            raise ConfigError(f"brands[{i}].name: a brand needs a name")
        if brand.name in names[:i]:
            raise ConfigError(f"brands[{i}].name: brand {brand.name!r} is defined twice")
        from monitor.query import check_query

        for j, query in enumerate(brand.queries):
            check_query(query, f"brands[{i}].queries[{j}]")  # fails here, not at the first collection
        if brand.reply_template:
            from alerts.drafts import check_template

            check_template(brand.reply_template, f"brands[{i}].reply_template")
    from collectors import SOURCES  # the registry decides which source names exist

    for name in settings.sources:
        if name not in SOURCES:
            raise ConfigError(
                f"sources.{name}: unknown source (known: {', '.join(sorted(SOURCES))})"
            )
    from alerts import CHANNEL_TYPES

    for name, channel in settings.alerts.channels.items():
        if channel.type not in CHANNEL_TYPES:
            raise ConfigError(
                f"alerts.channels.{name}.type: unknown channel type {channel.type!r} "
                f"(known: {', '.join(sorted(CHANNEL_TYPES))})"
            )
        if channel.quiet_mode not in ("wait", "escalation"):
            raise ConfigError(f"alerts.channels.{name}.quiet_mode: must be \"wait\" or \"escalation\"")
        if channel.quiet_hours:
            from alerts.escalation import parse_quiet_hours

            parse_quiet_hours(channel.quiet_hours, f"alerts.channels.{name}.quiet_hours")
    for i, route in enumerate(settings.alerts.routes):
        for channel_name in route.channels:
            if channel_name not in settings.alerts.channels:
                raise ConfigError(
                    f"alerts.routes[{i}].channels: no channel named {channel_name!r} "
                    "under [alerts.channels]"
                )
        if route.min_severity not in LABEL_ORDER:
            raise ConfigError(
                f"alerts.routes[{i}].min_severity: must be one of {', '.join(LABEL_ORDER)}"
            )
    for address in settings.digest.recipients:
        if not is_email_address(address):
            raise ConfigError(f"digest.recipients: {address!r} is not an e-mail address such as ops@example.com")
    if settings.digest.smtp_security not in ("starttls", "ssl", "plain"):
        raise ConfigError("digest.smtp_security: must be \"starttls\", \"ssl\" or \"plain\"")
    if not re.fullmatch(r"\d{1,2}:\d{2}", settings.digest.send_at):
        raise ConfigError("digest.send_at: expected a local time such as \"08:00\"")
    if not re.fullmatch(r"\d{1,2}:\d{2}", settings.schedule.maintenance_at):
        raise ConfigError("schedule.maintenance_at: expected a local time such as \"03:30\"")


def load_settings(
    path: str | Path | None = None,
    *,
    environ: typing.Mapping[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Load settings from ``path`` (or ./settings.toml when present), the environment and flags.

    Errors name the file and the key: ``settings.toml: classifier.model: expected a string``.
    """
    environ = os.environ if environ is None else environ
    explicit = path is not None or ENV_PREFIX + "CONFIG" in environ
    file = Path(path if path is not None else environ.get(ENV_PREFIX + "CONFIG", DEFAULT_SETTINGS))
    data: dict[str, Any] = {}
    label = str(file)
    if file.exists():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{label}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{label}: cannot be read: {exc}") from None
    elif explicit:
        raise ConfigError(f"{label}: settings file not found (create one with `listenpost init`)")
    else:
        label = "defaults"
    if isinstance(data.get("database"), str) and file.exists():
        # A relative database path in the file is relative to the file, not to the cwd.
        data["database"] = str(file.parent / data["database"])
    try:
        _apply_env(data, environ)
        for key, value in (overrides or {}).items():
            if value is not None:
                data[key] = value
        settings = build(Settings, data)
        _validate(settings)
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    return replace(settings, path=str(file) if file.exists() else "")


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

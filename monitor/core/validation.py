"""Rules settings follow beyond their types: ranges, names that must exist, and no secrets in the file.

Called by monitor.core.config.load_settings; every error is a ConfigError that names the key.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.core.database import parse_database
from monitor.core.errors import ConfigError
from monitor.core.names import (
    CHANNEL_SECRET_PREFIX,
    CHANNEL_TYPES,
    SECRET_VARIABLES,
    SOURCE_CREDENTIALS,
    SOURCES,
    check_template,
    parse_quiet_hours,
)
from monitor.core.records import LABEL_ORDER

if TYPE_CHECKING:
    from monitor.core.config import Settings

# Keys that hold secrets: refused in the settings file, whose contents `config show` prints.
_SECRET_KEY = re.compile(r"(^|_)(token|secret|password|passwd|api_?key|credentials?)($|_)|^webhook(_url)?$")
_SECRET_VALUE = re.compile(r"^(xox[abposr]-|xapp-|https://hooks\.slack\.com/)")


def refuse_secrets(data: Any, where: str = "", root: Any = None) -> None:
    """Secrets live in the environment: `config show` prints the file, backups copy it."""
    root = data if root is None else root
    if isinstance(data, list):
        for i, item in enumerate(data):
            refuse_secrets(item, f"{where}[{i}]", root)
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        name = f"{where}.{key}" if where else str(key)
        if key.endswith("_env"):
            continue  # names a variable, holds no secret
        if _SECRET_KEY.search(str(key).lower()) or (isinstance(value, str) and _SECRET_VALUE.match(value)):
            raise ConfigError(
                f"{name}: a secret does not belong in the settings file; {_where_secrets_go(name, str(key), root)}"
            )
        refuse_secrets(value, name, root)


def _where_secrets_go(name: str, key: str, root: Any) -> str:
    """What to do instead: the LISTENPOST_* variable that holds the secret this key tried to hold."""
    parts = name.split(".")
    prefix = ""
    if parts[0] == "sources" and len(parts) > 2:
        prefix = parts[1].upper() + "_"
    elif parts[0] == "digest":
        prefix = "SMTP_"
    elif parts[:2] == ["alerts", "channels"] and len(parts) > 3:
        channels = root.get("alerts", {}).get("channels", {}) if isinstance(root, dict) else {}
        channel = channels.get(parts[2]) if isinstance(channels, dict) else None
        kind = channel.get("type") if isinstance(channel, dict) else None
        prefix = CHANNEL_SECRET_PREFIX.get(str(kind), "")
    candidates = [v for v in SECRET_VARIABLES if prefix and v.startswith(prefix)]
    if parts[0] == "sources" and parts[1] in SOURCES and parts[1] not in SOURCE_CREDENTIALS:
        return f"the {parts[1]} source needs no credentials: remove it"
    if not candidates:
        return ("remove it and set it in the environment as the LISTENPOST_... variable the README's "
                "table of environment variables names")
    words = set(re.split(r"[_\W]+", key.upper())) - {""}
    overlap = {v: len(words & set(v[len(prefix):].split("_"))) for v in candidates}
    best = max(overlap.values())
    chosen = [next(v for v in candidates if overlap[v] == best)] if best else candidates
    return f"remove it and set {' or '.join('LISTENPOST_' + v for v in chosen)} in the environment instead"


def _email_address(value: str) -> bool:
    """"leads@acme.example" or "Support leads <leads@acme.example>"."""
    from email.utils import parseaddr

    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain) and not any(c.isspace() for c in address) and "\n" not in value


def alert_below_negative(alert: float, negative: float, whose: str = "classifier.negative_threshold",
                         note: str = "") -> str:
    """Why an alert threshold under the negative threshold is refused: it would change nothing."""
    return (f"classifier.alert_threshold: {alert:g} is below {whose} {negative:g}{note}; a post is alerted only "
            f"once it is labeled negative, so it would have no effect: set alert_threshold to {negative:g} "
            f"or more, or negative_threshold to {alert:g} or less")


def validate(settings: Settings) -> None:
    """Raise ConfigError for the first rule the settings break."""
    parse_database(settings.database)  # a file path or a postgresql:// URL; any other scheme is refused
    if settings.alerts.max_attempts < 1:
        raise ConfigError("alerts.max_attempts: must be at least 1")
    for name, source in settings.sources.items():
        if source.max_retries < 0:
            raise ConfigError(f"sources.{name}.max_retries: cannot be negative")
    if not 0 < settings.digest.smtp_port < 65536:
        raise ConfigError("digest.smtp_port: must be a port number, 1 to 65535")
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ConfigError(f"timezone: unknown time zone {settings.timezone!r}") from None
    if not settings.classifier.model.strip():
        raise ConfigError("classifier.model: empty; give default, lexicon, a Hugging Face model id or a model folder")
    threshold = settings.classifier.negative_threshold
    if threshold is not None and not 0.0 < threshold < 1.0:
        raise ConfigError("classifier.negative_threshold: must be between 0 and 1")
    alert_threshold = settings.classifier.alert_threshold
    if alert_threshold is not None and not 0.0 < alert_threshold < 1.0:
        raise ConfigError("classifier.alert_threshold: must be between 0 and 1")
    if threshold is not None and alert_threshold is not None and alert_threshold < threshold:
        raise ConfigError(alert_below_negative(alert_threshold, threshold))
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
        from monitor.core.query import check_query

        for j, query in enumerate(brand.queries):
            # Here, not at the first collection.
            check_query(query, f"brands[{i}].queries[{j}]", brand.exclude, brand.name)
        for j, term in enumerate(brand.exclude):
            if not str(term).strip():
                # An empty term is found in every text: each mention of the brand would be off-topic.
                raise ConfigError(f"brands[{i}].exclude[{j}]: an exclusion cannot be empty")
        if brand.reply_template:
            check_template(brand.reply_template, f"brands[{i}].reply_template")
    for name in settings.sources:
        if name not in SOURCES:
            raise ConfigError(
                f"sources.{name}: unknown source (known: {', '.join(sorted(SOURCES))})"
            )
    for name, channel in settings.alerts.channels.items():
        if channel.type not in CHANNEL_TYPES:
            raise ConfigError(
                f"alerts.channels.{name}.type: unknown channel type {channel.type!r} "
                f"(known: {', '.join(sorted(CHANNEL_TYPES))})"
            )
        if channel.quiet_mode not in ("wait", "escalation"):
            raise ConfigError(f"alerts.channels.{name}.quiet_mode: must be \"wait\" or \"escalation\"")
        if channel.quiet_hours:
            parse_quiet_hours(channel.quiet_hours, f"alerts.channels.{name}.quiet_hours")
    for i, route in enumerate(settings.alerts.routes):
        for channel_name in route.channels:
            if channel_name not in settings.alerts.channels:
                raise ConfigError(
                    f"alerts.routes[{i}].channels: no channel named {channel_name!r} "
                    "under [alerts.channels]"
                )
        competitors = [b.name for b in settings.brands if b.competitor and b.name in route.brands]
        if competitors:
            # A competitor's mentions are scored for share of voice and never alerted: such a route
            # would look like it watches them and never fire.
            raise ConfigError(f"alerts.routes[{i}].brands: {competitors[0]!r} is a competitor (competitor = true): "
                              "its mentions are never alerted; leave it out of routes")
        if route.min_severity not in LABEL_ORDER:
            raise ConfigError(
                f"alerts.routes[{i}].min_severity: must be one of {', '.join(LABEL_ORDER)}"
            )
        if route.escalate_reach is not None and route.escalate_reach < 1:
            raise ConfigError(f"alerts.routes[{i}].escalate_reach: must be a whole number of 1 or more")
        if route.escalate_reach is not None and not settings.alerts.escalation.channels:
            raise ConfigError(f"alerts.routes[{i}].escalate_reach: needs on-call channels in "
                              "alerts.escalation.channels")
    for channel_name in settings.alerts.praise.channels:
        if channel_name not in settings.alerts.channels:
            raise ConfigError(f"alerts.praise.channels: no channel named {channel_name!r} under [alerts.channels]")
    for channel_name in settings.alerts.escalation.channels:
        if channel_name not in settings.alerts.channels:
            raise ConfigError(f"alerts.escalation.channels: no channel named {channel_name!r} under [alerts.channels]")
    for i, address in enumerate(settings.digest.recipients):
        if not _email_address(address):
            raise ConfigError(f"digest.recipients[{i}]: {address!r} is not an email address")
    if settings.digest.recipients and not _email_address(settings.digest.sender):
        raise ConfigError(f"digest.sender: {settings.digest.sender!r} is not an email address "
                          "(the digest's From)")
    if settings.digest.smtp_security not in ("starttls", "ssl", "plain"):
        raise ConfigError("digest.smtp_security: must be \"starttls\", \"ssl\" or \"plain\"")
    for key, value, example in (("digest.send_at", settings.digest.send_at, "08:00"),
                                ("schedule.maintenance_at", settings.schedule.maintenance_at, "03:30")):
        time = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
        if not time:
            raise ConfigError(f"{key}: expected a local time such as \"{example}\"")
        if int(time.group(1)) > 23 or int(time.group(2)) > 59:
            raise ConfigError(f"{key}: {value!r} is not a time of day (00:00 to 23:59)")

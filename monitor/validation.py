"""Rules settings follow beyond their types: ranges, names that must exist, and no secrets in the file.

Called by monitor.config.load_settings; every error is a ConfigError that names the key.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.config import LABEL_ORDER, Settings
from monitor.errors import ConfigError

# Keys that hold secrets: refused in the settings file, whose contents `config show` prints.
_SECRET_KEY = re.compile(r"(^|_)(token|secret|password|passwd|api_?key|credentials?)($|_)|^webhook(_url)?$")
_SECRET_VALUE = re.compile(r"^(xox[abposr]-|xapp-|https://hooks\.slack\.com/)")


def refuse_secrets(data: Any, where: str = "") -> None:
    """Secrets live in the environment: `config show` prints the file, backups copy it."""
    if isinstance(data, list):
        for i, item in enumerate(data):
            refuse_secrets(item, f"{where}[{i}]")
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        name = f"{where}.{key}" if where else str(key)
        if key.endswith("_env"):
            continue  # names a variable, holds no secret
        if _SECRET_KEY.search(str(key).lower()) or (isinstance(value, str) and _SECRET_VALUE.match(value)):
            raise ConfigError(
                f"{name}: a secret does not belong in the settings file; remove it and set it in "
                f"the environment (see `listenpost config show` for the LISTENPOST_... variables)"
            )
        refuse_secrets(value, name)


def validate(settings: Settings) -> None:
    """Raise ConfigError for the first rule the settings break."""
    if not settings.database.strip():
        raise ConfigError("database: the database path is empty (a file name such as \"listenpost.db\")")
    if settings.alerts.max_attempts < 1:
        raise ConfigError("alerts.max_attempts: must be at least 1")
    for name, source in settings.sources.items():
        if source.max_retries < 0:
            raise ConfigError(f"sources.{name}.max_retries: cannot be negative")
    if not 0 < settings.digest.smtp_port < 65536:
        raise ConfigError("digest.smtp_port: must be a port number, 1 to 65535")
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
        for j, text in enumerate(brand.queries):
            from monitor.query import parse_query

            try:
                parse_query(text, brand.exclude)
            except ConfigError as exc:
                # Found here, not when the first mention is matched and the import or collection stops.
                raise ConfigError(f"brands[{i}].queries[{j}]: {exc}") from None
        for j, term in enumerate(brand.exclude):
            if not str(term).strip():
                # An empty term is found in every text: each mention of the brand would be off-topic.
                raise ConfigError(f"brands[{i}].exclude[{j}]: an exclusion cannot be empty")
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
    if settings.digest.smtp_security not in ("starttls", "ssl", "plain"):
        raise ConfigError("digest.smtp_security: must be \"starttls\", \"ssl\" or \"plain\"")
    if not re.fullmatch(r"\d{1,2}:\d{2}", settings.digest.send_at):
        raise ConfigError("digest.send_at: expected a local time such as \"08:00\"")
    if not re.fullmatch(r"\d{1,2}:\d{2}", settings.schedule.maintenance_at):
        raise ConfigError("schedule.maintenance_at: expected a local time such as \"03:30\"")

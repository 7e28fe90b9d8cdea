"""The Channel base class: what every alert channel declares and may do."""

from __future__ import annotations

import builtins
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from alerts.mailer import SmtpOptions
from alerts.message import AlertMessage
from monitor.core.config import Channel as ChannelSettings
from monitor.core.config import Settings
from monitor.core.durations import describe
from monitor.core.errors import ConfigError, ListenpostError

T = TypeVar("T", str, int, float, bool)
_KINDS = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}


@dataclass(frozen=True)
class ChannelContext:
    """The little a channel takes from the global settings: the time zone it shows times in,
    the [digest] SMTP server that an email channel's own options default to, and the folder
    that a relative path in its options is read from (the settings file's, like `database`)."""

    tz: ZoneInfo
    smtp: SmtpOptions
    folder: Path = Path()

    @classmethod
    def of(cls, settings: Settings) -> ChannelContext:
        folder = Path(settings.path).parent if settings.path else Path()
        return cls(tz=settings.tz, smtp=SmtpOptions.of(settings.digest), folder=folder)


class Channel(ABC):
    """Base class of alert channels: set ``type``; implement ``send``."""

    type: ClassVar[str]
    #: channels that can look up whether an alert was already delivered (after a crash)
    idempotent: ClassVar[bool] = False
    #: channels that can post an alert as a reply under an earlier one (an incident's thread)
    threads: ClassVar[bool] = False
    #: channels that can re-render a delivered alert in place (``update``)
    updates: ClassVar[bool] = False
    #: keys allowed under [alerts.channels.NAME.options]
    option_names: ClassVar[frozenset[str]] = frozenset()
    #: seconds one send may take when options.timeout is not set (None: no network wait)
    default_timeout: ClassVar[float | None] = None

    def __init__(self, name: str, settings: ChannelSettings, context: ChannelContext) -> None:
        """``settings`` is the channel's own [alerts.channels.NAME] table; ``context`` the few
        global defaults it needs, never the whole Settings."""
        self.check_options(name, settings.options)
        self.name = name
        self.settings = settings
        self.options: dict[str, Any] = settings.options
        self.context = context
        self.tz = context.tz

    @classmethod
    def check_options(cls, name: str, options: dict[str, Any]) -> None:
        """A misspelled option would be ignored and its default used: refuse it instead."""
        unknown = sorted(set(options) - cls.option_names)
        if unknown:
            known = ", ".join(sorted(cls.option_names)) or "none"
            raise ConfigError(f"alerts.channels.{name}.options.{unknown[0]}: unknown option for a "
                              f"{cls.type} channel (known: {known})")

    def option(self, key: str, kind: builtins.type[T], default: T) -> T:
        """One option of [alerts.channels.NAME.options], of the type the channel needs."""
        value = self.options.get(key, default)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ConfigError(f"alerts.channels.{self.name}.options.{key}: expected "
                              f"{_KINDS[kind.__name__]}, got {describe(value)}")
        return value

    def option_strings(self, key: str, default: list[str]) -> list[str]:
        """A list-of-strings option of [alerts.channels.NAME.options]; one string is a list of one."""
        value = self.options.get(key, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"alerts.channels.{self.name}.options.{key}: expected a list of strings, "
                              f"got {describe(value)}")
        return list(value)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Every way a channel reports failure goes through redact(): a proxy or server that
        # echoes the request path would otherwise put a webhook's secret URL in the outbox,
        # in `alerts list` and on the terminal.
        for name in ("send", "update", "find_sent"):
            if name in cls.__dict__:
                setattr(cls, name, _redacting(cls.__dict__[name]))

    def secret_values(self) -> list[str]:
        """Values this channel holds that must never appear in a message (a token, a secret URL)."""
        return []

    def redact(self, text: str) -> str:
        for value in self.secret_values():
            for part in _secret_parts(value):
                text = text.replace(part, "[hidden]")
        return text

    @abstractmethod
    def send(self, message: AlertMessage) -> str | None:
        """Deliver; return the channel's message id. Raise ChannelError on failure."""

    def find_sent(self, message: AlertMessage) -> str | None:
        """For idempotent channels: the message id if this alert was delivered already."""
        return None

    def update(self, message_id: str, message: AlertMessage) -> None:
        """For channels that set ``updates``: show the alert's new state on the posted message."""
        return None


def _secret_parts(value: str) -> list[str]:
    """A secret and the pieces of it a server may quote on their own: a URL's path and its segments."""
    parts = [value]
    if "://" in value:
        path = urlsplit(value).path
        parts.append(path)
        parts.extend(seg for seg in path.split("/") if len(seg) >= 8)
    return sorted((p for p in parts if len(p) >= 8), key=len, reverse=True)


def _redacting(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Channel, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except ListenpostError as exc:
            exc.args = tuple(self.redact(a) if isinstance(a, str) else a for a in exc.args)
            raise

    return call

"""TOML tables into settings dataclasses: unknown keys refused, types checked, every error naming its key."""

from __future__ import annotations

import math
import re
import types
import typing
from dataclasses import MISSING, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from monitor.core.durations import describe, parse_duration
from monitor.core.errors import ConfigError
from monitor.core.names import ENV_PREFIX

T = TypeVar("T")

# Settings written as blocks of double-bracket tables, one per item.
_BLOCKS = {"brands": "brand", "alerts.routes": "route"}


def toml_hint(file: Path, message: str) -> str:
    """A TOML error at a [brands] header is most often a single-bracket [brands] for a second brand."""
    found = re.search(r"at line (\d+)", message)
    if not found:
        return ""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
        line = lines[int(found.group(1)) - 1].strip()
    except (OSError, UnicodeDecodeError, IndexError, ValueError):
        return ""
    header = re.match(r"^\[\[?\s*([\w.]+)\s*\]\]?", line)
    if header and header.group(1) in _BLOCKS:
        return f" (each {_BLOCKS[header.group(1)]} is its own [[{header.group(1)}]] block, with double brackets)"
    return ""


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
            seconds = parse_duration(value)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None
        if meta.get("positive") and seconds <= 0:
            raise ConfigError(f"{key}: must be more than 0")
        return seconds
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if value is None else _convert(args[0], value, key, meta)
    if origin is list:
        if not isinstance(value, list):
            hint = ""
            if isinstance(value, dict) and key in _BLOCKS:
                hint = f" (each {_BLOCKS[key]} is its own [[{key}]] block, with double brackets)"
            raise ConfigError(f"{key}: expected a list, got {describe(value)}{hint}")
        (item,) = typing.get_args(tp)
        return [_convert(item, v, f"{key}[{i}]", {}) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {describe(value)}")
        _, item = typing.get_args(tp)
        return {str(k): _convert(item, v, f"{key}.{k}", {}) for k, v in value.items()}
    if is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a table, got {describe(value)}")
        return build(typing.cast(type, tp), value, key)
    if tp is Any:
        return value
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, tp) or (tp is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {describe(value)}")
    if tp is float and not math.isfinite(value):
        raise ConfigError(f"{key}: expected a finite number, got {describe(value)}")
    if meta.get("url") and value:
        _check_base_url(value, key)
    return value


def _check_base_url(value: str, key: str) -> None:
    """A source's base_url: an http(s) address that request paths are appended to.

    A query or fragment would swallow those paths (``…/v21.0?x=1/PAGE/posts``), and a
    ``user:password@`` is a secret outside the environment, shown by ``config show``.
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018  # a port that is no number raises here
    except ValueError as exc:
        raise ConfigError(f"{key}: not a URL ({exc})") from None
    if "@" in parts.netloc:
        raise ConfigError(f"{key}: credentials in the URL are not allowed; secrets come from "
                          f"{ENV_PREFIX}* environment variables")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        shown = describe(value) if "@" not in value else "an address"
        raise ConfigError(f"{key}: expected an http:// or https:// address, got {shown}")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ConfigError(f"{key}: a base URL has no ?query or #fragment (request paths are appended to it)")


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

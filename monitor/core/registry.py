"""Registries of "module:attribute" strings, imported only when the named thing is used."""

from __future__ import annotations

import importlib
from typing import Any

from monitor.core.errors import ConfigError


def resolve(registry: dict[str, str], name: str, what: str) -> Any:
    """The object registered as ``name``; an unknown name is a ConfigError listing the known ones."""
    if name not in registry:
        raise ConfigError(f"unknown {what} {name!r} (known: {', '.join(sorted(registry))})")
    module, _, attr = registry[name].partition(":")
    return getattr(importlib.import_module(module), attr)

"""Sources of mentions. A new source is one module here plus one line in monitor.core.names.SOURCES."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.core.names import SOURCES

if TYPE_CHECKING:
    from collectors.base import Collector

__all__ = ["SOURCES", "collector_class"]


def collector_class(name: str) -> type[Collector]:
    from monitor.core.registry import resolve

    return resolve(SOURCES, name, "source")  # type: ignore[no-any-return]

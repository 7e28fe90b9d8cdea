"""Sources of mentions. A new source is one module here plus one line in monitor.core.names.SOURCES."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.core.errors import ListenpostError
from monitor.core.names import SOURCES

if TYPE_CHECKING:
    from collectors.base import Collector
    from monitor.core.config import Settings

__all__ = ["SOURCES", "Built", "build_collectors", "collector_class"]


def collector_class(name: str) -> type[Collector]:
    from monitor.core.registry import resolve

    return resolve(SOURCES, name, "source")  # type: ignore[no-any-return]


# Sources read with `listenpost import FILE`, never collected on their own.
IMPORTED_ONLY = frozenset({"file"})


@dataclass(frozen=True)
class Built:
    """One source as the settings set it up: its collector, or why there is none."""

    name: str
    collector: Collector | None = None
    error: ListenpostError | None = None  # missing credentials or wrong settings
    imported_only: bool = False  # a source that is imported, never collected


def build_collectors(settings: Settings, names: list[str] | None = None) -> Iterator[Built]:
    """The collectors for ``names`` (default: every enabled source), built one at a time as asked for,
    so a caller can say what it is doing between them."""
    if names is None:
        names = [name for name, source in settings.sources.items() if source.enabled]
    for name in names:
        if name in IMPORTED_ONLY:
            yield Built(name, imported_only=True)
            continue
        try:
            yield Built(name, collector=collector_class(name)(settings))
        except ListenpostError as exc:
            yield Built(name, error=exc)

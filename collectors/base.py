"""The collector interface: fetch(query, cursor) yields batches of mentions and the cursor after them.

Collectors never touch the database; the pipeline stores each batch and only then saves
its cursor, so a crash can repeat a batch (deduplicated) but never skip one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from monitor.config import Brand, Settings, Source, require_secret
from monitor.query import Query, parse_query
from monitor.records import Mention


@dataclass(frozen=True)
class Window:
    """The time range a backfill asks for; None means "whatever is new since the cursor"."""

    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Batch:
    mentions: list[Mention]
    cursor: str | None = None  # saved after the mentions are stored; None leaves it alone
    skipped: int = 0  # items the source returned that could not be read (reported, not fatal)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BrandQuery:
    """One brand's query as a collector runs it; ``key`` names its cursor."""

    brand: Brand
    query: Query

    @property
    def key(self) -> str:
        return f"{self.brand.name}:{self.query.text}"


class Collector(ABC):
    """Base class of every source. Subclasses set ``name`` and implement ``fetch``."""

    name: ClassVar[str]
    #: environment variables (without the LISTENPOST_ prefix) the source needs
    credentials: ClassVar[tuple[str, ...]] = ()
    default_base_url: ClassVar[str] = ""

    def __init__(self, settings: Settings, source: Source | None = None) -> None:
        self.settings = settings
        self.source = source or settings.source(self.name)
        # Checked up front so a source without credentials is skipped before any request.
        self.secrets = {name: require_secret(f"{self.name} source", name) for name in self.credentials}

    @property
    def base_url(self) -> str:
        return (self.source.base_url or self.default_base_url).rstrip("/")

    def queries(self) -> list[BrandQuery]:
        """Every configured brand query; a source may override to ask per app id etc."""
        return [
            BrandQuery(brand, parse_query(text, brand.exclude))
            for brand in self.settings.brands
            for text in brand.queries
        ]

    @abstractmethod
    def fetch(self, query: BrandQuery | None, cursor: str | None, window: Window) -> Iterator[Batch]:
        """Yield batches of mentions, oldest cursor first, each with the cursor after it."""

"""Which brand a post is about: its queries, its handles, its apps; used to attribute and to judge relevance."""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.config import Brand, Settings
from monitor.query import Query, contains_term, parse_query
from monitor.records import Mention


@lru_cache(maxsize=256)
def _brand_queries(queries: tuple[str, ...], exclude: tuple[str, ...]) -> tuple[Query, ...]:
    return tuple(parse_query(q, exclude) for q in queries)


@lru_cache(maxsize=256)
def _handle_pattern(handles: tuple[str, ...]) -> re.Pattern[str] | None:
    names = [re.escape(h.strip().lstrip("@")) for h in handles if h.strip().lstrip("@")]
    if not names:
        return None
    return re.compile(r"(?<![\w@])@(?:" + "|".join(names) + r")(?!\w)", re.IGNORECASE)


def names_handle(brand: Brand, text: str) -> bool:
    pattern = _handle_pattern(tuple(brand.handles))
    return bool(pattern and pattern.search(text))


def _excluded(brand: Brand, text: str) -> bool:
    return any(contains_term(term, text) for term in brand.exclude)


def about_brand(brand: Brand | None, mention: Mention) -> bool:
    """True when the mention is about ``brand``: a review of one of its apps, a match of one of its
    queries, or a post naming one of its handles; never when it carries an excluded term."""
    if brand is None:
        return False
    text = f"{mention.title}\n{mention.text}" if mention.title else mention.text
    if _excluded(brand, text):
        return False
    if mention.kind == "review" and brand.apps.get(mention.source):
        return True
    if not brand.queries and not brand.handles:
        return True  # nothing to check against: the brand was named by the import or the caller
    if any(q.matches(text) for q in _brand_queries(tuple(brand.queries), tuple(brand.exclude))):
        return True
    return names_handle(brand, text)


def brand_named(settings: Settings, name: str) -> Brand | None:
    return next((b for b in settings.brands if b.name == name), None)


def attribute(settings: Settings, text: str) -> str:
    """The first brand whose query matches the text or whose handle it names; '' when none."""
    for brand in settings.brands:
        if _excluded(brand, text):
            continue
        if any(q.matches(text) for q in _brand_queries(tuple(brand.queries), tuple(brand.exclude))):
            return brand.name
        if names_handle(brand, text):
            return brand.name
    return ""

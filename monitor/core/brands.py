"""Which brand a post is about: its queries, its handles, its apps; used to attribute and to judge relevance."""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.core.config import Brand, Settings
from monitor.core.folding import fold, readings
from monitor.core.query import Query, contains_term, parse_query
from monitor.core.records import Mention


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
    """The text names one of the brand's @handles, read as the queries are (folded, "＠acme" counts)."""
    pattern = _handle_pattern(tuple(fold(h) for h in brand.handles))
    return bool(pattern and any(pattern.search(reading) for reading in readings(text)))


def _excluded(brand: Brand, text: str) -> bool:
    return any(contains_term(term, text) for term in brand.exclude)


def matches(brand: Brand, text: str) -> bool:
    """The text matches one of the brand's queries or names one of its handles (exclusions applied)."""
    if _excluded(brand, text):
        return False
    if any(q.matches(text) for q in _brand_queries(tuple(brand.queries), tuple(brand.exclude))):
        return True
    return names_handle(brand, text)


def about_brand(settings: Settings, mention: Mention) -> bool:
    """Whether the mention is about its brand, one of ours.

    A mention with no configured brand is not, nor one carrying the brand's excluded terms, nor
    one that names another configured brand (a competitor) and not its own. A brand given by the
    source or the import file is trusted otherwise: comments and replies in a thread the source
    matched rarely repeat the brand's name.
    """
    brand = brand_named(settings, mention.brand)
    if brand is None:
        return False
    own = brand.apps.get(mention.source) or brand.accounts.get(mention.source)
    if mention.kind == "review" and own:
        return True  # a review of the brand's own app or business unit, whatever words it uses
    # A comment's title is its post's or video's, often the brand's own words ("Giveaway: win a
    # Duo!"): exclusions and competitors are looked for in what the commenter wrote.
    text = f"{mention.title}\n{mention.text}" if mention.title and mention.kind != "comment" else mention.text
    if _excluded(brand, text):
        return False
    if matches(brand, text):
        return True
    return not any(matches(other, text) for other in settings.brands if other is not brand)


def configured_name(settings: Settings, name: str) -> str | None:
    """A brand name as settings.toml spells it: "acme ", "ACME" and "Acme" are brand Acme; None if unknown."""
    if any(b.name == name for b in settings.brands):
        return name
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        return None
    return next((b.name for b in settings.brands if " ".join(b.name.split()).casefold() == wanted), None)


def brand_named(settings: Settings, name: str) -> Brand | None:
    return next((b for b in settings.brands if b.name == name), None) if name else None


def is_competitor(settings: Settings, name: str) -> bool:
    """A brand marked ``competitor = true``: counted for share of voice, never alerted or drafted."""
    brand = brand_named(settings, name)
    return bool(brand and brand.competitor)


def attribute(settings: Settings, text: str) -> str:
    """The first brand whose query matches the text or whose handle it names; '' when none.

    Our brands before competitors, whatever the settings' order: a post naming both is ours, or a
    complaint about us that also names a competitor would be counted for them and never alerted.
    """
    ordered = sorted(settings.brands, key=lambda brand: brand.competitor)  # stable: ours first, then theirs
    return next((brand.name for brand in ordered if matches(brand, text)), "")


# Where a comparison turns from one brand to the other: sentence ends (with or without a space),
# line breaks, "...", a dash, slash or bar between spaces, commas, "but", "whereas", "while",
# "unlike". A clause naming no brand then goes with the brand named before it.
# Not "than": "acme is slower than zenith, so frustrating" is one judgement of acme.
_CLAUSES = re.compile(r",?\s(?i:but|whereas|while|unlike)\s|(?<=[.!?;:…])\s+|(?<=[a-z])[.!?](?=[A-Z])|\.{2,}|…|\n|;"
                      r"|\s[-–—/|]\s|,\s")
# Read for clauses: the model reads the first few hundred characters, and long runs of blank
# space are squeezed first, so a pasted wall of newlines costs nothing.
_CLAUSE_TEXT = 4000


def own_clauses(settings: Settings, mention: Mention) -> str | None:
    """For a post about one of our brands that also names a competitor, the clauses naming ours.

    "zenith lost my data, terrible. acme never did that" is praise for acme, and "zenith is great,
    but acme deleted my files" a complaint about it: read as a whole, either would be judged by the
    competitor's half. None when the post names no competitor, or no single clause names our brand.
    """
    return comparison_clauses(settings, mention.brand, mention.text)


def comparison_clauses(settings: Settings, brand_name: str, text: str) -> str | None:
    """``own_clauses`` for a text and the brand it is about (``attribute`` finds it in the text)."""
    brand = brand_named(settings, brand_name)
    if brand is None or brand.competitor:
        return None
    text = re.sub(r"[^\S\n]+", " ", re.sub(r"\s*\n\s*", "\n", text[: _CLAUSE_TEXT * 4]))[:_CLAUSE_TEXT]
    if not any(other.competitor and matches(other, text) for other in settings.brands):
        return None
    clauses = [c.strip() for c in _CLAUSES.split(text) if c and c.strip()]
    if not any(matches(brand, c) for c in clauses):
        return None
    # A clause naming no brand ("Nice.", "terrible.") speaks of the brand named just before it (or,
    # at the start, just after it); a clause naming only other brands is what the post says of them.
    kept: list[str] = []
    waiting: list[str] = []
    ours: bool | None = None
    for clause in clauses:
        if matches(brand, clause):
            ours = True
        elif any(matches(b, clause) for b in settings.brands):
            ours = False
        else:  # no brand named: it goes with the last one named, or waits for the first
            if ours:
                kept.append(clause)
            elif ours is None:
                waiting.append(clause)
            continue
        if ours:
            kept.extend(waiting)
            kept.append(clause)
        waiting = []
    return " ".join(kept)

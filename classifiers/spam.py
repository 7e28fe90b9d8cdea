"""Recruiting, affiliate and giveaway spam: posts that name a brand to sell something else.

Such posts are stored and counted like any mention but never interrupt a person. The rules
look for the selling, not for the brand: a complaint that quotes a price ("charged me $50 a
month") is not spam, "I make $700/day as a delivery partner" is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.core.folding import readings

# "$700", "$7OO" (letter O for zero), "$5k+", "700$", "€500", "700 dollars"
_MONEY = r"(?:[$€£]\s?\d[\d,.oO]*\s*k?\+?|\d[\d,.]*\s*k?\s*(?:[$€£]|dollars|bucks|usd\b)\+?)"
_PERIOD = r"(?:(?:/|\s*(?:per|a|an|every)\s+)\s*(?:day|hour|hr|week|wk|month|mo)\b|\s*(?:daily|weekly|hourly)\b)"

RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("recruiting", re.compile(
        rf"\b(?:i|we|you|u)\s+(?:can\s+)?(?:make|made|earn|earned|making|earning)\s+(?:up\s+to\s+|over\s+|around\s+)?"
        rf"{_MONEY}\s*{_PERIOD}", re.I)),
    # A pay rate, not any sum: "you can't make $5 from the app without it crashing" is a complaint.
    ("recruiting", re.compile(rf"\b(?:earn|make)\s+(?:up\s+to\s+|over\s+)?{_MONEY}\s*"
                              rf"(?:{_PERIOD}|(?:fast|quick(?:ly)?|easily|online|from\s+home)\b)", re.I)),
    ("recruiting", re.compile(
        r"\b(?:we(?:'re|\s+are)\s+hiring|now\s+hiring|join\s+(?:my|our)\s+team|apply\s+(?:now|today|here)|"
        # "I can't work from home anymore" is a complaint.
        r"(?<!n't\s)(?<!not\s)(?<!\bto\s)(?<!\bcannot\s)work\s+from\s+home\s+(?:and\s+)?(?:earn|make|jobs?|"
        r"opportunit(?:y|ies)|positions?|\$)|"
        r"be\s+your\s+own\s+boss|side\s+hustle|no\s+experience\s+(?:needed|required))\b", re.I)),
    ("affiliate", re.compile(
        # "Use my code": an invitation, not "I tried to use code SAVE20 and it was rejected".
        r"(?<!\bto\s)(?<!\bi\s)(?<!\bwe\s)(?<!n't\s)(?<!not\s)(?<!\bcannot\s)"
        r"\b(?:use\s+(?:my\s+)?(?:code|coupon|promo\s*code|discount\s+code)|affiliate\s+link|link\s+in\s+(?:my\s+)?bio|"
        r"referral\s+(?:code|link))\b|(?<!\w)#(?:ad|sponsored|affiliate|promo)\b", re.I)),
    ("giveaway", re.compile(
        r"\bgive\s?away\b.{0,120}\b(?:follow(?!-)|retweet|rt|tag|enter|to\s+win|winner)\b|"
        r"\b(?:follow(?!-)|retweet|rt|tag)\b.{0,120}\b(?:give\s?away|to\s+win)\b", re.I | re.S)),
    ("scam", re.compile(
        r"\b(?:crypto|forex|bitcoin|btc)\s+(?:signals|trading\s+group|investment\s+plan)\b|"
        # "DM me for more info" sells; "DM me for the screenshots of the double charge" complains.
        r"\b(?:dm|inbox|message)\s+me\s+(?:for\s+(?:more\s+)?(?:info|information|details|(?:the\s+|a\s+)?link|"
        r"prices?|deals?|discounts?|codes?|promos?|collabs?|business)|to\s+(?:earn|learn|join|get\s+paid))\b|"
        # "Claim your free gift card now!!! click here", "wholesale chargers, contact us on whatsapp"
        r"\bclaim\s+your\s+free\s+(?:\w+\s+){0,2}(?:gift\s*cards?|iphones?|prizes?|rewards?)\b|"
        r"\bfree\s+(?:\w+\s+)?gift\s*cards?\b.{0,80}(?:\bclick\s+here\b|\bclaim\s+(?:it\s+)?now\b|\bbit\.ly/)|"
        r"\bwholesale\b.{0,80}\b(?:whatsapp|telegram|wechat|contact\s+us|dm\s+us)\b", re.I | re.S)),
)


# Characters of a post the rules read: more than any source lets one post hold (Reddit's 40,000 is the
# most), while a pasted million-character text costs a tenth of a second, not a second.
SCANNED = 100_000

# "$7OO", "$7ΟΟ" (Greek capital omicrons, Latin once folded): letter O read as zero inside a number.
_ZEROS = re.compile(r"(?:(?<=\d)|(?<=\d[,.]))[oO]+")


def _readings(text: str) -> tuple[str, ...]:
    """The text as read, folded once for every rule (monitor.core.folding), with letter-O zeros as zeros."""
    return tuple(_ZEROS.sub(lambda m: "0" * len(m.group()), reading) for reading in readings(text))


@lru_cache(maxsize=8)  # few: a text may be a million characters
def spam_kind(text: str) -> str | None:
    """``recruiting``, ``affiliate``, ``giveaway`` or ``scam`` when the text sells something else; else None.

    The first SCANNED characters are read, a whole post on every source: a pitch placed after a long
    harmless opening is still a pitch. Triage asks up to three times for one mention, hence the cache.
    """
    texts = _readings(text[:SCANNED])
    for kind, pattern in RULES:
        if any(pattern.search(reading) for reading in texts):
            return kind
    return None

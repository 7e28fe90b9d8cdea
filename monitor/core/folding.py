"""Text as a reader sees it, for matching: one owner for the brand matcher and the spam filter.

Folding drops invisible format characters ("acme\\u200bcloud", "m\\u00adake"), applies NFKC (full-width
"ａｃｍｅ", mathematical bold "𝐔𝐬𝐞", "＄") and turns Cyrillic and Greek letters that look like Latin
ones into those letters ("mаkе" with Cyrillic а and е reads "make"). It is for matching only: the
stored text, full-text search and what people are shown keep every character as written.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Unicode's format characters (category Cf): zero-width spaces and joiners, the soft hyphen, bidi
# controls, tag characters. Listed rather than computed, so importing stays instant; a test checks the
# list against unicodedata.
_INVISIBLE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)

# Cyrillic and Greek letters drawn like Latin ones in common fonts (Unicode's confusables, the
# letter-for-letter ones). Applied to the query as to the text, so a brand spelled in those scripts
# still matches itself.
_LOOKALIKES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "к": "k", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x",
    "і": "i", "ј": "j", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ү": "y",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y", "Ӏ": "I",
    # Greek
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    "α": "a", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "υ": "u", "ϲ": "c", "ϳ": "j",
})


def fold(text: str, invisible: str = "") -> str:
    """The text for matching; ``invisible`` replaces each invisible character (dropped by default)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub(invisible, text))
    return text.translate(_LOOKALIKES)


# One mention is read by every brand's queries, handles and exclusions in turn; few kept, as a text
# may be a million characters.
@lru_cache(maxsize=8)
def readings(text: str) -> tuple[str, ...]:
    """The folded text, and, when it holds invisible characters, a second reading with them as spaces.

    An invisible character can split one word ("m\\u200bake", read "make") or stand for the space
    between two ("acme\\u200bcloud", read "acme cloud"); a match on either reading counts.
    """
    folded = fold(text)
    if text.isascii() or not _INVISIBLE.search(text):
        return (folded,)
    return folded, fold(text, " ")

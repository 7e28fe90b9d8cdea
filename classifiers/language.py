"""Language detection for mentions, so text the model cannot read is kept apart instead of misread."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable
from typing import Any

# Fewer letters than this and detectors guess: such mentions are scored as if covered.
# A CJK character carries about a word, so it counts as three letters.
MIN_LETTERS = 15
# Short English posts sometimes get a low-confidence vote for another language (Tagalog,
# pidgin); below this the answer is "unknown", so they are still scored rather than dropped.
MIN_CONFIDENCE = 0.8
# ...but a short Spanish post spreads its vote over Spanish, Galician and Catalan, and falls
# under MIN_CONFIDENCE too. What tells it from English is that English gets almost nothing: when
# one of the widely written European languages leads with this many times English's share, the
# text is that language. (Short English posts misread as one lead by under 3 times; short posts in
# them by over 10.) Elsewhere the detector reads shouted or stretched English ("THANK YOOOUUU")
# as Oromo or Somali, so only a confident answer counts.
LEAD_OVER_ENGLISH = 8
_EUROPEAN = frozenset({"es", "pt", "fr", "it", "de", "nl", "ca", "gl", "sv", "da", "no", "nb", "pl", "ro", "cs"})
# Nigerian Pidgin is where the detector puts English slang; its share counts as English's.
_ENGLISH_LIKE = ("en", "pcm")

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Handles, hashtags and CamelCase names ("FreshCrate", "iPhone") are names, not words of any
# language: an English brand name in a Spanish post otherwise votes for English.
_NAME = re.compile(r"[@#]\w+|\b\w*[a-z]\w*[A-Z]\w*\b")
_NOISE = re.compile(r"[\d_]+")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_identifier: Any = None
_lock = threading.Lock()


def _get_identifier() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def words_only(text: str, names: Iterable[str] = ()) -> str:
    """The text's own words: no URLs, handles, hashtags, emoji, digits or the given (brand) names."""
    import emoji

    # Emoji are dropped, not named: their names are English words.
    text = emoji.replace_emoji(html.unescape(text[:2000]), " ")
    text = _URL.sub(" ", text)
    for name in sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", text, flags=re.IGNORECASE)
    return " ".join(_NOISE.sub(" ", _NAME.sub(" ", text)).split())


def detect_language(text: str, names: Iterable[str] = ()) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when too short or too unsure to say.

    ``names`` (brands, products) are left out before detecting: they belong to no language.
    """
    cleaned = words_only(text, names)
    if len(_LETTER.findall(cleaned)) + 2 * len(_CJK.findall(cleaned)) < MIN_LETTERS:
        return None
    ranked = _get_identifier().rank(cleaned)
    language, confidence = ranked[0]
    if confidence >= MIN_CONFIDENCE:
        return str(language)
    english = sum(p for code, p in ranked if code in _ENGLISH_LIKE)
    return str(language) if language in _EUROPEAN and confidence >= LEAD_OVER_ENGLISH * english else None

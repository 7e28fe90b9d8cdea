"""Language detection for mentions, so text the model cannot read is kept apart instead of misread."""

from __future__ import annotations

import re
import threading
from typing import Any

from classifiers.normalize import normalize

# Fewer letters than this and detectors guess: such mentions are scored as if covered.
# A CJK character carries about a word, so it counts as three letters.
MIN_LETTERS = 15
# Short English posts sometimes get a low-confidence vote for another language (Tagalog,
# pidgin); below this the answer is "unknown", so they are still scored rather than dropped.
MIN_CONFIDENCE = 0.8

_NOISE = re.compile(r"@user|http|#|[\d_]+")
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


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when too short or too unsure to say."""
    # The opening is enough to tell the language, and keeps a 1 MB post from costing seconds.
    cleaned = _NOISE.sub(" ", normalize(text[:2000]))
    if len(_LETTER.findall(cleaned)) + 2 * len(_CJK.findall(cleaned)) < MIN_LETTERS:
        return None
    language, confidence = _get_identifier().classify(cleaned)
    return str(language) if confidence >= MIN_CONFIDENCE else None

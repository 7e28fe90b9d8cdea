"""Text normalization shared by training and inference, so the model sees posts the way it learned them."""

from __future__ import annotations

import html
import re

# Long enough for any review head the model reads (it keeps MAX_TOKENS tokens); cutting
# characters first keeps tokenization cheap on pasted essays.
MAX_CHARS = 2000
MAX_TOKENS = 128

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_SPACE = re.compile(r"\s+")
# Scraped corpora carry mojibake and replacement characters; they are noise to the tokenizer.
# NUL and lone surrogates (from a JSON "\\ud800" escape) are text no tokenizer accepts.
_JUNK = re.compile(r"[\x00\ufffd\u200b-\u200f\ufeff\ud800-\udfff]|_[\ufffd]+_")


def _emoji_words(text: str) -> str:
    """Emoji become their names ("unamused face"): the tokenizer knows the words, not the symbols."""
    import emoji

    if not emoji.emoji_count(text):
        return text
    return emoji.demojize(text, delimiters=(" ", " ")).replace("_", " ")


def normalize(text: str) -> str:
    """Unescape HTML, name emoji, replace URLs with ``http`` and handles with ``@user``, squeeze whitespace."""
    text = html.unescape(text[: MAX_CHARS * 2])
    text = _emoji_words(_JUNK.sub(" ", text))
    text = _URL.sub("http", text)
    text = _HANDLE.sub("@user", text)
    return _SPACE.sub(" ", text).strip()[:MAX_CHARS]

"""Recurring themes: the period's negative mentions grouped by topic (TF-IDF + NMF), with keyword labels.

Cheap on a CPU (thousands of short texts in about a second), deterministic, no model download.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from monitor.core.rows import ReportedMention

MIN_MENTIONS = 6  # fewer negatives than this are listed, not grouped
FIT_SAMPLE = 4000  # k-means is fitted on at most this many texts; all are then assigned
MAX_THEMES = 6
LABEL_WORDS = 3
# words of social-media talk that say nothing about what a complaint is about
FILLER = frozenset({
    "just", "like", "really", "got", "get", "im", "dont", "doesnt", "didnt", "cant", "wont", "amp",
    "lol", "lmao", "omg", "literally", "actually", "thing", "things", "basically", "guys", "anyone",
    "someone", "yes", "yeah", "ok", "okay", "pls", "please", "thanks", "new",
    # praise words: in a negative post they are sarcasm or a "but", never what it is about
    "love", "great", "awesome", "amazing", "brilliant", "best", "perfect", "nice",
    # and verdicts: every negative says one of these, none says what went wrong
    "bad", "worst", "terrible", "awful", "horrible", "useless", "annoying", "good", "better", "hate",
})
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|<[@!#][^>]*>")
# "don't" would split into the fragment "don"; without the apostrophe it is a stop word.
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")


@dataclass
class Theme:
    label: str
    keywords: list[str]
    count: int
    previous: int
    brands: Counter[str] = field(default_factory=Counter)
    examples: list[ReportedMention] = field(default_factory=list)


def _document(row: ReportedMention) -> str:
    title, text = row.title or "", row.text or ""
    return _APOSTROPHE.sub("", _NOISE.sub(" ", f"{title}. {text}" if title and title != text else text))


def _stop_words(extra: Iterable[str]) -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = set(ENGLISH_STOP_WORDS) | FILLER
    for phrase in extra:
        words.update(w for w in re.findall(r"[a-z0-9]+", phrase.lower()) if w)
    return sorted(words)


def _label(terms: Sequence[str], weights: Any, size: int = 5) -> list[str]:
    """The best-weighted terms, skipping any that shares a word with one already chosen."""
    chosen: list[str] = []
    for i in weights.argsort()[::-1][:100]:
        if weights[i] <= 0 or len(chosen) == size:
            break
        words = set(terms[i].split())
        if not any(words & set(c.split()) for c in chosen):
            chosen.append(terms[i])
    return chosen


def theme_label(keywords: Sequence[str]) -> str:
    """'Tracking, returns and refund': the theme's top keywords as a phrase."""
    words = list(keywords[:LABEL_WORDS])
    text = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return text[:1].upper() + text[1:]


def find_themes(
    current: Sequence[ReportedMention],
    previous: Sequence[ReportedMention] = (),
    *,
    ignore_words: Iterable[str] = (),
    max_themes: int = MAX_THEMES,
    examples: int = 3,
) -> list[Theme]:
    """Group ``current`` negatives into at most ``max_themes`` themes, largest first.

    Rows need ``text`` (and may have ``title``, ``url``, ``brand``, ``source``). Each mention
    joins its strongest topic; one sharing no keyword with any topic joins none.
    ``previous`` rows are assigned to the same topics to give each theme its trend.
    ``ignore_words`` (brand names, handles) would otherwise be the label of every theme.
    """
    if len(current) < MIN_MENTIONS:
        return []
    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [_document(r) for r in current]
    stride = max(1, math.ceil(len(docs) / FIT_SAMPLE))
    vectorizer = TfidfVectorizer(
        stop_words=_stop_words(ignore_words), ngram_range=(1, 2), min_df=2, max_df=0.5,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9]+\b", sublinear_tf=True, max_features=20000,
    )
    try:
        sample = vectorizer.fit_transform(docs[::stride])
    except ValueError:  # nothing left but stop words and one-off words
        return []
    # NMF cannot find more topics than there are shared words (a handful of unrelated
    # complaints may share one) or documents.
    k = min(max(2, min(max_themes + 2, round(math.sqrt(sample.shape[0] / 1.5)))), *sample.shape)
    nmf = NMF(n_components=k, init="nndsvda", random_state=0, max_iter=400).fit(sample)
    terms = vectorizer.get_feature_names_out()

    def assign(rows: Sequence[ReportedMention]) -> tuple[Any, Any]:
        weights = nmf.transform(vectorizer.transform([_document(r) for r in rows]))
        return weights.argmax(axis=1), weights.max(axis=1)

    topic, strength = assign(current)
    before = Counter(t for t, w in zip(*assign(previous), strict=True) if w > 0) if previous else Counter()
    themes = []
    for t in range(k):
        members = np.flatnonzero((topic == t) & (strength > 0)).tolist()
        keywords = _label(terms, nmf.components_[t])
        if len(members) < 2 or not keywords:
            continue
        # Examples: the most negative of the theme's strongest members, so a post the model
        # scored negative by a narrow margin (praise with a "but") is not what stands for it.
        strongest = sorted(members, key=lambda i: -strength[i])[:examples * 3]
        best = sorted(strongest, key=lambda i: -(current[i].negative or 0.0))
        themes.append(Theme(
            label=theme_label(keywords), keywords=keywords, count=len(members),
            previous=before[t], brands=Counter(current[i].brand or "" for i in members),
            examples=[current[i] for i in best[:examples]],
        ))
    themes.sort(key=lambda th: -th.count)
    return themes[:max_themes]

"""The VADER lexicon as a classifier: no model to load, English only, a baseline to compare against."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from classifiers.base import Classifier, Scores

# VADER's own cut-offs on the compound score.
POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05


def compound_to_scores(compound: float) -> Scores:
    """Three probabilities whose argmax follows VADER's rule and whose negative score grows with
    the strength of the negative compound, so a negative threshold means something."""
    strength = abs(compound)
    if compound >= POSITIVE_AT:
        top = 0.5 + 0.5 * strength
        return Scores(negative=0.0, neutral=1.0 - top, positive=top)
    if compound <= NEGATIVE_AT:
        top = 0.5 + 0.5 * strength
        return Scores(negative=top, neutral=1.0 - top, positive=0.0)
    # Inside the neutral band the leftover 0.4 leans towards the sign of the compound.
    positive = 0.2 + 4.0 * compound
    return Scores(negative=0.4 - positive, neutral=0.6, positive=positive)


MAX_CHARS = 5000


class LexiconClassifier(Classifier):
    name = "lexicon"
    languages = frozenset({"en"})

    def __init__(self) -> None:
        self._analyzer: Any = None
        self._lock = threading.Lock()

    def classify(self, texts: Sequence[str]) -> list[Scores]:
        with self._lock:
            if self._analyzer is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                self._analyzer = SentimentIntensityAnalyzer()
        # VADER's cost grows faster than the text; the opening of a long post carries its tone.
        return [compound_to_scores(self._analyzer.polarity_scores(text[:MAX_CHARS])["compound"]) for text in texts]

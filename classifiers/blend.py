"""A model's scores averaged with the VADER lexicon's (`[classifier] lexicon_weight`), off by default.

A model trained on little data misses sentiment words that a lexicon knows; the shipped model,
trained on general tweets as well, gains too little from the blend to keep it (docs/model.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from classifiers.base import Classifier, Scores


class BlendedClassifier(Classifier):
    def __init__(
        self,
        model: Classifier,
        lexicon: Classifier,
        weight: float,
        *,
        negative_threshold: float = Classifier.negative_threshold,
    ) -> None:
        if not 0.0 < weight < 1.0:
            raise ValueError("the lexicon weight of a blend is between 0 and 1")
        self.model = model
        self.lexicon = lexicon
        self.weight = weight
        # A different blend gives different scores, so it is a different name in the database.
        self.name = f"{model.name}+{lexicon.name}{weight:g}"
        self.languages = model.languages
        self.negative_threshold = negative_threshold

    def classify(self, texts: Sequence[str]) -> list[Scores]:
        if not texts:
            return []
        w = self.weight
        return [
            Scores(
                negative=(1 - w) * m.negative + w * x.negative,
                neutral=(1 - w) * m.neutral + w * x.neutral,
                positive=(1 - w) * m.positive + w * x.positive,
            )
            for m, x in zip(self.model.classify(texts), self.lexicon.classify(texts), strict=True)
        ]

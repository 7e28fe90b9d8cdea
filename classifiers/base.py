"""The interface every sentiment classifier implements, and the scores it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.core.errors import ModelError
from monitor.core.records import LABELS

__all__ = ["LABELS", "Classifier", "ModelError", "Scores"]


@dataclass(frozen=True)
class Scores:
    """Probabilities of the three classes for one text; they sum to 1."""

    negative: float
    neutral: float
    positive: float

    @property
    def likeliest(self) -> str:
        """The most probable class. Not the mention's label: that is the pipeline's threshold decision
        (``alerts.outbox.triage``), which calls a text negative well below the argmax."""
        # Ties go to neutral first, then negative: an unsure model should not raise alarms or cheer.
        ranked = sorted(
            (("neutral", self.neutral), ("negative", self.negative), ("positive", self.positive)),
            key=lambda pair: pair[1],
            reverse=True,
        )
        return ranked[0][0]

    def label(self, negative_threshold: float) -> str:
        """The label at ``negative_threshold``: negative when its probability reaches it, otherwise
        the likelier of the rest (the pipeline's rule, ``alerts.outbox.triage``)."""
        if self.negative >= negative_threshold:
            return "negative"
        return "positive" if self.positive > self.neutral else "neutral"

    def as_dict(self) -> dict[str, float]:
        return {"negative": self.negative, "neutral": self.neutral, "positive": self.positive}


class Classifier(ABC):
    """Scores texts in batches; implementations load their model once, on first use."""

    name: str
    languages: frozenset[str] | None
    # The negative threshold this classifier's scores were tuned for; `[classifier]
    # negative_threshold` overrides it.
    negative_threshold: float = 0.5
    # The negative probability from which this classifier's negatives are worth an alert, chosen
    # for negative precision; None means the negative threshold (`[classifier] alert_threshold`
    # overrides it).
    alert_threshold: float | None = None

    @abstractmethod
    def classify(self, texts: Sequence[str]) -> list[Scores]:
        """One ``Scores`` per text, in the order given."""

"""Sentiment classifiers behind one interface: the shipped model, any Hugging Face model, or VADER.

Nothing heavy is imported here; models load on their first ``classify`` call.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from classifiers.base import LABELS, Classifier, Scores

if TYPE_CHECKING:
    from monitor.core.config import ClassifierSettings

__all__ = ["LABELS", "Classifier", "Scores", "load_active_classifier", "load_classifier"]

_cache: dict[tuple[object, ...], Classifier] = {}
_lock = threading.RLock()  # a blend loads the lexicon while holding it


def load_classifier(
    name: str,
    *,
    label_map: dict[str, str] | None = None,
    batch_size: int = 32,
    allow_download: bool = False,
    lexicon_weight: float | None = None,
    int8: bool = False,
) -> Classifier:
    """The classifier called ``name``, created once per process and configuration.

    ``lexicon`` is VADER, ``default`` the model shipped with listenpost, anything else a Hugging
    Face model id or a local model directory (such as one written by ``listenpost train``).
    ``lexicon_weight`` mixes VADER's scores into a model's (``classifiers.blend``); none by
    default, and the thresholds a model was tuned for apply to it alone. ``int8`` quantizes a
    transformer's linear layers when it loads: faster on CPU, but a text's scores then depend a
    little on the other texts in its batch.
    """
    if lexicon_weight is None or name == "lexicon":
        lexicon_weight = 0.0
    key = (name, tuple(sorted((label_map or {}).items())), batch_size, allow_download, int8)
    with _lock:
        if key not in _cache:
            _cache[key] = _create(name, label_map=label_map, batch_size=batch_size, allow_download=allow_download,
                                  int8=int8)
        model = _cache[key]
        if not lexicon_weight:
            return model
        blend_key = (*key, lexicon_weight)
        if blend_key not in _cache:
            from classifiers.blend import BlendedClassifier

            # A blend's scores are not the ones the model's thresholds were tuned for.
            _cache[blend_key] = BlendedClassifier(model, load_classifier("lexicon"), lexicon_weight)
        return _cache[blend_key]


def load_active_classifier(settings: ClassifierSettings, model: str | None = None, *,
                           lexicon_weight: float | None = None) -> Classifier:
    """The classifier the ``[classifier]`` settings name (or ``model``), with their options."""
    return load_classifier(settings.model if model is None else model, label_map=settings.label_map or None,
                           batch_size=settings.batch_size, allow_download=settings.allow_download, int8=settings.int8,
                           lexicon_weight=settings.lexicon_weight if lexicon_weight is None else lexicon_weight)


def _create(
    name: str, *, label_map: dict[str, str] | None, batch_size: int, allow_download: bool, int8: bool
) -> Classifier:
    if name == "lexicon":
        from classifiers.lexicon import LexiconClassifier

        return LexiconClassifier()
    from classifiers.transformer import (
        SHIPPED_ALERT_THRESHOLD,
        SHIPPED_NAME,
        SHIPPED_NEGATIVE_THRESHOLD,
        TransformerClassifier,
        check_model_source,
        model_languages,
        model_name,
        model_thresholds,
    )

    if name == "default":
        return TransformerClassifier(
            "default", name=SHIPPED_NAME, languages=frozenset({"en"}), batch_size=batch_size, int8=int8,
            negative_threshold=SHIPPED_NEGATIVE_THRESHOLD, alert_threshold=SHIPPED_ALERT_THRESHOLD,
        )
    if not name.strip():
        check_model_source(name)  # a folder is checked when the model loads, on first use
    negative_threshold, alert_threshold = model_thresholds(name)
    return TransformerClassifier(
        name,
        name=model_name(name),
        languages=model_languages(name),
        label_map=label_map,
        batch_size=batch_size,
        int8=int8,
        allow_download=allow_download,
        negative_threshold=negative_threshold,
        alert_threshold=alert_threshold,
    )

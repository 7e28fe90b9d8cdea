"""Sentiment classifiers behind one interface: the shipped model, any Hugging Face model, or VADER.

Nothing heavy is imported here; models load on their first ``classify`` call.
"""

from __future__ import annotations

import threading

from classifiers.base import LABELS, Classifier, Scores

__all__ = ["LABELS", "Classifier", "Scores", "load_classifier"]

_cache: dict[tuple[object, ...], Classifier] = {}
_lock = threading.Lock()


def load_classifier(
    name: str,
    *,
    label_map: dict[str, str] | None = None,
    batch_size: int = 32,
    allow_download: bool = False,
) -> Classifier:
    """The classifier called ``name``, created once per process and configuration.

    ``lexicon`` is VADER, ``default`` the model shipped with listenpost, anything else a Hugging
    Face model id or a local model directory (such as one written by ``listenpost train``).
    """
    key = (name, tuple(sorted((label_map or {}).items())), batch_size, allow_download)
    with _lock:
        if key not in _cache:
            _cache[key] = _create(name, label_map=label_map, batch_size=batch_size, allow_download=allow_download)
        return _cache[key]


def _create(name: str, *, label_map: dict[str, str] | None, batch_size: int, allow_download: bool) -> Classifier:
    if name == "lexicon":
        from classifiers.lexicon import LexiconClassifier

        return LexiconClassifier()
    from classifiers.transformer import SHIPPED_NAME, TransformerClassifier, model_languages, model_name

    if name == "default":
        return TransformerClassifier("default", name=SHIPPED_NAME, languages=frozenset({"en"}), batch_size=batch_size)
    return TransformerClassifier(
        name,
        name=model_name(name),
        languages=model_languages(name),
        label_map=label_map,
        batch_size=batch_size,
        allow_download=allow_download,
    )

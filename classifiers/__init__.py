"""Sentiment classifiers behind one interface: the shipped model, any Hugging Face model, or VADER.

Nothing heavy is imported here; models load on their first ``classify`` call.
"""

from __future__ import annotations

import threading

from classifiers.base import LABELS, Classifier, Scores

__all__ = ["LABELS", "Classifier", "Scores", "load_classifier"]

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
    ``lexicon_weight`` mixes VADER's scores into a model's (``classifiers.blend``); left unset,
    the shipped model gets its tested weight and other models none. ``int8`` quantizes a
    transformer's linear layers when it loads: faster on CPU, but a text's scores then depend a
    little on the other texts in its batch.
    """
    from classifiers.blend import SHIPPED_LEXICON_WEIGHT, SHIPPED_NEGATIVE_THRESHOLD

    if lexicon_weight is None:
        lexicon_weight = SHIPPED_LEXICON_WEIGHT if name == "default" else 0.0
    if name == "lexicon":
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

            lexicon = load_classifier("lexicon")
            # The tuned threshold belongs to the tuned mix only.
            tuned = name == "default" and lexicon_weight == SHIPPED_LEXICON_WEIGHT
            threshold = SHIPPED_NEGATIVE_THRESHOLD if tuned else Classifier.negative_threshold
            _cache[blend_key] = BlendedClassifier(model, lexicon, lexicon_weight, negative_threshold=threshold)
        return _cache[blend_key]


def _create(
    name: str, *, label_map: dict[str, str] | None, batch_size: int, allow_download: bool, int8: bool
) -> Classifier:
    if name == "lexicon":
        from classifiers.lexicon import LexiconClassifier

        return LexiconClassifier()
    from classifiers.transformer import SHIPPED_NAME, TransformerClassifier, model_languages, model_name

    if name == "default":
        return TransformerClassifier(
            "default", name=SHIPPED_NAME, languages=frozenset({"en"}), batch_size=batch_size, int8=int8
        )
    return TransformerClassifier(
        name,
        name=model_name(name),
        languages=model_languages(name),
        label_map=label_map,
        batch_size=batch_size,
        int8=int8,
        allow_download=allow_download,
    )

"""`listenpost classify`: score a CSV/JSONL file, one JSON line per input row, in input order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from monitor.store import clean_text
from monitor.textfile import Row, parse_rating, read_rows

if TYPE_CHECKING:
    from alerts.triage import Decision
    from classifiers.base import Classifier, Scores


@dataclass
class ClassifyReport:
    rows: int = 0
    scored: int = 0
    unscored: int = 0  # languages the model does not cover
    errors: int = 0
    seconds: float = 0.0


def _batches(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    batch: list[Row] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _field(data: dict[str, Any], name: str) -> Any:
    """A row's value for ``name`` under the column names `listenpost import` knows, ignoring case."""
    from collectors.file import DEFAULT_COLUMNS

    folded = {key.strip().casefold(): key for key in reversed(list(data)) if isinstance(key, str)}
    for column in DEFAULT_COLUMNS[name]:
        key = column if column in data else folded.get(column)
        if key is not None and data[key] not in (None, ""):
            return data[key]
    return None


def _row_id(row: Row, index: int) -> Any:
    value = _field(row.data, "id") if row.data else None
    if value is not None:
        # Written back as JSON text: a lone surrogate cannot be, a nested value is no id.
        return clean_text(value, limit=200) if isinstance(value, str) else value \
            if isinstance(value, int | float) else clean_text(str(value), limit=200)
    return index


def _covered(classifier: Classifier, text: str) -> bool:
    """Whether the model reads the text's language (no confident language counts as covered)."""
    from classifiers.language import detect_language

    languages = getattr(classifier, "languages", None)
    if languages is None:
        return True
    language = detect_language(text)
    return not language or language in languages


def classify_file(path: str | Path, out: IO[str], classifier: Classifier, *,
                  decide: Callable[[Scores, str, int | None], Decision], batch_size: int = 256,
                  encoding: str | None = None,
                  progress: Callable[[int], None] | None = None) -> ClassifyReport:
    """Write {"id", "label", "alert", "scores"} per row; unreadable rows get {"id", "error"} instead.

    ``alert`` is the decision the pipeline would take for a mention of a brand the text is about:
    the confidence threshold, spam rules and the row's optional ``rating`` (1-5 stars) applied.
    """
    import time

    report = ClassifyReport()
    started = time.perf_counter()
    index = 0
    for batch in _batches(read_rows(path, encoding), batch_size):
        ids = []
        texts: list[str] = []
        ratings: list[int | None] = []
        positions: list[int] = []
        outputs: list[dict[str, Any]] = []
        for row in batch:
            index += 1
            ids.append(_row_id(row, index))
            text = _field(row.data, "text") if row.data else None
            why = row.error if row.data is None else None
            rating = None
            if why is None and (not isinstance(text, str) or not text.strip()):
                why = "no 'text' value"
            if why is None and row.data is not None:
                try:
                    rating = parse_rating(_field(row.data, "rating"))
                except ValueError as exc:
                    why = str(exc)
            if why is not None or not isinstance(text, str):
                outputs.append({"id": ids[-1], "label": None, "alert": None, "scores": None,
                                "error": f"line {row.line}: {why}"})
                report.errors += 1
            else:
                positions.append(len(outputs))
                texts.append(text)
                ratings.append(rating)
                outputs.append({"id": ids[-1]})
        # As the pipeline does: a language the model does not cover is not scored as English;
        # it is "unscored", unless a star rating gives the customer's verdict.
        readable = [_covered(classifier, text) for text in texts]
        scored = iter(classifier.classify([t for t, ok in zip(texts, readable, strict=True) if ok])
                      if any(readable) else [])
        for pos, text, rating, ok in zip(positions, texts, ratings, readable, strict=True):
            if not ok:
                from alerts import triage

                decision = triage.by_rating(text, rating) or triage.unscored()
                report.unscored += 1
                outputs[pos].update(label=decision.label, alert=decision.alert, scores=None)
                continue
            scores = next(scored)
            decision = decide(scores, text, rating)
            outputs[pos].update(label=decision.label, alert=decision.alert,
                                scores={k: round(v, 9) for k, v in scores.as_dict().items()})
        for line in outputs:
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        report.rows += len(batch)
        report.scored += len(texts) - readable.count(False)
        if progress:
            progress(len(batch))
    report.seconds = time.perf_counter() - started
    return report

"""`listenpost classify`: score a CSV/JSONL file, one JSON line per input row, in input order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from monitor.core.textfile import Row, read_rows
from monitor.core.values import parse_rating
from monitor.store import clean_text

if TYPE_CHECKING:
    from alerts.outbox.triage import Decision
    from classifiers.base import Classifier, Scores


@dataclass
class ClassifyReport:
    rows: int = 0
    scored: int = 0
    unscored: int = 0  # languages the model does not cover
    errors: int = 0
    first_error: str = ""  # "line 2: no 'text' value"
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


def column_value(data: dict[str, Any], name: str) -> Any:
    """A row's value for ``name`` under the column names `listenpost import` knows (a field it does
    not know, such as `label`, under its own name), ignoring case."""
    from collectors.file import known_columns

    folded = {key.strip().casefold(): key for key in reversed(list(data)) if isinstance(key, str)}
    for column in known_columns(data).get(name, (name,)):
        key = column if column in data else folded.get(column.casefold())
        if key is not None and data[key] not in (None, ""):
            return data[key]
    return None


def _row_id(row: Row, index: int) -> str:
    """Always a string, as a CSV's ids are: a JSON 7 is "7", a row without one its number "3"."""
    value = column_value(row.data, "id") if row.data else None
    if value is None:
        return str(index)
    if isinstance(value, bool | int | float):
        value = json.dumps(value)
    # Written back as JSON text: a lone surrogate cannot be, a nested value is no id.
    return clean_text(value if isinstance(value, str) else str(value), limit=200)


def readable(classifier: Classifier, text: str, given: Any = None, names: Sequence[str] = ()) -> bool:
    """Whether the pipeline would score this text: its language (``given`` in a `language` column, else
    detected, leaving the brand ``names`` out) is the model's. Otherwise it is left `unscored`."""
    if classifier.languages is None:
        return True
    from classifiers.language import detect_language

    language = given if isinstance(given, str) and given.strip() else detect_language(text, names)
    return not language or language in classifier.languages


def classify_file(path: str | Path, out: IO[str], classifier: Classifier, *,
                  decide: Callable[[Scores, str, int | None], Decision], batch_size: int = 256,
                  encoding: str | None = None, names: Sequence[str] = (),
                  clauses: Callable[[str], str | None] | None = None,
                  progress: Callable[[int], None] | None = None) -> ClassifyReport:
    """Write {"id", "label", "alert", "scores"} per row; unreadable rows get {"id", "error"} instead.

    ``alert`` is the decision the pipeline would take for a mention of a brand the text is about:
    the confidence threshold, spam rules and the row's optional ``rating`` (1-5 stars) applied. A text
    in a language the model does not cover (a ``language`` value, else detected with ``names``, the
    brands, left out) is not scored, as in the pipeline: label ``unscored``, scores null, alerted
    only by a 1-2 star rating. ``clauses`` gives, for a text that compares one of our brands with a
    competitor, the part about ours, which is judged instead, as the pipeline does.
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
            text = column_value(row.data, "text") if row.data else None
            why = row.error if row.data is None else None
            rating = None
            if why is None and (not isinstance(text, str) or not text.strip()):
                why = "no 'text' value"
            if why is None and row.data is not None:
                try:
                    rating = parse_rating(column_value(row.data, "rating"))
                except ValueError as exc:
                    why = str(exc)
            if why is not None or not isinstance(text, str):
                outputs.append({"id": ids[-1], "label": None, "alert": None, "scores": None,
                                "error": f"line {row.line}: {why}"})
                report.errors += 1
                report.first_error = report.first_error or outputs[-1]["error"]
            elif not readable(classifier, text, (row.data or {}).get("language"), names):
                # As the pipeline does: a language the model cannot read is not scored, and only
                # a star rating can alert it.
                from alerts.outbox.triage import by_rating, unscored

                decision = by_rating(text, rating) or unscored()
                report.unscored += 1
                outputs.append({"id": ids[-1], "label": decision.label, "alert": decision.alert, "scores": None})
            else:
                positions.append(len(outputs))
                texts.append(text)
                ratings.append(rating)
                outputs.append({"id": ids[-1]})
        judged = [(clauses(t) if clauses else None) or t for t in texts]
        scored = classifier.classify(judged) if texts else []
        for pos, text, rating, scores in zip(positions, judged, ratings, scored, strict=True):
            decision = decide(scores, text, rating)
            outputs[pos].update(label=decision.label, alert=decision.alert,
                                scores={k: round(v, 9) for k, v in scores.as_dict().items()})
        out.write("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in outputs))  # a batch at once
        report.rows += len(batch)
        report.scored += len(texts)
        if progress:
            progress(len(batch))
    report.seconds = time.perf_counter() - started
    return report

"""Evaluation metrics as pure functions over label lists, and their rendering for the terminal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.core.records import LABELS

DEFAULT_THRESHOLDS = (0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9)
# The negative precision an alert threshold is chosen to reach: three alerts in four a real complaint.
TARGET_PRECISION = 0.75


@dataclass(frozen=True)
class ClassReport:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


def confusion_matrix(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> list[list[int]]:
    """Rows are gold labels, columns predictions, both in ``labels`` order."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted labels differ in length")
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        if g in index and p in index:
            matrix[index[g]][index[p]] += 1
    return matrix


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


def per_class(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> list[ClassReport]:
    matrix = confusion_matrix(gold, predicted, labels)
    reports = []
    for i, label in enumerate(labels):
        true_positive = matrix[i][i]
        precision = _ratio(true_positive, sum(row[i] for row in matrix))
        recall = _ratio(true_positive, sum(matrix[i]))
        reports.append(ClassReport(label, precision, recall, _f1(precision, recall), sum(matrix[i])))
    return reports


def macro_recall(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> float:
    """Mean recall over the classes present in ``gold`` (TweetEval's headline metric)."""
    present = [r for r in per_class(gold, predicted, labels) if r.support]
    return _ratio(sum(r.recall for r in present), len(present))


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    return _ratio(sum(g == p for g, p in zip(gold, predicted, strict=True)), len(gold))


def flagged_quality(gold: Sequence[str], flagged: Sequence[bool]) -> tuple[float, float, float, int]:
    """(precision, recall, F1, how many flagged) of flagging gold negatives."""
    picked = [g for g, f in zip(gold, flagged, strict=True) if f]
    hits = sum(g == "negative" for g in picked)
    precision, recall = _ratio(hits, len(picked)), _ratio(hits, sum(g == "negative" for g in gold))
    return precision, recall, _f1(precision, recall), len(picked)


def negative_by_threshold(
    gold: Sequence[str], negative_scores: Sequence[float], thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> list[tuple[float, float, float, float]]:
    """(threshold, precision, recall, F1) of "negative" when a mention counts as negative at score >= threshold."""
    rows = []
    for threshold in thresholds:
        precision, recall, f1, _ = flagged_quality(gold, [s >= threshold for s in negative_scores])
        rows.append((threshold, precision, recall, f1))
    return rows


def lowest_meeting(rows: Sequence[tuple[float, float]], target: float = TARGET_PRECISION) -> float | None:
    """The lowest threshold of (threshold, precision) ``rows`` whose precision reaches ``target``:
    the rule the shipped alert threshold was chosen by. None when none does."""
    return min((threshold for threshold, precision in rows if precision >= target - 1e-9), default=None)


def _same(threshold: float, chosen: float | None) -> bool:
    return chosen is not None and abs(threshold - chosen) < 1e-9


def render(
    name: str,
    gold: Sequence[str],
    predicted: Sequence[str],
    negative_scores: Sequence[float],
    *,
    alerts: Sequence[tuple[float, Sequence[bool]]] = (),
    labeled: Sequence[tuple[float, Sequence[bool]]] = (),
    label_threshold: float | None = None,
    alert_threshold: float | None = None,
    target_precision: float = TARGET_PRECISION,
    expected: Sequence[bool | None] = (),
) -> str:
    """The report `listenpost eval` prints for one model.

    ``alerts`` holds, per alert threshold, which texts the pipeline would alert on (spam and
    star-rating rules applied): the second decision, measured against the gold negatives. Its table
    marks the row the alert-threshold rule picks (the lowest, from ``label_threshold`` up, whose
    precision reaches ``target_precision``) and the rows below ``label_threshold``, which the
    configured thresholds cannot produce. ``labeled`` holds, per negative threshold, which texts the
    pipeline would label negative (star ratings applied, as in stats and the digest); without it the
    label is the score alone. ``expected`` holds a team's own alert verdict per text (None where the
    file gives none); when any is given, the alert decision is measured against it as well.
    """
    lines = [f"model: {name}   texts: {len(gold)}"]
    lines.append(f"macro-recall {macro_recall(gold, predicted):.3f}   accuracy {accuracy(gold, predicted):.3f}")
    lines.append("")
    lines.append(f"{'class':<10}{'precision':>10}{'recall':>8}{'F1':>7}{'n':>7}")
    for r in per_class(gold, predicted):
        lines.append(f"{r.label:<10}{r.precision:>10.3f}{r.recall:>8.3f}{r.f1:>7.3f}{r.support:>7}")
    lines.append("")
    lines.append("confusion (rows gold, columns predicted)")
    lines.append(" " * 10 + "".join(f"{label[:8]:>10}" for label in LABELS))
    for label, row in zip(LABELS, confusion_matrix(gold, predicted), strict=True):
        lines.append(f"{label:<10}" + "".join(f"{n:>10}" for n in row))
    lines.append("")
    by_threshold = labeled or [(t, [s >= t for s in negative_scores]) for t in DEFAULT_THRESHOLDS]
    lines.extend(_table(gold, by_threshold, "labeled negative when score >= threshold, star ratings applied "
                        "(stats, digest)" if labeled else "labeled negative when score >= threshold (stats, digest)",
                        "flagged", [(label_threshold, "negative_threshold")]))
    if alerts:
        lines.append("")
        lines.extend(_alert_table(gold, alerts, label_threshold, alert_threshold, target_precision))
    marked = [i for i, e in enumerate(expected) if e is not None]
    if alerts and marked:
        # Their verdicts as the gold: "negative" where the team says alert, so precision reads "of the
        # alerts, how many the team wanted" and recall "of the ones they wanted, how many were alerted".
        verdicts = ["negative" if expected[i] else "neutral" for i in marked]
        wanted = sum(bool(expected[i]) for i in marked)
        lines.append("")
        theirs = [(t, [flags[i] for i in marked]) for t, flags in alerts]
        floor = label_threshold if label_threshold is not None else 0.0
        best = lowest_meeting([(t, flagged_quality(verdicts, flags)[0]) for t, flags in theirs if t >= floor - 1e-9],
                              target_precision)
        lines.extend(_table(verdicts, theirs,
                            f"alerted, measured against your `alert` column ({len(marked)} rows, {wanted} marked "
                            "alert): precision = alerts you marked alert, recall = rows marked alert that were alerted",
                            "alerts", [(alert_threshold, "alert_threshold"),
                                       (best, f"lowest with precision >= {target_precision:g}")]))
    return "\n".join(lines)


def _alert_table(gold: Sequence[str], alerts: Sequence[tuple[float, Sequence[bool]]], label_threshold: float | None,
                 alert_threshold: float | None, target: float) -> list[str]:
    """The alert decision by threshold, with the rule for choosing one and what the table cannot show."""
    floor = label_threshold if label_threshold is not None else 0.0
    below = [t for t, _ in alerts if t < floor - 1e-9]
    best = lowest_meeting([(t, flagged_quality(gold, flags)[0]) for t, flags in alerts if t not in below], target)
    marks = [(alert_threshold, "alert_threshold"), (best, f"lowest with precision >= {target:g}")]
    lines = _table(gold, alerts, "alerted (Slack, email) when score >= threshold, spam and star ratings applied",
                   "alerts", marks, below)
    found = f"here {best:.2f}" if best is not None else f"none here reaches {target:g}"
    lines.append(f"choosing alert_threshold: the lowest threshold, from the negative threshold up, whose precision "
                 f"reaches the target ({target:g}, --target-precision): {found}")
    if below:
        lines.append(f"* below the negative threshold ({floor:g}): not possible as configured, where alerts start at "
                     "the negative threshold; these rows lower the negative threshold to the row's value too")
    lines.append("eval applies the text, spam and star-rating rules only; relevance (brand queries, competitors, "
                 "own accounts) is applied by the pipeline, so `listenpost import` may alert fewer rows")
    return lines


def _table(gold: Sequence[str], rows: Sequence[tuple[float, Sequence[bool]]], title: str, counted: str,
           marks: Sequence[tuple[float | None, str]], starred: Sequence[float] = ()) -> list[str]:
    """Negative precision/recall of one decision by threshold, the marked ones (settings, rules) named."""
    lines = [title, f"{'threshold':>10}{'precision':>11}{'recall':>8}{'F1':>7}{counted:>9}"]
    for threshold, flags in rows:
        precision, recall, f1, count = flagged_quality(gold, flags)
        names = [name for chosen, name in marks if _same(threshold, chosen)]
        mark = f"  <- {', '.join(names)}" if names else "  *" if threshold in starred else ""
        lines.append(f"{threshold:>10.2f}{precision:>11.3f}{recall:>8.3f}{f1:>7.3f}{count:>9}{mark}")
    return lines

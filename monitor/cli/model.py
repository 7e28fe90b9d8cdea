"""`listenpost train` and `listenpost eval`: fine-tune a sentiment model and measure one on labeled data."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from alerts.message import plural
from monitor.cli import App, pass_app
from monitor.core.errors import InputError
from monitor.core.records import LABELS

if TYPE_CHECKING:
    from classifiers.base import Classifier, Scores
    from classifiers.corpora import Example
    from classifiers.training import Recipe, Thresholds

LABEL_ALIASES = {"neg": "negative", "neu": "neutral", "pos": "positive"}


def read_labeled(path: str | Path) -> list[Example]:
    """Rows with `text` and `label` (negative, neutral, positive) from a CSV/TSV/JSONL file."""
    from classifiers.corpora import Example
    from monitor.app.classify import column_value
    from monitor.core.textfile import read_rows
    from monitor.core.values import parse_rating

    examples, problems, bad_ratings, bad_alerts = [], [], [], []
    for row in read_rows(path):
        data = row.data or {}
        # every column in any case ("Label", " ALERT "); text, rating and language also under the
        # names `listenpost import` knows (content, score…)
        text = column_value(data, "text") if data else None
        label = str(column_value(data, "label") or "").strip().lower()
        label = LABEL_ALIASES.get(label, label)
        try:
            rating = parse_rating(column_value(data, "rating") if data else None)
        except ValueError:
            bad_ratings.append(row.line)
            continue
        alert = _verdict(column_value(data, "alert"))
        if alert is ValueError:  # the row still counts for the labels; only its alert verdict is unread
            bad_alerts.append(row.line)
            alert = None
        if row.error or not isinstance(text, str) or not text.strip() or label not in LABELS:
            problems.append(row.line)
            continue
        language = column_value(data, "language") if data else None
        examples.append(Example(text, label, Path(path).name, rating,
                                language if isinstance(language, str) and language.strip() else None,
                                alert if isinstance(alert, bool) else None))
    if problems:
        shown = ", ".join(map(str, problems[:5])) + (" …" if len(problems) > 5 else "")
        click.echo(
            f"skipped {len(problems)} rows without text or a label of negative/neutral/positive (lines {shown})",
            err=True,
        )
    if bad_ratings:
        shown = ", ".join(map(str, bad_ratings[:5])) + (" …" if len(bad_ratings) > 5 else "")
        click.echo(f"skipped {len(bad_ratings)} rows with a rating that is not 1 to 5 stars (lines {shown})", err=True)
    if bad_alerts:
        shown = ", ".join(map(str, bad_alerts[:5])) + (" …" if len(bad_alerts) > 5 else "")
        click.echo(f"{len(bad_alerts)} rows have an `alert` that is not true/false, yes/no or 1/0: left out of "
                   f"the table against your `alert` column (lines {shown})", err=True)
    if not examples:
        raise InputError(f"{path}: no rows with `text` and a `label` of negative, neutral or positive")
    return examples


_TRUE, _FALSE = {"true", "yes", "y", "1", "alert"}, {"false", "no", "n", "0", "no alert", "none"}


def _verdict(value: Any) -> bool | type[ValueError] | None:
    """An `alert` column's value: True, False, None when blank or absent; ValueError when unreadable."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = " ".join(str(value).replace("\u200b", "").split()).lower().removesuffix(".0")
    if not word:
        return None
    return True if word in _TRUE else False if word in _FALSE else ValueError


class _Bar:
    """Adapts a click progress bar to the trainer's (step, total, loss) callback."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __call__(self, step: int, total: int, loss: float) -> None:
        if self.bar is None:
            self.bar = click.progressbar(
                length=total,
                label=self.label,
                file=sys.stderr,
                show_pos=True,
                show_eta=True,
                item_show_func=lambda _: f"loss {loss:.3f}",
            )
            self.bar.__enter__()
        self.bar.current_item = step
        self.bar.item_show_func = lambda _: f"loss {loss:.3f}"
        self.bar.update(1)
        if step >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command()
@click.argument("data", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--reproduce", is_flag=True,
    help="Recreate the shipped weights from the labeled tweet sets in --data-dir and the corpora that the "
    "listed packages ship (docs/model.md).",
)
@click.option(
    "--data-dir", type=click.Path(exists=True, file_okay=False),
    help="With --reproduce: a folder you supply holding semeval2017-task4a/, kaggle-tweet-sentiment-extraction/ "
    "and tweeteval-val/ (the last only picks the best checkpoint), each of aligned text files: text.txt and "
    "labels.txt, as docs/model.md describes.",
)
@click.option(
    "--base",
    default="default",
    show_default=True,
    help="Start from: default (the shipped model), minilm (the bare encoder) or a model directory.",
)
@click.option(
    "--output", "-o", type=click.Path(), help="Model directory to write (with --reproduce: the weights file)."
)
@click.option(
    "--validation",
    type=click.Path(exists=True),
    help="Labeled file, never trained on, that picks the best checkpoint and, from 30 rows with 5 negatives, "
    "the negative and alert thresholds stored with the model (with --reproduce: the TweetEval folder).",
)
@click.option("--name", help="Name stored with each classification (default: the output folder's name).")
@click.option("--epochs", type=click.FloatRange(min=0.01), help="Passes over the data (default 1).")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), help="Peak learning rate.")
@click.option("--max-steps", type=click.IntRange(min=1), help="Stop after this many steps, for a quick trial.")
@click.option("--seed", type=int, default=13, show_default=True)
@click.option("--corrections", is_flag=True,
              help="Also learn from the corrections staff made on alerts (False positive clicks) in the database, "
              "one per mention.")
@click.option("--reviews", is_flag=True,
              help="Also learn from the star-rated reviews stored in the database (1-2 stars negative, 3 neutral, "
              "4-5 positive). A fifth of them is held out, and the model is measured on it before and after. "
              "Fewer than 30 (or none of 1-2 stars) is an error alone, a warning beside DATA or --corrections.")
@click.option("--brand", help="With --reviews: only this brand's reviews.")
@click.option("--force", is_flag=True,
              help="Write the model into --output even when that folder holds other files (not a listenpost model).")
@pass_app
def train(
    app: App,
    data: str | None,
    reproduce: bool,
    data_dir: str | None,
    base: str,
    output: str | None,
    validation: str | None,
    name: str | None,
    epochs: float | None,
    learning_rate: float | None,
    max_steps: int | None,
    seed: int,
    corrections: bool,
    reviews: bool,
    brand: str | None,
    force: bool,
) -> None:
    """Fine-tune a sentiment model on labeled posts (CSV/JSONL with `text` and `label`).

    \b
    Team data:   listenpost train labeled.csv --output models/acme
                 (a new or empty folder, or an earlier model's: checked before training)
                 then set `[classifier] model = "models/acme"` in settings.toml.
    Shipped model: listenpost train --reproduce --data-dir DIR   (docs/model.md)
    Runs on CPU; expect a third of a second to a second per step of 32 posts on two cores.
    A new model is served with thresholds of 0.5 unless set or chosen on --validation data;
    choose them with `listenpost eval FILE --model DIR`.
    """
    from dataclasses import replace

    from classifiers import training

    recipe = training.Recipe(seed=seed, max_steps=max_steps)
    if epochs is not None:
        recipe = replace(recipe, epochs=epochs)
    if learning_rate is not None:
        recipe = replace(recipe, learning_rate=learning_rate)
    bar = _Bar("Training")
    started = time.monotonic()
    try:
        if reproduce:
            if data:
                raise click.UsageError("--reproduce trains on the documented corpora; leave out DATA")
            if not data_dir:
                raise click.UsageError("--reproduce needs --data-dir, the folder holding the labeled tweet sets")
            from classifiers.corpora import TWEETEVAL_FOLDER
            from classifiers.transformer import SHIPPED_WEIGHTS

            target = Path(output) if output else SHIPPED_WEIGHTS
            selection = Path(validation) if validation else Path(data_dir) / TWEETEVAL_FOLDER
            result = training.reproduce(
                target, data_dir=Path(data_dir), validation_dir=selection if selection.is_dir() else None,
                recipe=recipe, progress=bar,
            )
            bar.close()
            click.echo(
                f"wrote {target} after {result.steps} steps in {time.monotonic() - started:.0f}s; "
                f"best validation macro-recall {result.best_score}"
            )
            return
        if not (data or corrections or reviews) or not output:
            raise click.UsageError(
                "give a labeled DATA file and/or --corrections or --reviews, and --output DIR (or use --reproduce)")
        _check_model_output(Path(output), force=force)
        if learning_rate is None:
            # Starting from an already fine-tuned model: smaller steps keep what it knew.
            recipe = replace(recipe, learning_rate=3e-5 if base == "default" else recipe.learning_rate)
        review_train, review_held = _reviews(app, brand, alone=not (data or corrections)) if reviews else ([], [])
        examples = (read_labeled(data) if data else []) + (_corrections(app) if corrections else []) + review_train
        held = read_labeled(validation) if validation else review_held
        _before_training(examples, recipe, max_steps)
        before = training.measure(training.load_base(base), review_held) if review_held else None
        loaded, result = training.train(examples, base=base, recipe=recipe, validation=held, progress=bar)
        bar.close()
        if before is not None:
            after = training.measure(loaded, review_held)
            click.echo(f"held-out stored reviews ({len(review_held)}): macro-recall {before[0]:.3f} -> {after[0]:.3f}, "
                       f"negative F1 {before[1]:.3f} -> {after[1]:.3f} ({base} model before, the new one after)")
        thresholds = training.choose_thresholds(loaded, held) if validation else None
        model_dir = Path(output)
        label_counts = {label: sum(e.label == label for e in examples) for label in LABELS}
        origin = " + ".join(([Path(data).name] if data else []) + (["corrections"] if corrections else [])
                            + (["stored reviews"] if review_train else []))
        card = training.recipe_card(recipe, result, {origin: label_counts}, thresholds,
                                    Path(validation).name if validation else "") | {"base": base}
        training.save_model_dir(loaded, model_dir, name=name or model_dir.name, card=card)
    finally:
        bar.close()
    score = f"; validation macro-recall {result.best_score:.3f}" if result.best_score is not None else ""
    click.echo(
        f"wrote {model_dir} after {plural(result.steps, 'step')} in {result.seconds:.0f}s{score}\n"
        f'use it with:  [classifier] model = "{model_dir}"'
    )
    click.echo(_threshold_advice(app, model_dir, thresholds, validation))


def _check_model_output(path: Path, *, force: bool) -> None:
    """Refuse, before any training, an --output the model cannot go to or would be lost among."""
    from classifiers.transformer import MODEL_CARD

    shown = click.format_filename(str(path))
    if path.exists() and not path.is_dir():
        raise click.BadParameter(f"{shown} is a file, not a folder: give a new folder for the model",
                                 param_hint="--output")
    if not path.is_dir() or force or (path / MODEL_CARD).is_file():
        return  # new, or an earlier model's folder to write over, or the user's say-so
    try:
        entries = sorted(p.name for p in path.iterdir())
    except OSError as exc:
        raise click.BadParameter(f"{shown}: cannot read the folder ({exc.strerror})", param_hint="--output") from exc
    if entries:
        listed = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
        raise click.BadParameter(
            f"{shown} is not empty and not a listenpost model folder (it holds {listed}): give a new or empty "
            "folder, or --force to write the model among those files", param_hint="--output")


def _before_training(examples: list[Example], recipe: Recipe, max_steps: int | None) -> None:
    """Warn about data too small or one-sided to learn from, and say why a run is shorter than asked."""
    from classifiers import training

    for warning in training.data_warnings(examples):
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    steps = training.planned_steps(len(examples), recipe)
    if max_steps is not None and steps < max_steps:
        epochs = f"{recipe.epochs:g} epoch{'' if recipe.epochs == 1 else 's'}"
        click.echo(f"{plural(steps, 'step')}: {plural(len(examples), 'example')} in batches of {recipe.batch_size}, "
                   f"{epochs}; use --epochs to train longer", err=True)


def _threshold_advice(app: App, model_dir: Path, thresholds: Thresholds | None, validation: str | None) -> str:
    """Which thresholds the new model is served with, and how to choose them."""
    from classifiers import Classifier, training
    from classifiers.transformer import SHIPPED_ALERT_THRESHOLD, SHIPPED_NEGATIVE_THRESHOLD

    how = (f"to choose them: `listenpost eval FILE --model {model_dir}` on labeled mentions it did not train on, "
           "then set `[classifier] negative_threshold` and `alert_threshold`")
    settings = app.settings.classifier
    configured = [f"{key} = {value:g}" for key, value in (("negative_threshold", settings.negative_threshold),
                                                          ("alert_threshold", settings.alert_threshold))
                  if value is not None]
    if configured:
        return (f"thresholds: your settings' {' and '.join(configured)} apply to this model too, though chosen "
                f"for another model's scores unless you chose them for this one\n{how}")
    if thresholds is not None:
        alert = (f"alert {thresholds.alert:g} (the lowest with negative precision >= {thresholds.target_precision:g})"
                 if thresholds.alert is not None else
                 f"alert: every negative (no threshold reached negative precision {thresholds.target_precision:g})")
        return (f"thresholds chosen on {Path(validation or '').name} ({thresholds.examples} rows), stored with the "
                f"model and served unless settings set them: negative {thresholds.negative:g}, {alert}\n"
                f"to check them: `listenpost eval FILE --model {model_dir}` on other labeled mentions")
    reason = (f" ({Path(validation).name} has too few rows or negatives to choose them on: at least "
              f"{training.FEW_EXAMPLES} and {training.FEW_NEGATIVES})" if validation else "")
    untuned = f"{Classifier.negative_threshold:g}"
    return (f"thresholds: served with {untuned} negative / {untuned} alert unless set{reason}; the shipped "
            f"{SHIPPED_NEGATIVE_THRESHOLD:g} / {SHIPPED_ALERT_THRESHOLD:g} were chosen for the shipped model only\n"
            f"{how} (or train with --validation FILE to store thresholds chosen on it)")


def _scores(classifier: Classifier, texts: list[str]) -> list[Scores]:
    batch = 256
    out: list[Scores] = []
    with click.progressbar(length=len(texts), label=f"Scoring with {classifier.name}", file=sys.stderr) as bar:
        for start in range(0, len(texts), batch):
            out.extend(classifier.classify(texts[start : start + batch]))
            bar.update(min(batch, len(texts) - start))
    return out


def _reviews(app: App, brand: str | None, *, alone: bool) -> tuple[list[Example], list[Example]]:
    """The database's rated reviews as (training, held-out) examples; none, with a warning, when
    there are too few and other data was given (``alone`` false)."""
    from classifiers.corpora import split_reviews

    with app.store() as store:
        rows = store.rated_reviews(brand)
    train, held = split_reviews(rows)
    where = f" of {brand}" if brand else ""
    if len(train) < 20 or len(held) < 5 or not any(e.label == "negative" for e in train):
        problem = (f"{len(rows)} rated reviews{where} stored; learning from reviews needs at least 30, some of "
                   "them 1-2 stars")
        if alone:
            raise InputError(f"{app.db_label}: {problem} (collect the app stores for a while, or import reviews)")
        click.secho(f"Warning: {problem}: training without them", fg="yellow", err=True)
        return [], []
    click.echo(f"adding {len(train)} rated reviews{where}; {len(held)} held out for measuring", err=True)
    return train, held


def _corrections(app: App) -> list[Example]:
    """The labels staff gave alerts (a False positive click stores the mention as neutral)."""
    from classifiers.corpora import Example

    with app.store() as store:
        rows = store.labeled_examples()
    if not rows:
        raise InputError(f"{app.db_label}: no corrections stored yet (they come from alert buttons)")
    click.echo(f"adding {plural(len(rows), 'correction')} made by staff (one per mention)", err=True)
    return [Example(r.text, r.label, "corrections") for r in rows]


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--model", help="Model to measure (default: the `[classifier] model` setting).")
@click.option("--compare", help="A second model to put side by side, e.g. lexicon.")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    help="Negative threshold (default: the `[classifier] negative_threshold` setting, else the one the "
    "model was tuned for: 0.4 for the shipped model, the one in a trained model's listenpost.json, 0.5 for "
    "others). The alert threshold comes from `[classifier] alert_threshold`, else the model's own (0.72 for "
    "the shipped model).",
)
@click.option(
    "--lexicon-weight",
    type=click.FloatRange(0, 1, max_open=True),
    help="Share of VADER's scores mixed into the model's (default: the `[classifier] lexicon_weight` "
    "setting, else none).",
)
@click.option(
    "--target-precision", type=click.FloatRange(0, 1, min_open=True), default=0.75, show_default=True,
    help="Negative precision the alert threshold should reach: the alert table marks the lowest threshold, "
    "from the negative threshold up, that does.",
)
@pass_app
def eval_command(
    app: App, file: str, model: str | None, compare: str | None, threshold: float | None,
    lexicon_weight: float | None, target_precision: float,
) -> None:
    """Measure a model on a labeled CSV/JSONL file (`text` and `label` columns).

    Prints macro-recall, per-class precision/recall/F1, the confusion matrix and two tables by
    threshold: negative precision/recall of the label (`negative_threshold`, stats and digest) and
    of the alert decision (`alert_threshold`, Slack and email; spam and an optional `rating`
    column of 1-5 stars applied), marking the lowest alert threshold that reaches
    --target-precision. An optional `alert` column (true/false: should this interrupt a person?)
    adds a third table: the alert decision measured against the team's own verdicts. Rows in
    languages the model does not cover (an optional `language` column, else detected) are left
    out, as the pipeline leaves them unscored. Relevance (brand queries, competitors, own
    accounts) is the pipeline's, not measured here.
    """
    from dataclasses import replace

    from alerts.outbox.triage import decide_all
    from classifiers import load_active_classifier
    from classifiers.evaluation import DEFAULT_THRESHOLDS, macro_recall, per_class, render
    from monitor.app.classify import readable
    from monitor.app.pipeline import alert_threshold, negative_threshold

    settings = app.settings.classifier
    configured = settings.negative_threshold if threshold is None else threshold
    examples = read_labeled(file)
    summaries = []
    for name in [settings.model if model is None else model, *([compare] if compare else [])]:
        classifier = load_active_classifier(app.settings.classifier, name, lexicon_weight=lexicon_weight)
        covered = [e for e in examples if readable(classifier, e.text, e.language, app.settings.brand_names)]
        if len(covered) < len(examples):
            left = len(examples) - len(covered)
            click.echo(f"{plural(left, 'row')} in other languages {'is' if left == 1 else 'are'} unscored by "
                       f"{classifier.name}, as the pipeline leaves them; measured on the other {len(covered)}")
        if not covered:
            continue
        gold = [e.label for e in covered]
        texts = [e.text for e in covered]
        ratings = [e.rating for e in covered]
        scores = _scores(classifier, texts)
        threshold = negative_threshold(classifier, configured)
        alerting = alert_threshold(classifier, replace(app.settings, classifier=replace(
            settings, negative_threshold=threshold)))

        def decisions(at: float, labeled: float = threshold, scores: list[Scores] = scores,
                      texts: list[str] = texts, ratings: list[int | None] = ratings) -> list[Any]:
            return decide_all(scores, texts, ratings, negative_threshold=labeled, alert_threshold=at)

        predicted = [d.label for d in decisions(alerting)]
        table = sorted({*DEFAULT_THRESHOLDS, alerting})
        click.echo(
            render(
                f"{classifier.name} (negative threshold {threshold:g}, alert threshold {alerting:g})",
                gold, predicted, [s.negative for s in scores],
                alerts=[(t, [d.alert for d in decisions(t)]) for t in table],
                labeled=[(t, [d.label == "negative" for d in decisions(t, t)])
                         for t in sorted({*DEFAULT_THRESHOLDS, threshold})],
                label_threshold=threshold, alert_threshold=alerting, target_precision=target_precision,
                expected=[e.alert for e in covered],
            )
        )
        click.echo("")
        negative = next(r for r in per_class(gold, predicted) if r.label == "negative")
        summaries.append((classifier.name, macro_recall(gold, predicted), negative))
    if len(summaries) > 1:
        click.echo(f"{'model':<28}{'macro-recall':>13}{'neg P':>8}{'neg R':>8}{'neg F1':>8}")
        for name, recall, negative in summaries:
            click.echo(
                f"{name[:27]:<28}{recall:>13.3f}{negative.precision:>8.3f}{negative.recall:>8.3f}{negative.f1:>8.3f}"
            )

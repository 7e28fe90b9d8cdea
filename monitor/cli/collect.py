"""Commands that bring mentions in: collect, import, and classify for files."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any

import click

from alerts.base import plain
from monitor.cli import App, pass_app, progress
from monitor.errors import ConfigError, InputError, MissingCredential
from monitor.textfile import count_rows


def load_active_classifier(app: App, model: str | None = None, *, lexicon_weight: float | None = None) -> Any:
    """The classifier the settings name (or ``model``), with the settings' options."""
    from classifiers import load_classifier

    settings = app.settings.classifier
    return load_classifier(model or settings.model, label_map=settings.label_map or None,
                           batch_size=settings.batch_size, allow_download=settings.allow_download, int8=settings.int8,
                           lexicon_weight=settings.lexicon_weight if lexicon_weight is None else lexicon_weight)


def _parse_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field_name, sep, column = pair.partition("=")
        if not sep or not field_name or not column:
            raise click.BadParameter(f"{pair!r}: expected FIELD=COLUMN, e.g. text=body", param_hint="--map")
        mapping[field_name.strip()] = column.strip()
    return mapping


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="Take FIELD (text, id, created_at, author, url, title, brand, source, kind, "
                   "rating, language, parent_id, app_version, country) from COLUMN. Repeatable.")
@click.option("--source", "source_name", help="Source name for every row (default: a 'source' column, else 'file').")
@click.option("--brand", help="Brand for every row (default: a 'brand' column, else matched by the brands' queries).")
@click.option("--date-format", help="strptime format of the date column, when it is not ISO 8601, epoch or RFC 2822.")
@click.option("--no-classify", is_flag=True, help="Store only; classify later with `listenpost collect`.")
@pass_app
def import_file(app: App, file: str, mapping: tuple[str, ...], source_name: str | None,
                brand: str | None, date_format: str | None, no_classify: bool) -> None:
    """Import mentions from a CSV or JSONL export.

    \b
    Example:
      listenpost import tweets.csv --map text=full_text --map created_at=date --brand Acme

    Lines that cannot be read are reported with their line numbers; the rest are imported.
    Importing the same file twice adds nothing.
    """
    from collectors.file import FileCollector
    from monitor.pipeline import run_collector

    collector = FileCollector(app.settings, file, mapping=_parse_mapping(mapping),
                              source_name=source_name, brand=brand, date_format=date_format)
    if brand is not None and collector.brand_name(brand) not in {b.name for b in app.settings.brands}:
        # Not an error (the rows are still worth keeping), but none of them will ever alert.
        known = ", ".join(b.name for b in app.settings.brands) or "none configured"
        click.secho(f"--brand {plain(brand)!r} names no configured brand ({known}): its mentions are stored "
                    "and counted, never alerted", fg="yellow", err=True)
    classifier = None if no_classify else load_active_classifier(app)
    with app.store() as store, progress(count_rows(file), f"Importing {click.format_filename(file)}") as bar:
        report = run_collector(store, app.settings, collector, kind="import",
                               classifier=classifier, progress=bar.update)
    for line, error in collector.report.errors[:50]:
        click.secho(f"  line {line}: {plain(error)}", fg="yellow", err=True)
    if len(collector.report.errors) > 50:
        click.secho(f"  … and {len(collector.report.errors) - 50} more lines with errors", fg="yellow", err=True)
    for line, note in collector.report.notes[:50]:
        click.secho(f"  line {line}: imported, {note}", fg="yellow", err=True)
    click.echo(
        f"Read {collector.report.rows} rows: {report.new} new mentions, "
        f"{report.fetched - report.new} already stored, {len(collector.report.errors)} "
        f"line{'' if len(collector.report.errors) == 1 else 's'} with errors"
        + (f", {collector.report.unmatched} matched no brand" if collector.report.unmatched else "")
        + "."
    )
    if classifier is not None:
        click.echo(f"Classified {report.new}: {report.negatives} negative, {report.unscored} unscored "
                   f"(other languages); {report.alerts} alerts queued.")
        click.echo(held_back(report))
    if report.errors:  # the import stopped part-way: what was stored stays, the rest is not lost silently
        raise InputError(f"{click.format_filename(file)}: import stopped: {'; '.join(report.errors)}")


def held_back(report: Any) -> str:
    """One line on the mentions kept but not alerted, and why."""
    parts = [f"{report.worth_a_look} possibly negative (worth a look in the digest)",
             f"{report.spam} spam", f"{report.off_topic} not about a configured brand"]
    return "Kept without an alert: " + ", ".join(parts) + "."


@click.command()
@click.argument("source", required=False)
@pass_app
def collect(app: App, source: str | None) -> None:
    """Collect new mentions once from SOURCE, or from every enabled source.

    A source without its credentials is skipped with a message naming the missing
    environment variable; the other sources still run. Queued alerts are then sent.
    """
    from collectors import SOURCES, collector_class
    from monitor.pipeline import classify_pending, run_collector
    from monitor.preflight import check_settings

    settings = app.settings
    check_settings(settings)
    if source is not None and source not in SOURCES:
        raise ConfigError(f"unknown source {source!r} (known: {', '.join(sorted(SOURCES))})")
    names = [source] if source else [n for n, s in settings.sources.items() if s.enabled]
    if not names:
        click.echo("No source is enabled in the settings; enable one under [sources.NAME].")
    classifier = load_active_classifier(app)
    failed = misconfigured = 0
    with app.store() as store:
        for name in names:
            if name == "file":
                click.echo("file: use `listenpost import FILE` to import a file.")
                continue
            try:
                collector = collector_class(name)(settings)
                report = run_collector(store, settings, collector, classifier=classifier)
            except MissingCredential as exc:
                click.secho(f"{name}: skipped: {exc}", fg="yellow", err=True)
                # Recorded as a failed run, as `listenpost run` does, so `status` and `sources` show it.
                store.finish_run(store.start_run(name, "collect"), fetched=0, new=0, error=f"skipped: {exc}")
                continue
            except ConfigError as exc:  # wrong settings: not a skip, the command fails
                click.secho(f"{name}: {exc}", fg="red", err=True)
                misconfigured += 1
                continue
            failed += bool(report.errors)
            line = (f"{name}: fetched {report.fetched}, new {report.new}, negative {report.negatives}, "
                    f"alerts {report.alerts}")
            click.echo(line + (f", errors: {'; '.join(report.errors)}" if report.errors else ""))
        classify_pending(store, settings, classifier)
        from alerts.dispatch import dispatch_due

        sent = dispatch_due(store, settings)
        click.echo(f"Alerts: {sent.sent} sent, {sent.retried} to retry, {sent.failed} failed.")
    if misconfigured:
        sys.exit(ConfigError.exit_code)
    if failed:
        sys.exit(1)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Where to write the JSON lines (default: standard output); a file is owner-only.")
@click.option("--model", help="Classifier: default, lexicon, a model directory or a Hugging Face id.")
@click.option("--batch-size", type=click.IntRange(1, 4096), default=256, show_default=True)
@pass_app
def classify(app: App, file: str, output: str, model: str | None, batch_size: int) -> None:
    """Classify a CSV or JSONL file with a `text` column (and optional `id`).

    Writes one JSON line per input row, in input order:
    {"id": ..., "label": "negative"|"neutral"|"positive", "alert": true|false, "scores": {"negative": p, ...}}.
    `alert` is what the pipeline would decide for a mention of a brand the text is about: a
    confident negative (`[classifier] alert_threshold`), not spam, and, when the row has a
    `rating` column (1-5 stars), 1-2 stars always alert and 4-5 never do.
    Throughput goes to standard error.
    """
    from monitor.classify import classify_file
    from monitor.pipeline import decider
    from monitor.textfile import detect_encoding, private_file

    encoding = detect_encoding(Path(file))  # before the model loads or the output is created
    classifier = load_active_classifier(app, model)
    with (private_file(output) if output != "-" else contextlib.nullcontext(sys.stdout)) as out, \
            progress(count_rows(file), "Classifying") as bar:
        report = classify_file(file, out, classifier, batch_size=batch_size, encoding=encoding,
                               decide=decider(classifier, app.settings), progress=bar.update)
    rate = report.scored / report.seconds if report.seconds else 0.0
    click.echo(f"{report.scored} texts classified with {classifier.name} in {report.seconds:.1f}s "
               f"({rate:.0f}/s); {report.errors} rows without text.", err=True)

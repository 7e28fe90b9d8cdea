"""Commands that bring mentions in: collect, import, and classify for files."""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from alerts.message import plain, plural
from classifiers import load_active_classifier
from monitor.cli import App, pass_app, progress
from monitor.core.brands import attribute, comparison_clauses
from monitor.core.errors import ConfigError, InputError, MissingCredential
from monitor.core.textfile import count_rows

if TYPE_CHECKING:
    from monitor.app.pipeline import RunReport


def _parse_mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        field_name, sep, column = pair.partition("=")
        if not sep or not field_name or not column:
            raise click.BadParameter(f"{pair!r}: expected FIELD=COLUMN, e.g. text=body", param_hint="--map")
        mapping[field_name.strip()] = column.strip()
    return mapping


def _line_ranges(lines: list[int], shown: int = 6) -> str:
    """'line 2' or 'lines 2, 3, 4, … (48 lines)'."""
    if len(lines) == 1:
        return f"line {lines[0]}"
    head = ", ".join(str(n) for n in lines[:shown])
    return f"lines {head}" + (f", … ({len(lines)} lines)" if len(lines) > shown else "")


# The values in an error message: a quoted value ('0', "x"), or a number (found 7 columns).
_VALUE = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\d+")


def _grouped(lines: list[int], messages: list[str], shown: int = 6) -> str:
    """One kind of error on several lines, each line's own values kept apart.

    "lines 4, 5: rating must be 1 to 5, not … (line 4: '0'; line 5: '6')": one row's value is
    never shown as every row's.
    """
    if len(set(messages)) == 1:
        return f"{_line_ranges(lines, shown)}: {messages[0]}"
    parts = [_VALUE.split(m) for m in messages]
    values = [_VALUE.findall(m) for m in messages]
    if len({len(v) for v in values}) != 1 or any(p != parts[0] for p in parts):
        # Not one message with other values (dates' errors say different things): the first as an example.
        return f"{_line_ranges(lines, shown)}, e.g. line {lines[0]}: {messages[0]}"
    varying = [i for i in range(len(values[0])) if len({v[i] for v in values}) > 1]
    template = parts[0][0] + "".join("…" + parts[0][i + 1] if i in varying else value + parts[0][i + 1]
                                     for i, value in enumerate(values[0]))
    each = "; ".join(f"line {line}: {', '.join(v[i] for i in varying)}"
                     for line, v in list(zip(lines, values, strict=True))[:shown])
    more = ", …" if len(lines) > shown else ""
    return f"{_line_ranges(lines, shown)}: {template} ({each}{more})"


def _unknown_brands(app: App, counts: dict[str, int]) -> str:
    """One warning for brand column values that name no configured brand: those rows were matched by their text."""
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    named = ", ".join(f"{plain(name)!r} ({n})" for name, n in ranked[:5]) + (", …" if len(ranked) > 5 else "")
    configured = ", ".join(plain(b.name) for b in app.settings.brands) or "none"
    return (f"  brand column: {plural(sum(counts.values()), 'row')} named no configured brand ({named}), so they "
            f"were matched by their text like rows without a brand; the configured brands: {configured}")


def _report_errors(errors: list[tuple[int, str]], columns: list[str]) -> None:
    """Each kind of error once, with the lines it hit and each line's value; then what might fix it."""
    by_error: dict[str, list[tuple[int, str]]] = {}
    for line, error in errors:
        # Dates, values and line numbers differ per row; the same mistake is one problem.
        key = "cannot read the date" if error.startswith("cannot read the date") else _VALUE.sub("#", error)
        by_error.setdefault(key, []).append((line, error))
    for group in list(by_error.values())[:10]:
        lines, messages = [n for n, _ in group], [e for _, e in group]
        click.secho(f"  {plain(_grouped(lines, messages))}", fg="yellow", err=True)
    if len(by_error) > 10:
        click.secho(f"  … and {len(by_error) - 10} other kinds of error", fg="yellow", err=True)
    if columns and any("column" in e or e.startswith("no ") for e in by_error):
        click.echo(f"The file's columns: {', '.join(plain(c) for c in columns)}", err=True)
    if "cannot read the date" in by_error:
        click.echo("Dates that are not ISO 8601, epoch seconds or RFC 2822 need --date-format, "
                   "e.g. --date-format '%d/%m/%Y %H:%M' for 03/11/2026 14:05.", err=True)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="Take FIELD (text, id, created_at, author, url, title, brand, source, kind, rating, "
                   "language, parent_id, app_version, country, reach, vendor_sentiment) from COLUMN (in JSON, "
                   "author.name for a nested value). Repeatable.")
@click.option("--source", "source_name", help="Source name for every row (default: a 'source' column, else 'file').")
@click.option("--brand", help="Brand for every row (default: a 'brand' column naming a configured brand, "
                   "else matched by the brands' queries).")
@click.option("--date-format", help="strptime format of the date column, when it is not ISO 8601, epoch or RFC 2822 "
                   "(e.g. '%m/%d/%Y %I:%M %p').")
@click.option("--timezone", "zone", metavar="ZONE",
              help="Time zone of dates written without an offset, e.g. Europe/London "
                   "(default: the `timezone` setting).")
@click.option("--no-classify", is_flag=True, help="Store only; classify later with `listenpost collect`.")
@pass_app
def import_file(app: App, file: str, mapping: tuple[str, ...], source_name: str | None,
                brand: str | None, date_format: str | None, zone: str | None, no_classify: bool) -> None:
    """Import mentions from a CSV or JSONL export.

    \b
    Example:
      listenpost import tweets.csv --map text=full_text --map created_at=date --brand Acme

    Lines that cannot be read are reported with their line numbers; the rest are imported.
    Importing the same file twice adds nothing. Exits 2 when no row could be imported.
    """
    from collectors.file import FileCollector
    from monitor.app.pipeline import run_collector

    if brand is not None:
        brand = _configured_brand(app, brand)
    collector = FileCollector(app.settings, file, mapping=_parse_mapping(mapping), source_name=source_name,
                              brand=brand, date_format=date_format, timezone=_zone(zone))
    if not no_classify:
        from monitor.app.preflight import check_alert_threshold

        check_alert_threshold(app.settings)
    classifier = None if no_classify else load_active_classifier(app.settings.classifier)
    with app.store() as store, progress(count_rows(file), f"Importing {click.format_filename(file)}") as bar:
        report = run_collector(store, app.settings, collector, kind="import",
                               classifier=classifier, progress=bar.update)
    errors = collector.report.errors
    _report_errors(errors, collector.report.columns)
    for line, note in collector.report.notes[:50]:
        click.secho(f"  line {line}: imported, {note}", fg="yellow", err=True)
    if collector.report.unknown_brands:
        click.secho(_unknown_brands(app, collector.report.unknown_brands), fg="yellow", err=True)
    click.echo(
        f"Read {plural(collector.report.rows, 'row')}: {plural(report.new, 'new mention')}, "
        f"{report.fetched - report.new} already stored, {plural(len(errors), 'line')} with errors"
        + (f", {report.unmatched} matched no brand" if report.unmatched else "")
        + (f", {report.own_accounts} skipped as posted by the brand's own accounts (ignore_authors)"
           if report.own_accounts else "")
        + "."
    )
    if classifier is not None:
        click.echo(f"Classified {report.new}: {report.negatives} negative, {report.unscored} unscored "
                   f"(other languages); {plural(report.alerts, 'alert')} queued.")
        click.echo(held_back(report))
        if report.alerts:
            click.echo("Queued alerts are not sent yet: `listenpost alerts dispatch` sends them now "
                       "(a running `listenpost run` or `listenpost serve` sends them within seconds).")
    if report.errors:  # the import stopped part-way: what was stored stays, the rest is not lost silently
        raise InputError(f"{click.format_filename(file)}: import stopped: {'; '.join(report.errors)}")
    if errors and len(errors) == collector.report.rows and not report.fetched:
        raise InputError(f"{click.format_filename(file)}: nothing was imported, every row has an error"
                         f"{_whole_file_hint(errors)}")
    if report.fetched == 0:
        raise InputError(f"{click.format_filename(file)}: no row was imported")


def _whole_file_hint(errors: list[tuple[int, str]]) -> str:
    """What a file whose every row fails most likely needs, said once rather than per line."""
    import re
    from collections import Counter

    widths = Counter(m.groups() for _, e in errors if (m := re.match(r"expected (\d+) columns, found (\d+)$", e)))
    if widths:
        (expected, found), count = widths.most_common(1)[0]
        if count * 2 >= len(errors) and int(found) > int(expected):
            return (f": line 1 is read as the header and has {expected} columns, but most rows have {found}; "
                    "if the export starts with a title block (report name, dates) above its header row, "
                    "delete those lines and import it again")
    line, error = errors[0]
    return f"; the first, line {line}: {error}"


def _configured_brand(app: App, brand: str) -> str:
    """--brand as settings.toml spells it; a brand it does not define would never be alerted."""
    from monitor.core.brands import configured_name

    name = configured_name(app.settings, brand)
    if name is not None:
        return name
    names = [b.name for b in app.settings.brands]
    raise click.BadParameter(f"{brand!r} is not a brand in {app.settings.path or 'the settings'} "
                             f"(brands: {', '.join(names) or 'none'}); mentions of it would never be alerted",
                             param_hint="--brand")


def held_back(report: RunReport) -> str:
    """One line on the mentions kept but not alerted, and why."""
    parts = [f"{report.worth_a_look} possibly negative (worth a look in the digest)",
             f"{report.spam} spam", f"{report.off_topic} not about a configured brand"]
    return "Kept without an alert: " + ", ".join(parts) + "."


def _zone(name: str | None) -> Any:
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise click.BadParameter(f"{name!r} is not a time zone such as Europe/London",
                                 param_hint="--timezone") from None


@click.command()
@click.argument("source", required=False)
@pass_app
def collect(app: App, source: str | None) -> None:
    """Collect new mentions once from SOURCE, or from every enabled source.

    A source without its credentials is skipped with a message naming the missing
    environment variable; the other sources still run. Queued alerts are then sent.
    """
    from collectors import SOURCES, build_collectors
    from monitor.app.pipeline import classify_pending, run_collector
    from monitor.app.preflight import check_settings

    settings = app.settings
    check_settings(settings)
    if source is not None and source not in SOURCES:
        raise ConfigError(f"unknown source {source!r} (known: {', '.join(sorted(SOURCES))})")
    names = [source] if source else [n for n, s in settings.sources.items() if s.enabled]
    if not names:
        click.echo("No source is enabled in the settings; enable one under [sources.NAME].")
    classifier = load_active_classifier(app.settings.classifier)
    failed = misconfigured = 0
    with app.store() as store:
        for built in build_collectors(settings, names):
            name = built.name
            if built.imported_only:
                click.echo(f"{name}: use `listenpost import FILE` to import a file.")
                continue
            try:
                if built.error is not None:
                    raise built.error
                assert built.collector is not None
                # A source that cannot be reached is retried for a while: say what is happening.
                click.echo(f"{name}: collecting…", err=True)
                report = run_collector(store, settings, built.collector, classifier=classifier)
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
        from alerts.outbox.dispatch import dispatch_due

        sent = dispatch_due(store, settings)
        click.echo(f"Alerts: {sent.sent} sent, {sent.retried} to retry, {sent.failed} failed.")
    if misconfigured:
        sys.exit(ConfigError.exit_code)
    if failed:
        sys.exit(1)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--output", "-o", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              help="Where to write the JSON lines (default, or -: standard output). A file is written whole "
                   "or not at all, owner-only; a symbolic link there is replaced, not followed.")
@click.option("--model", help="Classifier: default, lexicon, a model directory or a Hugging Face id.")
@click.option("--batch-size", type=click.IntRange(1, 4096), default=256, show_default=True)
@pass_app
def classify(app: App, file: str, output: str, model: str | None, batch_size: int) -> None:
    """Classify a CSV or JSONL file (- for standard input) with a `text` column (and optional `id`).

    The text, id and rating columns are found as `listenpost import` finds them, ignoring case
    (`Review`, `body`, `content`, `message`; `Rating`, `stars`). Standard input is read as JSON
    lines when it starts with `{`, else as CSV.

    Writes one JSON line per input row, in input order:
    {"id": ..., "label": "negative"|"neutral"|"positive", "alert": true|false, "scores": {"negative": p, ...}}.
    `alert` is what the pipeline would decide for a mention of a brand the text is about: a
    confident negative (`[classifier] alert_threshold`), not spam, and, when the row has a
    `rating` column (1-5 stars), 1-2 stars always alert and 4-5 never do.
    Throughput goes to standard error.

    Exit status: 0 when done (an empty or header-only file too: "0 texts classified");
    2 when no row could be classified, every row having an error (an --output file is then
    left as it was); 130 when interrupted (Ctrl-C): an --output file is left as it was,
    standard output has the rows written so far.
    """
    import signal
    import tempfile

    from monitor.core.textfile import spool

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM (timeout, systemd, docker stop) cleans up as Ctrl-C does

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        with tempfile.TemporaryDirectory(prefix="listenpost-classify-") as folder:
            path = spool(sys.stdin.buffer, folder) if file == "-" else Path(file)
            _classify(app, path, "standard input" if file == "-" else click.format_filename(file),
                      output, model, batch_size)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _classify(app: App, path: Path, shown: str, output: str, model: str | None, batch_size: int) -> None:
    from monitor.app.classify import classify_file
    from monitor.app.pipeline import decider
    from monitor.core.textfile import detect_encoding, whole_file

    encoding = detect_encoding(path, command="classify")  # before the model loads or the output is created
    if output != "-" and Path(output).exists() and Path(output).samefile(path):
        # The results would replace the file being classified.
        raise click.BadParameter(f"{click.format_filename(output)} is the file being classified; "
                                 "write the results to another file", param_hint="--output")
    target = "standard output" if output == "-" else click.format_filename(output)
    total, written = count_rows(path), 0
    try:
        classifier = load_active_classifier(app.settings.classifier, model)
        sink: contextlib.AbstractContextManager[IO[str]] = (
            whole_file(output) if output != "-" else contextlib.nullcontext(sys.stdout))
        with sink as out, progress(total, "Classifying") as bar:
            def step(rows: int) -> None:
                nonlocal written
                written += rows
                bar.update(rows)

            report = classify_file(path, out, classifier, batch_size=batch_size, encoding=encoding,
                                   decide=decider(classifier, app.settings), names=app.settings.brand_names,
                                   clauses=lambda text: comparison_clauses(
                                       app.settings, attribute(app.settings, text), text),
                                   progress=step)
            if report.rows and report.errors == report.rows:
                kept = "" if output == "-" else f"; {target} left as it was"
                raise InputError(f"{shown}: nothing was classified, every row has an error "
                                 f"({report.first_error}){kept}")
    except KeyboardInterrupt:
        if output == "-":
            click.echo(f"interrupted: {written} of {plural(total, 'row')} written to standard output (partial)",
                       err=True)
        else:
            click.echo(f"interrupted: nothing written to {target}, left as it was "
                       f"({written} of {plural(total, 'row')} had been classified)", err=True)
        sys.exit(130)
    rate = report.scored / report.seconds if report.seconds else 0.0
    click.echo(f"{report.scored} texts classified with {classifier.name} in {report.seconds:.1f}s "
               f"({rate:.0f}/s)" + (f"; {report.errors} row{'' if report.errors == 1 else 's'} not classified "
                                      "(each has an \"error\" in the output)" if report.errors else "")
               + (f"; {report.unscored} in languages the model does not cover (label \"unscored\","
                  " or their star rating's verdict)" if report.unscored else "") + ".", err=True)

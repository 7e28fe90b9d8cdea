"""`listenpost demo`: the whole pipeline, offline, on bundled mentions of two fictional brands and a
competitor of one of them."""

from __future__ import annotations

import shutil
import textwrap
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import click

from alerts.base import inline, plain, plural
from collectors.file import FileCollector
from monitor.core.config import Alerts, Brand, Channel, ClassifierSettings, Escalation, Praise, Route, Settings
from monitor.core.records import Mention, source_name, utcnow
from monitor.core.rows import LabelCount

DEMO_BRANDS = [
    Brand(name="Parcelly", queries=["parcelly OR \"parcelly app\""],
          ignore_authors=["parcelly", "ParcellyHelp"], handles=["@parcelly", "@ParcellyHelp"],
          apps={"appstore": ["1460000001"], "googleplay": ["com.parcelly.app"]},
          reply_signature="Jo, Parcelly support", support_contact="a DM to @ParcellyHelp"),
    Brand(name="Brewbird", queries=["brewbird"], ignore_authors=["brewbird", "BrewbirdSupport"],
          handles=["@brewbird", "@BrewbirdSupport"],
          apps={"appstore": ["1460000002"], "googleplay": ["com.brewbird.app"]},
          reply_signature="Alex, Brewbird care", support_contact="care@brewbird.example"),
    # Parcelly's rival: collected and scored for share of voice, never alerted.
    Brand(name="Boxrunner", queries=["boxrunner"], ignore_authors=["boxrunner"], handles=["@boxrunner"],
          competitor=True),
]


# A negative seen by this many followers or more goes straight to the demo's on-call file.
DEMO_ESCALATE_REACH = 10_000


def demo_data_path() -> Path:
    return Path(str(resources.files("monitor.app").joinpath("demo_data/mentions.jsonl")))


def demo_settings(db_path: str, model: str) -> Settings:
    alerts_file = str(Path(db_path).with_name(Path(db_path).stem + "-alerts.jsonl"))
    oncall_file = str(Path(db_path).with_name(Path(db_path).stem + "-oncall.jsonl"))
    fans_file = str(Path(db_path).with_name(Path(db_path).stem + "-fans.jsonl"))
    return Settings(
        database=db_path,
        brands=DEMO_BRANDS,
        classifier=ClassifierSettings(model=model),
        alerts=Alerts(
            channels={"team-file": Channel(type="jsonl", options={"path": alerts_file}),
                      "oncall-file": Channel(type="jsonl", options={"path": oncall_file}),
                      "fans-file": Channel(type="jsonl", options={"path": fans_file})},
            routes=[Route(channels=["team-file"], escalate_reach=DEMO_ESCALATE_REACH)],
            escalation=Escalation(channels=["oncall-file"]),
            praise=Praise(channels=["fans-file"]),
        ),
    )


class DemoCollector(FileCollector):
    """The bundled file, its timestamps moved so that the newest mention is ten minutes old."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings, demo_data_path())
        newest = max(
            (FileCollector.to_mention(self, row.data).created_at
             for row in _rows(demo_data_path()) if row.data),
            default=utcnow(),
        )
        self.shift = (utcnow() - timedelta(minutes=10)) - newest

    def to_mention(self, data: dict[str, Any]) -> Mention:
        mention = super().to_mention(data)
        return replace(mention, created_at=mention.created_at + self.shift)


def _rows(path: Path) -> Any:
    from monitor.core.textfile import read_rows

    return read_rows(path)


def run_demo(*, db_path: str, model: str | None, show: int) -> None:
    from alerts.console import ConsoleChannel
    from alerts.dispatch import build_message, dispatch_due
    from alerts.slack import preview
    from alerts.triage import PRAISE_REASONS
    from alerts.voice import percent, share_of_voice
    from classifiers import load_classifier
    from monitor.app.pipeline import run_collector
    from monitor.cli import progress
    from monitor.core.textfile import count_rows
    from monitor.store import Store

    started = time.perf_counter()
    settings = demo_settings(db_path, model or "default")
    click.echo(f"listenpost demo: mentions of two fictional brands and a competitor → {db_path}")
    click.echo(f"Loading the {settings.classifier.model} sentiment model …")
    classifier = load_classifier(settings.classifier.model)
    collector = DemoCollector(settings)
    with Store(db_path) as store:
        with progress(count_rows(demo_data_path()), "Collecting and classifying") as bar:
            report = run_collector(store, settings, collector, kind="demo",
                                   classifier=classifier, progress=bar.update)
        # The dispatch writes alerts to the demo's file channel; re-runs find nothing due.
        sent = dispatch_due(store, settings, limit=1000)
        stats = store.stats()
        negatives = [r for r in store.list_alerts(limit=1000) if r.kind == "mention"]
        agreement = _agreement(store, classifier.name)
        reach = store.reach_summary()
        voice = share_of_voice(store, settings, utcnow() - timedelta(days=7), utcnow())
        notices = store.notices(utcnow() - timedelta(days=1), utcnow() + timedelta(minutes=1))
        praise, praise_total = store.praise_to_thank(PRAISE_REASONS, since=utcnow() - timedelta(days=7),
                                                     now=utcnow(), limit=1)
        shown = sorted(negatives, key=lambda r: r.posted_at or "", reverse=True)[:show]
        console = ConsoleChannel("console", Channel(type="console", options={"width": 240}), settings)
        rendered = [console.render(build_message(store, settings, row)) for row in shown]
        columns = max(40, shutil.get_terminal_size((80, 24)).columns)
        in_slack = preview(build_message(store, settings, shown[0]), tz=settings.tz, columns=columns) if shown else ""

    elapsed = time.perf_counter() - started
    summary = (f"{plural(report.fetched, 'mention')} read ({report.fetched - report.new} already stored, "
               f"{report.new} new); {plural(report.negatives, 'new negative')}, {report.unscored} in "
               f"languages the model does not cover (stored as unscored); "
               f"{plural(report.alerts, 'new alert')} (complaints, on-call, notices, praise), "
               f"{sent.sent} delivered to the demo's alert files"
               + (f", {sent.grouped} grouped into an earlier incident." if sent.grouped else "."))
    def say(text: str) -> None:
        click.echo(textwrap.fill(text, columns, break_on_hyphens=False))

    click.echo()
    say(summary)
    _print_table(stats)
    if agreement:
        a = agreement
        click.echo()
        say(f"Agreement with the hand labels bundled with the demo data: "
            f"{a.agreed}/{a.labeled} ({a.agreed / a.labeled:.0%}).")
        if a.alerts:
            say(f"Alerts: {a.alerts}, of which {a.alerts_negative} hand-labeled negative "
                f"({a.alerts_negative / a.alerts:.0%} precision, {a.alerts_negative}/{a.negatives} of the "
                f"negatives) and {a.alerts_positive} hand-labeled positive.")
    say(f"Reach: {reach.given} of {reach.total} mentions carry an audience figure (the others' sources "
        f"gave none); {plural(reach.escalated, 'negative')} seen by {DEMO_ESCALATE_REACH:,} followers or "
        f"more went straight to on-call.")
    if notices:
        first = notices[-1]
        say(f"Status notices: {plural(len(notices), 'incident')} of several people reporting the same problem, "
            f"each with a suggested post for the brand's own account; for {inline(first.brand)} "
            f"({first.payload.get('count')} reports): \"{plain(str(first.payload.get('text', '')))}\"")
    if praise:
        top = praise[0]
        seen = f"reach {top.reach:,}" if top.reach is not None else "no reach given"
        say(f"Say thanks: {plural(praise_total, 'mention')} of praise to thank, each also in the demo's fans "
            f"file with a thank-you draft; widest reach first: {inline(top.author)} on "
            f"{source_name(top.source)} ({seen}).")
    say("Share of voice over the last 7 days (negative share in brackets): " + ", ".join(
        f"{v.brand}{' (competitor, never alerted)' if v.competitor else ''} {percent(v.share)} "
        f"({percent(v.negative_share)} negative)" for v in voice) + ".")
    say(f"Kept without an alert: {report.worth_a_look} possibly negative (listed as \"worth a look\" in "
        f"the digest), {report.spam} spam, {report.off_topic} not about the brands.")
    click.echo(f"\n{len(negatives)} negative mentions would be alerted. The {len(rendered)} newest:\n")
    for text in rendered:
        click.echo(text + "\n")
    if in_slack:
        click.echo("The newest as a Slack alert (see docs/alerts-and-slack.md):\n")
        click.echo(in_slack + "\n")
    click.echo(f"Done in {elapsed:.1f}s. Look further:")
    for command in (
        f"listenpost --db {db_path} mentions list --label negative --limit 10",
        f"listenpost --db {db_path} mentions search \"refund\"",
        f"listenpost --db {db_path} alerts list",
        f"listenpost --db {db_path} stats",
        f"listenpost --db {db_path} browse --open   # read-only, in Datasette",
    ):
        click.echo(f"  {command}")


def _print_table(stats: list[LabelCount]) -> None:
    totals: dict[tuple[str, str], int] = {}
    for r in stats:
        totals[(r.brand or "-", r.label)] = totals.get((r.brand or "-", r.label), 0) + r.n
    brands = sorted({b for b, _ in totals})
    labels = ["negative", "neutral", "positive", "unscored"]
    click.echo("\n" + f"{'':<12}" + "".join(f"{label:>10}" for label in labels))
    for brand in brands:
        cells = "".join(f"{totals.get((brand, label), 0):>10}" for label in labels)
        click.echo(f"{plain(brand):<12}{cells}")


@dataclass(frozen=True)
class Agreement:
    """How the demo's verdicts compare with the hand labels bundled with its data."""

    agreed: int
    labeled: int
    alerts: int
    alerts_negative: int  # alerts whose hand label is negative
    alerts_positive: int  # alerts whose hand label is positive: praise that would interrupt someone
    negatives: int


def _agreement(store: Any, model: str) -> Agreement | None:
    rows = store.gold_and_predicted(model)
    if not rows:
        return None
    return Agreement(
        agreed=sum(gold == got for gold, got, _ in rows), labeled=len(rows),
        alerts=sum(alert for _, _, alert in rows),
        alerts_negative=sum(alert and gold == "negative" for gold, _, alert in rows),
        alerts_positive=sum(alert and gold == "positive" for gold, _, alert in rows),
        negatives=sum(gold == "negative" for gold, _, _ in rows),
    )

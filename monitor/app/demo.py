"""`listenpost demo`: the whole pipeline, offline, on bundled mentions of two fictional brands and a
competitor of one of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import timedelta
from importlib import resources
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from collectors.file import FileCollector
from monitor.core.config import Alerts, Brand, Channel, ClassifierSettings, Escalation, Praise, Route, Settings
from monitor.core.database import parse_database
from monitor.core.errors import InputError
from monitor.core.records import Mention, utcnow
from monitor.core.rows import LabelCount, Notice
from monitor.core.rows import Praise as PraiseRow

if TYPE_CHECKING:
    from alerts.digest.voice import Voice
    from alerts.outbox.dispatch import DispatchReport
    from monitor.app.pipeline import RunReport
    from monitor.store import Store
    from monitor.store.audience import ReachSummary

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
    location = parse_database(db_path)
    # Beside an SQLite file; for a PostgreSQL database, in the current folder.
    stem = Path(location.path) if location.kind == "sqlite" else Path("listenpost-demo")
    alerts_file = str(stem.with_name(stem.stem + "-alerts.jsonl"))
    oncall_file = str(stem.with_name(stem.stem + "-oncall.jsonl"))
    fans_file = str(stem.with_name(stem.stem + "-fans.jsonl"))
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


@dataclass(frozen=True)
class Agreement:
    """How the demo's verdicts compare with the hand labels bundled with its data."""

    agreed: int
    labeled: int
    alerts: int
    alerts_negative: int  # alerts whose hand label is negative
    alerts_positive: int  # alerts whose hand label is positive: praise that would interrupt someone
    negatives: int


def _agreement(store: Store, model: str) -> Agreement | None:
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


@dataclass(frozen=True)
class DemoReport:
    """What a demo run did, for the CLI to print."""

    db_path: str
    pipeline: RunReport
    sent: DispatchReport
    stats: list[LabelCount]
    # Outbox rows this run queued, per kind: one row per channel an alert goes to.
    queued: dict[str, int]
    negatives: int  # complaints alerted to the team: mentions, each counted once whatever its channels
    agreement: Agreement | None
    reach: ReachSummary
    voice: list[Voice]
    notices: list[Notice]  # the store's notice rows, newest first
    praise: list[PraiseRow]  # the store's praise to thank, widest reach first
    praise_total: int
    rendered: list[str]  # the newest alerts as the console channel writes them
    in_slack: str  # the newest as a Slack preview, "" when there is none
    elapsed: float


def _no_progress(length: int, label: str) -> AbstractContextManager[Any]:
    return nullcontext(SimpleNamespace(update=lambda n: None))


def refuse_other_brands(store: Store, shown_as: str) -> None:
    """The demo's brands are fictional: never write them into a database that watches real ones."""
    others = store.other_brands([b.name for b in DEMO_BRANDS])
    if others:
        raise InputError(f"{shown_as} (from LISTENPOST_DATABASE) holds mentions of {', '.join(others)}: the "
                         "demo writes fictional brands, so it runs there only on an empty database or its own; "
                         "pass --db listenpost-demo.db (or --db that database, to write into it anyway)")


def run_demo(*, db_path: str, model: str | None, show: int, columns: int = 80,
             announce: Callable[[str], None] = lambda line: None,
             progress: Callable[[int, str], AbstractContextManager[Any]] = _no_progress,
             only_demo_brands: bool = False) -> DemoReport:
    """Collect, classify, alert and dispatch the bundled mentions into ``db_path``.

    ``announce`` hears each step as it starts; ``progress(length, label)`` gives a context whose
    value has ``update(n)``; ``columns`` is the width of the Slack preview.
    """
    from alerts.channels.base import ChannelContext
    from alerts.channels.console import ConsoleChannel
    from alerts.channels.slack.render import preview
    from alerts.digest.voice import share_of_voice
    from alerts.outbox.dispatch import build_message, dispatch_due
    from alerts.outbox.triage import PRAISE_REASONS
    from classifiers import load_classifier
    from monitor.app.pipeline import run_collector
    from monitor.core.textfile import count_rows
    from monitor.store import Store

    started = time.perf_counter()
    settings = demo_settings(db_path, model or "default")
    shown_as = parse_database(db_path).display()
    if only_demo_brands:
        with Store(db_path) as store:
            refuse_other_brands(store, shown_as)
    announce(f"listenpost demo: mentions of two fictional brands and a competitor → {shown_as}")
    announce(f"Loading the {settings.classifier.model} sentiment model …")
    classifier = load_classifier(settings.classifier.model)
    collector = DemoCollector(settings)
    run_started = utcnow()
    with Store(db_path) as store:
        with progress(count_rows(demo_data_path()), "Collecting and classifying") as bar:
            report = run_collector(store, settings, collector, kind="demo",
                                   classifier=classifier, progress=bar.update)
        # The dispatch writes alerts to the demo's file channel; re-runs find nothing due.
        sent = dispatch_due(store, settings, limit=1000)
        stats = store.stats()
        queued = store.alert_kinds(run_started)
        complaints = [r for r in store.list_alerts(limit=5000) if r.kind == "mention"]
        negatives = list({(r.source, r.external_id): r for r in complaints}.values())
        agreement = _agreement(store, classifier.name)
        reach = store.reach_summary()
        voice = share_of_voice(store, settings, utcnow() - timedelta(days=7), utcnow())
        notices = store.notices(utcnow() - timedelta(days=1), utcnow() + timedelta(minutes=1))
        praise, praise_total = store.praise_to_thank(PRAISE_REASONS, since=utcnow() - timedelta(days=7),
                                                     now=utcnow(), limit=1)
        shown = sorted(negatives, key=lambda r: r.posted_at or "", reverse=True)[:show]
        console = ConsoleChannel("console", Channel(type="console", options={"width": 240}),
                                 ChannelContext.of(settings))
        rendered = [console.render(build_message(store, settings, row)) for row in shown]
        in_slack = preview(build_message(store, settings, shown[0]), tz=settings.tz, columns=columns) if shown else ""
    return DemoReport(db_path=shown_as, pipeline=report, sent=sent, stats=stats, queued=queued,
                      negatives=len(negatives),
                      agreement=agreement, reach=reach, voice=list(voice), notices=list(notices),
                      praise=list(praise), praise_total=praise_total, rendered=rendered, in_slack=in_slack,
                      elapsed=time.perf_counter() - started)

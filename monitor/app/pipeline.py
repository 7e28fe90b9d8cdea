"""The one pipeline: collector -> normalize and dedupe -> store -> classify -> route -> outbox.

`collect`, `run`, `backfill`, `import` and `demo` all call `run_collector`; they differ only in
the collector and the time window they pass.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alerts.outbox import triage
from alerts.outbox.incidents import group_key_for, raise_spikes
from alerts.outbox.notices import incident_notice
from alerts.outbox.router import channels_for, reach_threshold
from collectors.base import Batch, BrandQuery, Collector, Window
from monitor.core.brands import own_clauses
from monitor.core.config import Settings
from monitor.core.errors import ListenpostError
from monitor.core.records import UNSCORED, Classification, Mention, RunKind
from monitor.store import Store

if TYPE_CHECKING:
    from alerts.outbox.triage import Decision
    from classifiers.base import Classifier, Scores

log = logging.getLogger(__name__)

Progress = Callable[[int], None]


@dataclass
class RunReport:
    """What one collector run did; also written to the runs table."""

    source: str
    fetched: int = 0
    new: int = 0
    negatives: int = 0
    unscored: int = 0
    alerts: int = 0
    skipped: int = 0
    own_accounts: int = 0  # dropped: posted by a brand's ignore_authors
    unmatched: int = 0  # kept, fetched or read, naming no configured brand
    # Kept but not alerted: negatives below the alert threshold, spam, posts about no brand.
    worth_a_look: int = 0
    spam: int = 0
    off_topic: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.fetched += other.fetched
        self.new += other.new
        self.negatives += other.negatives
        self.unscored += other.unscored
        self.alerts += other.alerts
        self.worth_a_look += other.worth_a_look
        self.spam += other.spam
        self.off_topic += other.off_topic
        self.own_accounts += other.own_accounts
        self.unmatched += other.unmatched


@dataclass
class IngestResult:
    fetched: int = 0
    new: int = 0
    negatives: int = 0
    unscored: int = 0
    alerts: int = 0
    worth_a_look: int = 0
    spam: int = 0
    off_topic: int = 0
    own_accounts: int = 0
    unmatched: int = 0
    new_mentions: list[Mention] = field(default_factory=list)


def negative_threshold(classifier: Classifier, configured: float | None) -> float:
    """The configured negative threshold, else the one the classifier was tuned for."""
    return configured if configured is not None else classifier.negative_threshold


def alert_threshold(classifier: Classifier, settings: Settings) -> float:
    """The configured alert threshold, else the classifier's own, never below the negative threshold."""
    labeled = negative_threshold(classifier, settings.classifier.negative_threshold)
    configured = settings.classifier.alert_threshold
    chosen = configured if configured is not None else classifier.alert_threshold
    return labeled if chosen is None else max(labeled, chosen)


def decider(classifier: Classifier, settings: Settings) -> Callable[[Scores, str, int | None], Decision]:
    """The triage decision for a text's scores, its rating and the configured thresholds."""
    labeled = negative_threshold(classifier, settings.classifier.negative_threshold)
    alerting = alert_threshold(classifier, settings)

    def decide(scores: Scores, text: str, rating: int | None) -> Decision:
        return triage.decide(scores, text=text, rating=rating, negative_threshold=labeled,
                             alert_threshold=alerting)

    return decide


def _normalize(settings: Settings, mentions: Iterable[Mention]) -> list[Mention]:
    """Drop the brand's own accounts; everything else is kept as collected."""
    ignored = {
        b.name: {a.lower().lstrip("@") for a in b.ignore_authors} for b in settings.brands
    }
    # A post that names no brand (a support account's reply, say) is dropped when its author is
    # any brand's own account: it would otherwise be counted, and often scored negative, as "other".
    anyone = set().union(*ignored.values()) if ignored else set()
    out = []
    for m in mentions:
        if m.author and m.author.lower().lstrip("@") in (ignored.get(m.brand, ()) if m.brand else anyone):
            continue
        out.append(m)
    return out


def classify_mentions(
    store: Store, settings: Settings, classifier: Classifier, mentions: Sequence[Mention]
) -> list[Classification]:
    """Detect language, score covered languages in batches, store and return the verdicts."""
    from classifiers.language import detect_language

    to_score: list[Mention] = []
    results: list[Classification] = []
    names = settings.brand_names
    for m in mentions:
        language = m.language or detect_language(m.text, names)
        if language != m.language:
            store.set_language(m.source, m.external_id, language)
        if language and classifier.languages is not None and language not in classifier.languages:
            # The model cannot read it, but a star rating is the customer's verdict in any language.
            decision = triage.with_relevance(triage.by_rating(m.text, m.rating) or triage.unscored(), settings, m)
            results.append(Classification(m.source, m.external_id, classifier.name, decision.label,
                                          None, None, None, alert=decision.alert, reason=decision.reason))
        else:
            to_score.append(m)
    if to_score:
        texts = [f"{m.title}. {m.text}" if m.title and m.title != m.text else m.text for m in to_score]
        scores = classifier.classify(texts)
        # A post that also names a competitor is judged by its clauses about our brand: its tone,
        # and its safety words ("Zenith chargers catch fire; switched to Acme" is no Acme report).
        compared = {i: clauses for i, m in enumerate(to_score) if (clauses := own_clauses(settings, m))}
        if compared:
            for i, judged in zip(compared, classifier.classify(list(compared.values())), strict=True):
                scores[i] = judged
        decide = decider(classifier, settings)
        for i, (m, text, s) in enumerate(zip(to_score, texts, scores, strict=True)):
            # A comment's title is its post's or video's ("GIVEAWAY! Follow to win", "#ad"): the spam
            # rules read what the commenter wrote, as the relevance rules do.
            own = compared.get(i) or (m.text if m.kind == "comment" else text)
            decision = triage.with_relevance(decide(s, own, m.rating), settings, m)
            results.append(Classification(m.source, m.external_id, classifier.name, decision.label,
                                          s.negative, s.neutral, s.positive,
                                          alert=decision.alert, reason=decision.reason))
    store.save_classifications(results)
    return results


def route_alerts(store: Store, settings: Settings, mentions: Sequence[Mention],
                 verdicts: Sequence[Classification]) -> int:
    """Write outbox rows for each classified mention that a route takes; returns how many mentions.

    One alert per mention, however many channels it goes to: a complaint routed to Slack and a
    file is one alert for the team (`alerts list` shows it once), not two.
    """
    by_key = {(c.source, c.external_id): c for c in verdicts}
    created = 0
    for m in mentions:
        verdict = by_key.get(m.key)
        if verdict is None:
            continue
        alert = verdict.label == "negative" if verdict.alert is None else verdict.alert
        severity = triage.routing_severity(triage.Decision(verdict.label, alert, verdict.reason))
        channels = channels_for(settings, brand=m.brand, source=m.source, label=severity) if severity else []
        # Near-duplicates (reposts, cross-posts) share an incident key: one thread, a running count.
        group = group_key_for(store, settings, m) if channels else None
        queued = False
        # A safety report may read calm: the alert says why it was sent, not "possibly negative".
        why = {"reason": triage.REASON_TEXT[triage.SAFETY]} if verdict.reason == triage.SAFETY else None
        for channel in channels:
            if store.enqueue_alert(source=m.source, external_id=m.external_id, brand=m.brand,
                                   channel=channel, group_key=group, payload=why) is not None:
                queued = True
        created += queued
        if group and group != f"{m.source}:{m.external_id}":  # joined an incident: enough to speak up?
            created += incident_notice(store, brand=m.brand, group_key=group, channels=channels)
        if channels and severity == "negative":
            created += _escalate_by_reach(store, settings, m, group)
        if verdict.reason in triage.PRAISE_REASONS:
            created += sum(store.enqueue_alert(source=m.source, external_id=m.external_id, brand=m.brand,
                                               channel=channel, kind="praise") is not None
                           for channel in _enabled(settings, settings.alerts.praise.channels))
    # A spike counts every negative of the brand, worth-a-look ones too (store.hourly_negatives): a burst of
    # posts none of which is confident alone ("is acme down?") must still be looked at.
    negative_brands = {m.brand for m in mentions if (v := by_key.get(m.key)) is not None
                       and v.label == "negative" and v.reason not in (triage.SPAM, triage.OFF_TOPIC, triage.COMPETITOR)}
    return created + raise_spikes(store, settings, negative_brands)


def _enabled(settings: Settings, names: Sequence[str]) -> list[str]:
    """The enabled ones of these channels: as routes do, nothing is queued where nothing sends it."""
    return [n for n in names if (c := settings.alerts.channels.get(n)) is not None and c.enabled]


def _escalate_by_reach(store: Store, settings: Settings, m: Mention, group: str | None) -> int:
    """Queue on-call alerts for a negative whose reach meets a route's ``escalate_reach``."""
    threshold = reach_threshold(settings, brand=m.brand, source=m.source, reach=m.reach)
    if threshold is None:
        return 0
    reason = f"reach {m.reach:,} is {threshold:,} or more"
    return sum(store.enqueue_alert(source=m.source, external_id=m.external_id, brand=m.brand, channel=channel,
                                   kind="escalation", group_key=group, payload={"reason": reason}) is not None
               for channel in _enabled(settings, settings.alerts.escalation.channels))


def ingest(store: Store, settings: Settings, mentions: Iterable[Mention],
           classifier: Classifier | None) -> IngestResult:
    """Store a batch, classify what is new and route alerts. Re-ingesting adds nothing."""
    mentions = list(mentions)
    batch = _normalize(settings, mentions)
    # A brand's own post is counted once, as its own; "matched no brand" counts only what is kept.
    result = IngestResult(fetched=len(batch), own_accounts=len(mentions) - len(batch),
                          unmatched=sum(not m.brand for m in batch))
    # One transaction: a process killed after storing a mention but before its verdict and
    # alerts would leave it stored, so never seen as new again, and its alert would be lost.
    with store.transaction():
        new = store.save_mentions(batch)
        result.new = len(new)
        result.new_mentions = new
        if new and classifier is not None:
            verdicts = classify_mentions(store, settings, classifier, new)
            result.negatives = sum(v.label == "negative" for v in verdicts)
            result.unscored = sum(v.label == UNSCORED for v in verdicts)
            result.worth_a_look = sum(v.reason == triage.LOW_CONFIDENCE for v in verdicts)
            result.spam = sum(v.reason == triage.SPAM for v in verdicts)
            result.off_topic = sum(v.reason == triage.OFF_TOPIC for v in verdicts)
            result.alerts = route_alerts(store, settings, new, verdicts)
    return result


def run_collector(
    store: Store,
    settings: Settings,
    collector: Collector,
    *,
    kind: RunKind = "collect",
    window: Window | None = None,
    classifier: Classifier | None = None,
    progress: Progress | None = None,
    queries: list[BrandQuery | None] | None = None,
) -> RunReport:
    """Run one collector over its queries; each batch is stored before its cursor moves on."""
    window = window or Window()
    report = RunReport(source=collector.name)
    run_id = store.start_run(collector.name, kind)
    todo: list[BrandQuery | None] = list(collector.queries()) if queries is None else queries
    if not todo and queries is None:
        todo = [None]
    try:
        for query in todo:
            cursor_key = query.key if query else ""
            cursor = store.cursor(collector.name, cursor_key) if kind != "import" else None
            try:
                for batch in collector.fetch(query, cursor, window):
                    _apply(store, settings, collector, batch, cursor_key, kind, classifier, report)
                    if progress:
                        progress(len(batch.mentions) + batch.skipped)
            except ListenpostError as exc:
                # One failing query is recorded; the source's other queries still run.
                # Most source errors already name their source: the log line does not say it twice.
                log.error("%s: %s", collector.name, str(exc).removeprefix(f"{collector.name}: "))
                report.errors.append(f"{cursor_key or collector.name}: {exc}")
    except BaseException as exc:  # Ctrl-C or a bug: record the run as failed, then re-raise
        store.finish_run(run_id, fetched=report.fetched, new=report.new,
                         negatives=report.negatives, alerts=report.alerts,
                         error=f"interrupted: {type(exc).__name__}: {exc}")
        raise
    store.finish_run(run_id, fetched=report.fetched, new=report.new, negatives=report.negatives,
                     alerts=report.alerts, error="; ".join(report.errors) or None)
    return report


def _apply(store: Store, settings: Settings, collector: Collector, batch: Batch, cursor_key: str,
           kind: RunKind, classifier: Classifier | None, report: RunReport) -> None:
    result = ingest(store, settings, batch.mentions, classifier)
    report.add(result)
    report.skipped += batch.skipped
    report.notes.extend(batch.notes)
    if batch.cursor is not None and kind != "import":
        store.save_cursor(collector.name, cursor_key, batch.cursor)


# Stored mentions the daemon scores per dispatch tick while a backlog lasts (a model change
# re-scores the whole history): a few seconds of the shipped model, so alerts are not held up.
PENDING_PER_PASS = 1024


def classify_pending(store: Store, settings: Settings, classifier: Classifier, *,
                     batch_size: int = 256, limit: int | None = None, progress: Progress | None = None) -> int:
    """Classify stored mentions this model has not scored yet, at most ``limit``; returns how many.

    Mentions no model had scored (imported with --no-classify) are routed to alerts like
    new ones; mentions re-scored after a model change are not alerted a second time.
    """
    done = 0
    while limit is None or done < limit:
        # Claimed, so that workers sharing the database never score the same mention twice.
        pending = store.claim_unclassified(
            classifier.name, limit=batch_size if limit is None else min(batch_size, limit - done))
        if not pending:
            return done
        try:
            mentions = [p.mention for p in pending]
            verdicts = classify_mentions(store, settings, classifier, mentions)
            fresh = {p.mention.key for p in pending if not p.classified_before}
            route_alerts(store, settings, [m for m in mentions if m.key in fresh], verdicts)
        finally:
            store.release_claims(classifier.name)
        done += len(pending)
        if progress:
            progress(len(pending))
    return done

"""What the digest says: per-brand volume and sentiment, charts, unanswered negatives, themes,
response times. `build_digest` reads the store (aggregates run in SQL)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from alerts.digest.charts import Point, volume_chart
from alerts.digest.themes import Theme, find_themes
from alerts.digest.voice import Voice, has_competitors, share_of_voice
from alerts.escape import link_target
from alerts.message import inline, plain, reach_words, truncate
from alerts.outbox import triage
from alerts.outbox.notices import Notice, notice_as_shown
from monitor.core.config import Settings
from monitor.core.records import UNSCORED, utcnow
from monitor.core.rows import HourCount, Praise, ReportedMention
from monitor.store import Store, parse_ts

TOP_NEGATIVES = 5
PRAISE_SHOWN = 5
UNANSWERED_SHOWN = 6
WORTH_A_LOOK_SHOWN = 5
UNSCORED_SHOWN = 5
THEME_TEXTS = 20000  # newest negatives of a period read for themes
SNIPPET = 280
NO_BRAND = "Other mentions"


@dataclass(frozen=True)
class Item:
    """A mention as the digest shows it: cleaned, shortened text and a link only if it is http(s)."""

    source: str
    author: str
    text: str
    url: str
    posted: datetime
    claimed: bool = False
    claimed_by: str = ""
    brand: str = ""
    reach: str = ""  # the audience figures in words, for praise to thank
    language: str = ""  # detected or given, for mentions the model does not read


@dataclass
class SourceLine:
    source: str
    now: Counter[str] = field(default_factory=Counter)
    before: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.now.values())

    @property
    def previous(self) -> int:
        return sum(self.before.values())


@dataclass
class BrandSection:
    name: str
    sources: list[SourceLine] = field(default_factory=list)
    chart: str | None = None  # content id of the chart image
    top: list[Item] = field(default_factory=list)
    unanswered: list[Item] = field(default_factory=list)
    unanswered_total: int = 0
    # Negatives below the alert threshold: nobody was interrupted for them, so they are listed here.
    worth_a_look: list[Item] = field(default_factory=list)
    worth_a_look_total: int = 0
    # In languages the model does not read: no score, so a person has to read them.
    unscored: list[Item] = field(default_factory=list)
    unscored_total: int = 0

    def count(self, label: str | None = None, *, previous: bool = False) -> int:
        return sum(
            sum(c.values()) if label is None else c[label]
            for c in ((s.before if previous else s.now) for s in self.sources)
        )


@dataclass
class Timing:
    """Response times of one source (whatever the channels), seconds from when the mention was posted."""

    source: str
    channels: list[str] = field(default_factory=list)
    alerts: int = 0
    steps: dict[str, dict[str, float | int | None]] = field(default_factory=dict)

    def n(self, step: str) -> int:
        return int(self.steps.get(step, {}).get("n") or 0)

    def value(self, step: str, stat: str) -> float | None:
        value = self.steps.get(step, {}).get(stat)
        return None if value is None else float(value)


@dataclass
class Digest:
    since: datetime
    until: datetime
    tz: ZoneInfo
    excellent: float
    average: float
    backlog: float  # seconds back that unanswered negatives are listed from
    brands: list[BrandSection] = field(default_factory=list)
    timings: list[Timing] = field(default_factory=list)
    themes: list[tuple[Theme, list[Item]]] = field(default_factory=list)
    failed_sources: list[dict[str, Any]] = field(default_factory=list)
    unscored: int = 0
    unclassified: int = 0
    # Mentions kept but never alerted, by reason: spam, not about the brand.
    spam: int = 0
    off_topic: int = 0
    charts: dict[str, bytes] = field(default_factory=dict)
    # Share of voice of every configured brand, ours and competitors'; empty without competitors.
    voice: list[Voice] = field(default_factory=list)
    # Praise of the period not thanked yet, widest reach and newest first, and how much in all.
    praise: list[Item] = field(default_factory=list)
    praise_total: int = 0
    # Status notices suggested in the period: several people reporting the same problem.
    notices: list[Notice] = field(default_factory=list)

    @property
    def period(self) -> timedelta:
        return self.until - self.since

    @property
    def total(self) -> int:
        return sum(b.count() for b in self.brands)

    @property
    def negatives(self) -> int:
        return sum(b.count("negative") for b in self.brands)

    @property
    def previous_total(self) -> int:
        return sum(b.count(previous=True) for b in self.brands)

    @property
    def previous_negatives(self) -> int:
        return sum(b.count("negative", previous=True) for b in self.brands)

    @property
    def unanswered(self) -> int:
        return sum(b.unanswered_total for b in self.brands)

    def grade(self, seconds: float | None) -> str:
        return grade(seconds, self.excellent, self.average)


def grade(seconds: float | None, excellent: float, average: float) -> str:
    """'excellent' within ``excellent`` seconds, 'average' within ``average``, else 'poor'."""
    if seconds is None:
        return ""
    if seconds <= excellent:
        return "excellent"
    return "average" if seconds <= average else "poor"


def _item(row: ReportedMention | Praise, tz: ZoneInfo) -> Item:
    text = row.text or ""
    title = row.title or ""
    if title and not text.startswith(title):
        text = f"{title} — {text}" if text else title
    posted = parse_ts(row.created_at) or utcnow()
    # Praise is never claimed; a reported mention may be, and the digest says by whom.
    claimed_at, claimed_by = (None, None) if isinstance(row, Praise) else (row.claimed_at, row.claimed_by)
    return Item(source=inline(row.source), author=plain(truncate(row.author or "", 60)),
                text=plain(truncate(text, SNIPPET)), url=link_target(row.url or "") or "",
                posted=posted.astimezone(tz), claimed=bool(claimed_at),
                claimed_by=inline(claimed_by or ""), brand=inline(row.brand or ""),
                reach=reach_words(row.reach, row.engagement) if isinstance(row, Praise) else "",
                language="" if isinstance(row, Praise) else inline(row.language or ""))


def _brand_sections(store: Store, settings: Settings, since: datetime, until: datetime,
                    before: datetime) -> dict[str, BrandSection]:
    sections = {b.name: BrandSection(b.name) for b in settings.brands if not b.competitor}
    competitors = {b.name for b in settings.brands if b.competitor}  # shown as share of voice only
    lines: dict[tuple[str, str], SourceLine] = {}
    for previous, rows in ((False, store.period_counts(since, until)),
                           (True, store.period_counts(before, since))):
        for r in rows:
            if r.brand in competitors:
                continue
            brand = r.brand or NO_BRAND
            section = sections.setdefault(brand, BrandSection(brand))
            line = lines.get((brand, r.source))
            if line is None:
                line = lines[(brand, r.source)] = SourceLine(r.source)
                section.sources.append(line)
            (line.before if previous else line.now)[r.label] += r.n
    for section in sections.values():
        section.sources.sort(key=lambda s: (-s.total, s.source))
    return sections


MAX_BARS = 120


def chart_points(rows: list[HourCount], start: datetime, until: datetime, tz: ZoneInfo,
                 step: timedelta) -> list[Point]:
    """Hourly UTC counts gathered into buckets of ``step`` (an hour, or a local day), zeros kept."""
    buckets: dict[datetime, list[int]] = {}
    first_day = start.astimezone(tz).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    for r in rows:
        hour = datetime.fromisoformat(r.hour + ":00+00:00").astimezone(tz)
        key = hour.replace(tzinfo=None)
        if step >= timedelta(days=1):
            # local days, gathered into buckets of step.days days counted from the first one
            day = key.replace(hour=0, minute=0, second=0)
            key = first_day + timedelta(days=(day - first_day).days // step.days * step.days)
        counts = buckets.setdefault(key, [0, 0])
        counts[0] += r.n
        counts[1] += r.negatives or 0
    points = []
    cursor = start.astimezone(tz).replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        cursor = cursor.replace(hour=0)
    while cursor < until:
        total, negatives = buckets.get(cursor.replace(tzinfo=None), (0, 0))
        points.append(Point(cursor, total, negatives))
        # wall-clock steps: a local day stays a day across a DST change
        cursor = (cursor.replace(tzinfo=None) + step).replace(tzinfo=tz)
    return points


def from_first_data(points: list[Point], step: timedelta) -> list[Point]:
    """The points from the first with mentions, keeping at least a week of days or a day of hours:
    an empty previous period, or a long one with data only lately, would squash the bars right."""
    first_data = next((n for n, p in enumerate(points) if p.mentions), 0)
    return points[max(0, min(first_data, len(points) - (7 if step >= timedelta(days=1) else 24))):]


def _charts(digest: Digest, store: Store, before: datetime) -> None:
    step = timedelta(hours=1) if digest.period <= timedelta(hours=48) else timedelta(days=1)
    if step.days:
        # At most about MAX_BARS bars (this period and the one before): a long period is drawn
        # in weeks or months of days, not thousands of daily bars that take minutes to draw.
        step = timedelta(days=max(1, -(-2 * digest.period.days // MAX_BARS)))
    by_brand: dict[str, list[HourCount]] = {}
    for r in store.hourly_counts(before, digest.until):
        by_brand.setdefault(r.brand or NO_BRAND, []).append(r)
    for i, section in enumerate(digest.brands, 1):
        rows = by_brand.get(section.name)
        if not rows:
            continue
        split = digest.since.astimezone(digest.tz)
        points = chart_points(rows, before, digest.until, digest.tz, step)
        cid = f"chart-{i}@listenpost"
        digest.charts[cid] = volume_chart(from_first_data(points, step), split=split, step=step,
                                          end=digest.until.astimezone(digest.tz))
        section.chart = cid


def response_times(store: Store, since: datetime, until: datetime) -> list[Timing]:
    """Per source: mentions alerted in [since, until) and how fast each step came."""
    timings: dict[str, Timing] = {}
    for r in store.response_times(since, until):
        timing = timings.setdefault(r.source, Timing(r.source, r.channels))
        if r.step == "total":
            timing.alerts = r.n
        else:
            timing.steps[r.step] = {"n": r.n, "median": r.median, "p90": r.p90}
    return list(timings.values())


def _failed_sources(store: Store, settings: Settings, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Sources with failed runs in the period, and enabled sources that did not run at all."""
    summary = {r.source: r for r in store.run_summary(since, until)}
    out = [{"source": s, "runs": r.runs, "failed": r.failed,
            "error": plain(truncate(r.last_error or "", 200))}
           for s, r in summary.items() if r.failed]
    out += [{"source": name, "runs": 0, "failed": 0, "error": "no collector run in this period"}
            for name, source in sorted(settings.sources.items())
            if source.enabled and name not in summary]
    return out


def build_digest(store: Store, settings: Settings, *, period: timedelta = timedelta(hours=24),
                 now: datetime | None = None) -> Digest:
    """Everything the digest shows for the ``period`` before ``now``, compared with the one before."""
    until = now or utcnow()
    since, before = until - period, until - 2 * period
    tz = settings.tz
    digest = Digest(since=since, until=until, tz=tz, excellent=settings.digest.grade_excellent,
                    average=settings.digest.grade_average, backlog=settings.digest.unanswered_window)
    sections = _brand_sections(store, settings, since, until, before)
    competitors = {b.name for b in settings.brands if b.competitor}

    def ours(rows: list[ReportedMention]) -> list[ReportedMention]:
        return [r for r in rows if r.brand not in competitors]

    for r in ours(store.top_negatives(since, until, per_brand=TOP_NEGATIVES)):
        sections[r.brand or NO_BRAND].top.append(_item(r, tz))
    for r in ours(store.unanswered_negatives(until - timedelta(seconds=digest.backlog), per_brand=UNANSWERED_SHOWN)):
        section = sections.setdefault(r.brand or NO_BRAND, BrandSection(r.brand or NO_BRAND))
        section.unanswered.append(_item(r, tz))
        section.unanswered_total = r.total
    for r in ours(store.worth_a_look(since, until, per_brand=WORTH_A_LOOK_SHOWN)):
        section = sections.setdefault(r.brand or NO_BRAND, BrandSection(r.brand or NO_BRAND))
        section.worth_a_look.append(_item(r, tz))
        section.worth_a_look_total = r.total
    for r in ours(store.unscored_mentions(since, until, per_brand=UNSCORED_SHOWN)):
        section = sections.setdefault(r.brand or NO_BRAND, BrandSection(r.brand or NO_BRAND))
        section.unscored.append(_item(r, tz))
        section.unscored_total = r.total
    reasons = store.triage_counts(since, until)
    digest.spam, digest.off_topic = reasons.get(triage.SPAM, 0), reasons.get(triage.OFF_TOPIC, 0)
    digest.brands = list(sections.values())
    digest.unscored = sum(s.now[UNSCORED] for b in digest.brands for s in b.sources)
    digest.unclassified = sum(s.now["unclassified"] for b in digest.brands for s in b.sources)
    _charts(digest, store, before)
    if has_competitors(settings):
        digest.voice = share_of_voice(store, settings, since, until)
    rows, digest.praise_total = store.praise_to_thank(triage.PRAISE_REASONS, since=since, now=until,
                                                      limit=PRAISE_SHOWN)
    digest.praise = [_item(r, tz) for r in rows]
    digest.notices = [notice_as_shown(r, tz) for r in store.notices(since, until)]
    digest.timings = response_times(store, since, until)
    digest.failed_sources = _failed_sources(store, settings, since, until)
    ignore = [b.name for b in settings.brands] + [a for b in settings.brands for a in b.ignore_authors]
    ignore += [b.name for b in digest.brands]
    themes = find_themes(ours(store.negative_texts(since, until, limit=THEME_TEXTS)),
                         ours(store.negative_texts(before, since, limit=THEME_TEXTS)), ignore_words=ignore)
    digest.themes = [(t, [_item(r, tz) for r in t.examples]) for t in themes]
    return digest

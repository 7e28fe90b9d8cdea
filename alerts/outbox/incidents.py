"""Incidents: near-duplicate mentions share one alert thread; a surge of negatives raises one spike alert."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import lru_cache

from alerts.outbox.notices import queue_notice
from alerts.outbox.router import channels_for_brand
from monitor.core.config import Settings
from monitor.core.records import Mention, utcnow
from monitor.store import Store, ts

SIMILARITY = 0.6  # Jaccard overlap of word 3-grams: a repost with a few words changed still matches
SPIKE_MIN = 5  # negatives in the last hour below this are never a spike, whatever the baseline
SPIKE_SIGMAS = 3.0
BASELINE = timedelta(days=7)

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"(?<!\w)[@#]\w+")
_WORD = re.compile(r"\w+")


def shingles(text: str) -> frozenset[str]:
    """Word 3-grams of the text, ignoring links, @handles, case and punctuation.

    Only the start of a long text counts: reposts share their opening, and it keeps huge
    texts cheap to compare.
    """
    return _shingles(text[:2000])


@lru_cache(maxsize=8192)
def _shingles(opening: str) -> frozenset[str]:
    # Cached: every new negative is compared with up to 200 recent alerts of its brand.
    words = _WORD.findall(_HANDLE.sub(" ", _URL.sub(" ", opening.lower())))
    if len(words) < 3:
        return frozenset(words)
    return frozenset(" ".join(words[i:i + 3]) for i in range(len(words) - 2))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def group_key_for(store: Store, settings: Settings, mention: Mention, *, now: datetime | None = None) -> str:
    """The incident a mention belongs to: that of a near-duplicate alerted within alerts.group_window,
    or a new one named after this mention."""
    mine = shingles(mention.text)
    window = timedelta(seconds=settings.alerts.group_window)
    since = (now or utcnow()) - window
    if mine:
        for row in store.recent_incidents(mention.brand, since, limit=200):
            # Posted within the window of each other too: an import or backfill alerts posts of
            # several days at once, and the same complaint days apart is not one wave.
            if not _posted_near(mention.created_at, row.created_at, window):
                continue
            if similarity(mine, shingles(row.text or "")) >= SIMILARITY:
                return str(row.group_key)
    return f"{mention.source}:{mention.external_id}"


def _posted_near(posted: datetime | None, other: str | None, window: timedelta) -> bool:
    if posted is None or not other:
        return True
    try:
        theirs = datetime.fromisoformat(other)
    except ValueError:
        return True
    if (posted.tzinfo is None) != (theirs.tzinfo is None):
        return True
    return abs(posted - theirs) <= window


def spike_threshold(hourly: list[int]) -> tuple[float, float]:
    """(baseline mean per hour, the count that makes a spike): mean + 3 sd, at least SPIKE_MIN."""
    mean = sum(hourly) / len(hourly)
    sd = math.sqrt(sum((n - mean) ** 2 for n in hourly) / len(hourly))
    return mean, max(float(SPIKE_MIN), mean + SPIKE_SIGMAS * sd)


def raise_spikes(store: Store, settings: Settings, brands: Iterable[str], *, now: datetime | None = None) -> int:
    """One spike alert per brand whose negatives in the last hour stand out from its last 7 days;
    none again for that brand within alerts.group_window, and none before the brand has
    alerts.spike_min_history of collected history to compare with. Returns the alerts queued."""
    now = now or utcnow()
    queued = 0
    for brand in sorted(set(brands)):
        started = store.history_start(brand)
        if started is None or now - started < timedelta(seconds=settings.alerts.spike_min_history):
            continue
        last = store.last_alert_at(brand, "spike")
        if last and now - last < timedelta(seconds=settings.alerts.group_window):
            continue
        recent = sum(store.hourly_negatives(brand, now - timedelta(hours=1), now).values())
        if recent < SPIKE_MIN:
            continue
        start = now - timedelta(hours=1) - BASELINE
        counts = store.hourly_negatives(brand, start, now - timedelta(hours=1))
        hours = [ts(start + timedelta(hours=h))[:13] for h in range(int(BASELINE.total_seconds() // 3600))]
        mean, threshold = spike_threshold([counts.get(h, 0) for h in hours])
        if recent < threshold:
            continue
        text = (f"{recent} negative mentions of {brand} in the last hour; "
                f"the last 7 days averaged {mean:.1f} an hour.")
        key = f"spike:{brand}:{ts(now)[:13]}"
        channels = channels_for_brand(settings, brand)
        for channel in channels:
            if store.enqueue_alert(source="spike", external_id=f"{brand}:{ts(now)[:13]}", brand=brand,
                                   channel=channel, kind="spike", group_key=key,
                                   payload={"text": text, "count": recent, "baseline": round(mean, 2)}):
                queued += 1
        queued += queue_notice(store, brand=brand, group_key=key, channels=channels, spike=True,
                               evidence=store.negatives_evidence(brand, now - timedelta(hours=1), now))
    return queued

"""Share of voice: each brand's part of all mentions of the configured brands, ours and competitors',
and its negative share, per period, for the digest and `listenpost report`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.core.config import Settings
from monitor.store import Store


@dataclass(frozen=True)
class Voice:
    """One brand in one period."""

    brand: str
    competitor: bool
    mentions: int
    negatives: int
    share: float  # of all configured brands' mentions in the period; 0 when there were none
    previous: Voice | None = None

    @property
    def negative_share(self) -> float | None:
        return self.negatives / self.mentions if self.mentions else None


@dataclass(frozen=True)
class VoicePeriod:
    start: datetime
    end: datetime
    brands: list[Voice]


def has_competitors(settings: Settings) -> bool:
    return any(b.competitor for b in settings.brands)


def _counts(store: Store, since: datetime, until: datetime) -> dict[str, list[int]]:
    """brand -> [mentions, negatives] posted in [since, until)."""
    out: dict[str, list[int]] = {}
    for r in store.period_counts(since, until):
        counts = out.setdefault(r.brand or "", [0, 0])
        counts[0] += r.n
        counts[1] += r.n if r.label == "negative" else 0
    return out


def _voices(settings: Settings, counts: dict[str, list[int]], previous: list[Voice] | None = None) -> list[Voice]:
    total = sum(counts.get(b.name, [0, 0])[0] for b in settings.brands)
    before = {v.brand: v for v in previous or []}
    voices = []
    for b in settings.brands:
        mentions, negatives = counts.get(b.name, [0, 0])
        voices.append(Voice(b.name, b.competitor, mentions=mentions, negatives=negatives,
                            share=mentions / total if total else 0.0, previous=before.get(b.name)))
    return voices


def share_of_voice(store: Store, settings: Settings, since: datetime, until: datetime) -> list[Voice]:
    """Every configured brand in [since, until), each with the same-length period before it."""
    previous = _voices(settings, _counts(store, since - (until - since), since))
    # Nothing to compare with when no brand was mentioned before: no change is shown then.
    return _voices(settings, _counts(store, since, until), previous if any(v.mentions for v in previous) else None)


def voice_over_time(store: Store, settings: Settings, since: datetime, until: datetime,
                    step: timedelta) -> list[VoicePeriod]:
    """Share of voice per ``step`` (a day, a week) from ``since``, the newest period last."""
    starts = []
    cursor = since
    while cursor < until:
        starts.append(cursor)
        cursor += step
    ends = [*starts[1:], until]
    return [VoicePeriod(start, end, _voices(settings, _counts(store, start, end)))
            for start, end in zip(starts, ends, strict=True)]


def percent(share: float | None) -> str:
    return "–" if share is None else f"{round(100 * share)}%"


def points(now: float | None, before: float | None) -> str:
    """'+4 pts' between two shares; '' when either is unknown."""
    if now is None or before is None:
        return ""
    diff = round(100 * (now - before))
    return "±0 pts" if diff == 0 else f"{diff:+d} pts".replace("-", "−")

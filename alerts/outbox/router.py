"""Routing: which channels get an alert for a classified mention, by brand, source and severity."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.core.config import LABEL_ORDER, Route, Settings

# negative is the most severe; a route with min_severity "neutral" also takes negatives.
SEVERITY = {label: rank for rank, label in enumerate(LABEL_ORDER)}


def _matches(patterns: list[str], value: str) -> bool:
    return "*" in patterns or value in patterns


def _enabled_channels(settings: Settings, routes: Iterable[Route]) -> list[str]:
    """The enabled channels of these routes, each once, in settings order."""
    chosen: list[str] = []
    for route in routes:
        for name in route.channels:
            channel = settings.alerts.channels.get(name)
            if channel and channel.enabled and name not in chosen:
                chosen.append(name)
    return chosen


def channels_for(settings: Settings, *, brand: str, source: str, label: str) -> list[str]:
    """Enabled channels whose routes take this brand, source and label, in settings order."""
    if label not in SEVERITY:
        return []  # unscored mentions are counted, never alerted
    return _enabled_channels(settings, (
        route for route in settings.alerts.routes
        if _matches(route.brands, brand) and _matches(route.sources, source)
        and SEVERITY[label] >= SEVERITY[route.min_severity]
    ))


def reach_threshold(settings: Settings, *, brand: str, source: str, reach: int | None) -> int | None:
    """The lowest ``escalate_reach`` this negative's reach meets among routes taking it, or None.

    A mention whose source gave no reach is never escalated by reach: none is assumed.
    """
    if reach is None:
        return None
    met = [r.escalate_reach for r in settings.alerts.routes
           if r.escalate_reach is not None and reach >= r.escalate_reach
           and _matches(r.brands, brand) and _matches(r.sources, source)]
    return min(met) if met else None


def channels_for_brand(settings: Settings, brand: str) -> list[str]:
    """Enabled channels of every route that takes this brand, whatever its sources: for spikes."""
    return _enabled_channels(settings, (r for r in settings.alerts.routes if _matches(r.brands, brand)))

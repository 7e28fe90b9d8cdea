"""The digest's chart: mention volume (bars) and negative share (line) over time, as a PNG."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

CURRENT = "#2563eb"
PREVIOUS = "#cbd5e1"
PREVIOUS_NEGATIVE = "#fca5a5"
NEGATIVE = "#dc2626"
INK = "#475569"
MIN_FOR_SHARE = 3


@dataclass(frozen=True)
class Point:
    start: datetime  # local time
    mentions: int
    negatives: int


def volume_chart(points: Sequence[Point], *, split: datetime, step: timedelta,
                 end: datetime | None = None) -> bytes:
    """Bars of mentions per ``step`` (lighter before ``split``, the previous period), their
    negatives shaded red, and the negative share as a line on a 0-100 % axis. The time axis
    stops at ``end`` (now), so no tick names a day still to come.

    1200x340 px, shown at 600x170 in the email.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display; also keeps a GUI backend from loading in a server
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 1.7), dpi=200)
    ax = fig.add_axes((0.07, 0.17, 0.86, 0.76))
    share_ax = ax.twinx()
    xs = mdates.date2num([p.start for p in points])  # days as floats: matplotlib's time axis
    days = step.total_seconds() / 86400
    colours = [CURRENT if p.start >= split else PREVIOUS for p in points]
    ax.bar(xs, [p.mentions for p in points], width=days * 0.8, color=colours, align="edge", linewidth=0)
    ax.bar(xs, [p.negatives for p in points], width=days * 0.8, align="edge", linewidth=0,
           color=[NEGATIVE if p.start >= split else PREVIOUS_NEGATIVE for p in points])
    # a share of one or two mentions is 0 % or 100 % noise; the line skips such buckets
    shares = [100.0 * p.negatives / p.mentions if p.mentions >= MIN_FOR_SHARE else float("nan")
              for p in points]
    share_ax.plot(xs + days / 2, shares, color="#7f1d1d", linewidth=1.1, marker="o", markersize=1.8)
    share_ax.set_ylim(0, 100)
    share_ax.set_yticks([0, 50, 100], ["0%", "50%", "100%"])
    ax.set_ylim(0, max([p.mentions for p in points] + [1]) * 1.15)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3, integer=True))
    tz = points[0].start.tzinfo if points else None
    if step < timedelta(days=1):
        ax.xaxis.set_major_locator(mdates.HourLocator(byhour=[0, 6, 12, 18], tz=tz))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %H:%M", tz=tz))
    else:
        # Concise labels name the month or year where it changes: a long period no longer
        # shows "01 Jan" under every tick.
        locator = mdates.AutoDateLocator(minticks=3, maxticks=7, tz=tz)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
            locator, tz=tz, show_offset=False, formats=["%Y", "%b", "%d %b", "%H:%M", "%H:%M", "%S"],
            zero_formats=["", "%Y", "%b", "%d %b", "%H:%M", "%H:%M"]))
    if len(xs):
        last = mdates.date2num(end) if end is not None else xs[-1] + days
        ax.set_xlim(xs[0], max(last, xs[-1] + days * 0.8))
    for axis in (ax, share_ax):
        axis.tick_params(labelsize=6, colors=INK, length=2)
        for side in ("top", "left", "right"):
            axis.spines[side].set_visible(False)
        axis.spines["bottom"].set_color(PREVIOUS)
    ax.grid(axis="y", color="#eef2f7", linewidth=0.6)
    ax.set_axisbelow(True)
    share_ax.tick_params(axis="y", colors=NEGATIVE)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()

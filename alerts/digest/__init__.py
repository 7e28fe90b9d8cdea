"""The daily digest: `build_digest` reads the store, `render_digest` turns it into an email
(text, HTML and inline PNGs), `send_digest` does both and mails it to the recipients."""

from alerts.digest.build import build_digest, chart_points, from_first_data, grade, response_times
from alerts.digest.render import human_duration, render_digest, send_digest, span

__all__ = ["build_digest", "chart_points", "from_first_data", "grade", "human_duration", "render_digest",
           "response_times", "send_digest", "span"]

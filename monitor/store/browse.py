"""SQL behind `listenpost browse`: the canned queries Datasette offers over the
``labeled_mentions`` view (migration 0019). Read-only: nothing here writes."""

from __future__ import annotations

# A timestamp as the store writes it, for comparisons with stored ones.
_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
_WEEK_AGO = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')"

CANNED_QUERIES = {
    "open_negatives_by_age": (
        "Open negatives by age",
        "Alerted complaints nobody has claimed, answered or closed, oldest first.",
        "SELECT min(a.id) AS alert, a.brand, a.source, m.author, m.text, m.url AS post, m.created_at AS posted,"
        f" round((julianday({_NOW}) - julianday(m.created_at)) * 24, 1) AS hours_waiting,"
        " group_concat(DISTINCT a.channel) AS channels"
        " FROM alerts a JOIN mentions m ON m.source = a.source AND m.external_id = a.external_id"
        " WHERE a.kind = 'mention' AND a.status != 'failed' AND a.claimed_at IS NULL"
        " AND a.replied_at IS NULL AND a.closed_at IS NULL"
        " GROUP BY a.source, a.external_id ORDER BY m.created_at LIMIT 500",
    ),
    "praise_to_thank": (
        "Praise to thank",
        "Clearly positive mentions and 4-5 star reviews of our brands not thanked yet, widest reach and "
        "newest first.",
        "SELECT m.brand, m.source, m.author, m.text, m.url AS post, m.created_at AS posted, m.reach"
        " FROM mentions m JOIN latest_labels c ON c.source = m.source AND c.external_id = m.external_id"
        " LEFT JOIN thanks t ON t.source = m.source AND t.external_id = m.external_id"
        " WHERE c.reason IN ('praise', 'rated-positive') AND t.source IS NULL"
        # Not after now, as `mentions thanks` has it: a future date (a clock or an export gone wrong)
        # would divide the reach by a negative or near-zero age and rank it anywhere.
        f" AND m.created_at >= {_WEEK_AGO} AND m.created_at < {_NOW}"
        f" ORDER BY coalesce(m.reach, 0) / (1.0 + julianday({_NOW}) - julianday(m.created_at)) DESC,"
        " m.created_at DESC LIMIT 500",
    ),
    "incidents_this_week": (
        "Incidents this week",
        "Several people reporting the same problem in the last 7 days: near-duplicate complaints grouped "
        "into one incident, and spikes, with whether a status notice went out.",
        "SELECT a.group_key AS incident, a.brand,"
        " CASE WHEN a.group_key LIKE 'spike:%' THEN 'spike' ELSE 'near-duplicates' END AS kind,"
        " count(DISTINCT a.source || ':' || a.external_id) AS alerts, min(a.created_at) AS first_alert,"
        " max(a.created_at) AS latest_alert,"
        " (SELECT n.closed_by FROM alerts n WHERE n.group_key = a.group_key AND n.kind = 'notice'"
        "  AND n.resolution = 'notice_posted' LIMIT 1) AS notice_posted_by"
        " FROM alerts a WHERE a.kind IN ('mention', 'spike') AND a.group_key IS NOT NULL"
        f" AND a.created_at >= {_WEEK_AGO}"
        " GROUP BY a.group_key HAVING alerts >= 2 OR kind = 'spike' ORDER BY first_alert DESC",
    ),
}

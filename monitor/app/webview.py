"""`listenpost browse`: the database in Datasette, read-only, with readable descriptions, facets and
canned queries; this module builds the metadata and the command line that serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monitor.store.browse import CANNED_QUERIES

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

_TABLES: dict[str, dict[str, Any]] = {
    "labeled_mentions": {
        "description": "Every stored mention with its latest sentiment label and why it was or was not "
                       "alerted. Start here: facet by brand, source and label; each post links to the original.",
        "facets": ["brand", "source", "label", "reason"],
        "sort_desc": "posted",
        "columns": {
            "posted": "When the author posted it (UTC)",
            "post": "Link to the post or review where it was written",
            "reach": "The source's headline audience figure (followers, points, likes, helpful votes); "
                     "empty where the source gives none",
            "label": "Latest sentiment label: negative, neutral, positive, unscored (a language the model "
                     "does not read) or unclassified",
            "reason": "Why it was or was not alerted: confident, rating, low-confidence (worth a look), "
                      "spam, off-topic, competitor, praise, rated-positive",
            "negative": "The model's probability that it is negative",
            "positive": "The model's probability that it is positive",
        },
    },
    "mentions": {
        "description": "One row per post, comment or review about a brand, as collected; keyed by source and "
                       "the source's own id.",
        "facets": ["brand", "source", "kind"],
        "sort_desc": "created_at",
        "columns": {
            "url": "Link to the post or review", "created_at": "When the author posted it (UTC)",
            "collected_at": "When listenpost stored it", "raw": "The source's payload as received",
            "reach": "Headline audience figure the source gave; empty where none",
            "engagement": "Every audience figure the source gave, headline first",
            "vendor_sentiment": "A monitoring tool's own verdict, from an imported export",
        },
    },
    "classifications": {
        "description": "Every sentiment verdict, one per model run on a mention; the newest counts.",
        "facets": ["label", "reason", "model"],
        "columns": {"alert": "1 when the verdict interrupts someone (an alert), 0 when it does not",
                    "reason": "Why it was or was not alerted"},
    },
    "alerts": {
        "description": "The alerts outbox: one row per mention and channel, with who claimed, replied to or "
                       "closed it. Kinds: mention, escalation, spike, notice (a suggested status message), "
                       "praise.",
        "facets": ["brand", "kind", "status", "channel", "resolution"],
        "sort_desc": "created_at",
        "columns": {"group_key": "The incident it belongs to: near-duplicates share one",
                    "payload": "What the alert carried besides the mention (counts, evidence, reasons)"},
    },
    "thanks": {"description": "Praise that was thanked: by whom and when."},
    "runs": {"description": "Collection runs per source, with what they fetched and any error.",
             "facets": ["source", "kind"], "sort_desc": "started_at"},
    "latest_labels": {"description": "The newest verdict per mention (used by labeled_mentions)."},
    "labeled_examples": {"description": "Hand labels kept for training, such as alerts marked false positive.",
                         "facets": ["label", "origin"]},
    "cursors": {"description": "Where each source's next collection starts."},
    "jobs": {"description": "The daemon's scheduled jobs and their last runs."},
}
_HIDDEN = ("mentions_fts", "mentions_fts_data", "mentions_fts_idx", "mentions_fts_docsize", "mentions_fts_config",
           "migrations", "slack_requests")


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for a listenpost database named ``database`` (its file's stem)."""
    tables = {name: dict(spec) for name, spec in _TABLES.items()}
    tables.update({name: {"hidden": True} for name in _HIDDEN})
    return {
        "title": "listenpost",
        "description": "Brand mentions, their sentiment, alerts and how the team answered. Read-only.",
        "databases": {database: {
            "description": "Start with labeled_mentions (every mention with its label) or one of the "
                           "queries below. Nothing here can be changed from the browser.",
            "tables": tables,
            "queries": {name: {"title": title, "description": about, "sql": sql}
                        for name, (title, about, sql) in CANNED_QUERIES.items()},
        }},
    }


def serve_arguments(db_path: Path, metadata_path: Path, *, host: str, port: int) -> list[str]:
    """`datasette serve` arguments for the database, read-only: Datasette opens a database file in
    SQLite's read-only mode, and no writable queries are defined."""
    return ["serve", str(db_path), "--metadata", str(metadata_path), "--host", host, "--port", str(port),
            "--setting", "default_page_size", "50", "--setting", "truncate_cells_html", "300"]

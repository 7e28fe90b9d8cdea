"""Registries of names that settings refer to: sources, channel types, reply-draft placeholders.

They live in the ground so that settings validation, the collectors, the channels and the CLI
read one list; each entry names its implementation as "module:Class", imported only when used.
"""

from __future__ import annotations

import re
import string

from monitor.core.errors import ConfigError

# Every environment variable listenpost reads starts with this.
ENV_PREFIX = "LISTENPOST_"

# source name -> "module:Class"; a new source is one module in collectors/ plus one line here.
SOURCES: dict[str, str] = {
    "file": "collectors.file:FileCollector",
    "reddit": "collectors.reddit:RedditCollector",
    "x": "collectors.x:XCollector",
    "bluesky": "collectors.bluesky:BlueskyCollector",
    "hackernews": "collectors.hackernews:HackerNewsCollector",
    "appstore": "collectors.appstore:AppStoreCollector",
    "googleplay": "collectors.googleplay:GooglePlayCollector",
    "rss": "collectors.rss:RssCollector",
    "youtube": "collectors.youtube:YouTubeCollector",
    "mastodon": "collectors.mastodon:MastodonCollector",
    "trustpilot": "collectors.trustpilot:TrustpilotCollector",
    "facebook": "collectors.facebook:FacebookCollector",
    "instagram": "collectors.instagram:InstagramCollector",
}

# source name -> environment variables (without the LISTENPOST_ prefix) it needs; absent: none.
SOURCE_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "reddit": ("REDDIT_CLIENT_ID", "REDDIT_CLIENT_SECRET", "REDDIT_USER_AGENT"),
    "x": ("X_BEARER_TOKEN",),
    "bluesky": ("BLUESKY_HANDLE", "BLUESKY_APP_PASSWORD"),
    "youtube": ("YOUTUBE_API_KEY",),
    "mastodon": ("MASTODON_ACCESS_TOKEN",),
    "trustpilot": ("TRUSTPILOT_API_KEY",),
    "facebook": ("FACEBOOK_PAGE_TOKEN",),
    "instagram": ("INSTAGRAM_ACCESS_TOKEN",),
}

# channel type -> "module:Class"; a new channel is one module in alerts/channels/ plus one line here.
CHANNEL_TYPES: dict[str, str] = {
    "console": "alerts.channels.console:ConsoleChannel",
    "jsonl": "alerts.channels.jsonl:JsonlChannel",
    "slack": "alerts.channels.slack.api:SlackChannel",
    "slack_webhook": "alerts.channels.slack.webhook:WebhookChannel",
    "email": "alerts.channels.email:EmailChannel",
}

# channel type -> prefix of the environment variables that hold its secrets.
CHANNEL_SECRET_PREFIX: dict[str, str] = {"slack": "SLACK_", "slack_webhook": "SLACK_WEBHOOK_", "email": "SMTP_"}

# Every secret listenpost reads, without the LISTENPOST_ prefix: `config show` lists them masked.
SECRET_VARIABLES: tuple[str, ...] = (
    *(name for names in SOURCE_CREDENTIALS.values() for name in names),
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_WEBHOOK_URL", "SMTP_USER", "SMTP_PASSWORD",
)

# The {placeholders} a brand's reply_template may use.
PLACEHOLDERS = ("greeting", "name", "problem", "fix", "details", "contact", "signature", "brand")


def check_template(template: str, where: str) -> None:
    """ConfigError naming ``where`` when the template uses an unknown {placeholder} or bad braces."""
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc} (write a literal brace as {{{{ or }}}})") from None
    for name in names:
        if name not in PLACEHOLDERS:
            raise ConfigError(f"{where}: unknown placeholder {{{name}}} "
                              f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})")


_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_quiet_hours(spec: str, where: str) -> tuple[int, int]:
    """'22:00-07:00' as minutes after local midnight (start, end); the span may wrap midnight."""
    match = _QUIET.match(spec)
    if not match:
        raise ConfigError(f"{where}: expected local times such as \"22:00-07:00\", not {spec!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ConfigError(f"{where}: {spec!r} is not a time of day")
    return h1 * 60 + m1, h2 * 60 + m2

"""Triage: which classified mentions are worth interrupting a person, and why the others are not.

Labeling a mention negative (stats, digest) and alerting on it (Slack, email, escalation) are
separate decisions. An alert needs a confident negative, or a 1-2 star rating, about one of our
brands, and no sign of spam; every other negative stays visible as "worth a look".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alerts.message import SAFETY_TEXT
from alerts.outbox.drafts import intent_of
from alerts.outbox.safety import safety_report
from classifiers.spam import spam_kind
from monitor.core.brands import about_brand, is_competitor
from monitor.core.config import Settings
from monitor.core.records import UNSCORED, Mention

if TYPE_CHECKING:
    from classifiers.base import Scores

# Why a mention was or was not alerted; stored with its classification.
CONFIDENT = "confident"  # negative at or above the alert threshold
RATING_LOW = "rating"  # 1-2 stars: the customer's own verdict
LOW_CONFIDENCE = "low-confidence"  # labeled negative below the alert threshold: worth a look
RATING_HIGH = "rated-positive"  # 4-5 stars: never alerted as a complaint
SPAM = "spam"  # recruiting, affiliate, giveaway
OFF_TOPIC = "off-topic"  # matches none of the brand's queries or handles
COMPETITOR = "competitor"  # about a brand marked competitor: counted, never alerted
PRAISE = "praise"  # clearly positive and about the brand: worth a thank-you
SAFETY = "safety"  # harm, a recall, a legal threat or a breach: a person answers, whatever the tone
REASONS = (CONFIDENT, RATING_LOW, LOW_CONFIDENCE, RATING_HIGH, SPAM, OFF_TOPIC, COMPETITOR, PRAISE, SAFETY)
# What the praise queue takes: clearly positive posts and 4-5 star reviews, once spam, off-topic
# and competitors' mentions have been told apart (their reasons replace these).
PRAISE_REASONS = (PRAISE, RATING_HIGH)
# A positive probability this high is praise rather than a mild "thanks, that worked".
PRAISE_MIN = 0.7
# Cues that praise-shaped words are meant the other way ("Oh great, forgot the protein again",
# "Love that for me 🙃"). They keep a post out of the thanks queue, where a cheerful thank-you to an
# annoyed customer would do harm; they do not make it an alert, since the same words are also sincere.
IRONY = re.compile(
    "|".join([
        "[\U0001F643\U0001F612\U0001F644\U0001F611\U0001F926]",  # upside-down, unamused, eye-roll, blank, facepalm
        r"(?<![\w/])/s(?![\w-])", r"\byeah,? right\b", r"\boh,? (?:great|good|joy|wonderful|perfect|fantastic)\b",
        r"\bjust (?:great|perfect|wonderful|what i needed)\b", r"\blove that for me\b",
        r"\bthanks? for nothing\b", r"(?:^|[.!?,]\s*)so much for\b", r"\b(?:what a|big) surprise\b", r"\bshocker\b",
        r"\bcool,? cool\b", r"\bgreat,? another\b", r"\bwow\W+so\b", r"\bagain\b.{0,80}\bthanks so much\b",
        r"\bi guess\b.{0,40}\bthanks\b",
    ]),
    re.IGNORECASE | re.DOTALL,
)
# Shown to people (digest, `mentions list`).
REASON_TEXT = {
    CONFIDENT: "clearly negative",
    RATING_LOW: "rated 1-2 stars",
    LOW_CONFIDENCE: "possibly negative",
    RATING_HIGH: "rated 4-5 stars",
    SPAM: "spam",
    OFF_TOPIC: "not about the brand",
    COMPETITOR: "about a competitor",
    PRAISE: "praise",
    SAFETY: SAFETY_TEXT,
}


@dataclass(frozen=True)
class Decision:
    label: str
    alert: bool
    reason: str = ""


def by_rating(text: str, rating: int | None) -> Decision | None:
    """The decision a star rating makes on its own: 1-2 stars alert, 4-5 never; None for 3 or none."""
    if rating is not None and 1 <= rating <= 2:
        spam = spam_kind(text) is not None
        return Decision("negative", alert=not spam, reason=SPAM if spam else RATING_LOW)
    if rating is not None and 4 <= rating <= 5:
        # Counted as spam when it is (a 5-star "use my code" review), like any other spam.
        return Decision("positive", alert=False, reason=SPAM if spam_kind(text) else RATING_HIGH)
    return None


def decide(scores: Scores, *, text: str, rating: int | None, negative_threshold: float,
           alert_threshold: float) -> Decision:
    """The label for stats and whether the mention needs a person, before relevance is known."""
    label = scores.label(negative_threshold)
    rated = by_rating(text, rating)
    if safety_report(text):  # before the spam rules: "I work from home and the charger caught fire"
        # Whatever the tone or the stars: "Love it! Though the charger overheated and burned my
        # hand" at 5 stars needs a person. The label stays the stars' or the words'.
        return Decision(rated.label if rated else label, alert=True, reason=SAFETY)
    if rated is not None:
        if rated.reason == RATING_HIGH and scores.negative >= alert_threshold:
            # The stars say happy, the words clearly do not ("Terrible. Box never came."): a slip of
            # the finger or a grudging 4 stars. Counted as the stars say and never alerted, as the
            # rating rule says, but never thanked either: listed as worth a look.
            return Decision(rated.label, alert=False, reason=LOW_CONFIDENCE)
        if rated.reason == RATING_HIGH and IRONY.search(text):
            return Decision(rated.label, alert=False)  # "oh great, broke after a day. love that for me"
        return rated
    spam = spam_kind(text)
    if spam:
        return Decision(label, alert=False, reason=SPAM)
    if (label == "positive" and scores.positive >= PRAISE_MIN and intent_of(text, label) == "praise"
            and not IRONY.search(text)):
        return Decision(label, alert=False, reason=PRAISE)
    if label != "negative":
        return Decision(label, alert=False)
    if scores.negative >= alert_threshold:
        return Decision(label, alert=True, reason=CONFIDENT)
    return Decision(label, alert=False, reason=LOW_CONFIDENCE)


def decide_all(scores: Sequence[Scores], texts: Sequence[str], ratings: Sequence[int | None], *,
               negative_threshold: float, alert_threshold: float) -> list[Decision]:
    """Every text's decision as the pipeline takes it; an alert threshold below the negative
    threshold lowers that too (every negative from there is alerted), as when comparing thresholds."""
    labeled = min(negative_threshold, alert_threshold)
    return [decide(s, text=t, rating=r, negative_threshold=labeled, alert_threshold=alert_threshold)
            for s, t, r in zip(scores, texts, ratings, strict=True)]


def unscored() -> Decision:
    return Decision(UNSCORED, alert=False)


def with_relevance(decision: Decision, settings: Settings, mention: Mention) -> Decision:
    """Only a mention about one of our brands is routed; off-topic ones are stored and counted."""
    if decision.label == UNSCORED or decision.reason == SPAM:
        return decision
    if is_competitor(settings, mention.brand):
        return Decision(decision.label, alert=False, reason=COMPETITOR)
    if about_brand(settings, mention):
        return decision
    return Decision(decision.label, alert=False, reason=OFF_TOPIC)


def routing_severity(decision: Decision) -> str | None:
    """The severity routes see: only an alert is negative; spam and off-topic mentions are never routed."""
    if decision.reason in (SPAM, OFF_TOPIC, COMPETITOR) or decision.label == UNSCORED:
        return None
    if decision.alert:
        return "negative"
    # A negative below the alert threshold is at most neutral to routes that also take neutral posts.
    return "neutral" if decision.label == "negative" else decision.label

"""Reply drafts: acknowledge, apologise, offer a next step, move to a private channel, sign."""

from __future__ import annotations

import re

from monitor.config import Settings

_TOPICS = [
    (r"\b(refund|charged|charge|billing|invoice|price|subscription)\b", "the charge on your account"),
    (r"\b(crash|crashes|crashing|bug|freez|won'?t (load|open)|error|down)\b", "the app not working for you"),
    (r"\b(late|delay|delayed|lost|missing|never arrived|where is)\b", "your order not arriving when it should"),
    (r"\b(rude|ignored|no answer|no reply|support)\b", "how you were treated by our team"),
    (r"\b(leak|broken|broke|faulty|defect)\b", "the fault with your product"),
]


def topic_of(text: str) -> str:
    lowered = text.lower()
    for pattern, topic in _TOPICS:
        if re.search(pattern, lowered):
            return topic
    return "your experience"


def reply_draft(settings: Settings, *, brand: str, author: str, text: str) -> str:
    """A draft for a person to edit and send; listenpost never posts it."""
    config = settings.brand(brand)
    contact = (config.support_contact if config else "") or "a direct message"
    signature = (config.reply_signature if config else "") or f"The {brand or 'support'} team"
    greeting = f"Hi {author.lstrip('@')}, " if author else "Hi, "
    return (
        f"{greeting}thank you for telling us about {topic_of(text)}, and I'm sorry it has "
        f"caused you trouble. We want to put this right: could you send us the details "
        f"(order or account number) via {contact} so we can look into it straight away? "
        f"– {signature}"
    )

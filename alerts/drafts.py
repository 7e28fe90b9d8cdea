"""Reply drafts: acknowledge the problem, apologise, offer a next step, move to a private channel, sign.

Each brand can set its own ``reply_template``; listenpost only shows drafts, never posts them.
"""

from __future__ import annotations

import re
import string

from monitor.config import Brand, Settings
from monitor.errors import ConfigError

DEFAULT_TEMPLATE = (
    "{greeting} thank you for telling us about {problem}, and I'm sorry it has caused you "
    "trouble. We want to put this right: could you send us the details (order or account "
    "number) via {contact} so we can look into it straight away? – {signature}"
)
PLACEHOLDERS = ("greeting", "name", "problem", "contact", "signature", "brand")

_TOPICS = [
    (r"\b(refunds?|charged|charges?|billing|invoice|overcharged|price|subscription|cancel)",
     "the charge on your account"),
    (r"\b(crash|crashes|crashing|crashed|bug|freez|won'?t (load|open)|error|down|outage|login|log in)",
     "the app not working for you"),
    (r"\b(late|delay|delayed|lost|missing|never arrived|where is|not delivered|tracking)",
     "your order not arriving when it should"),
    (r"\b(rude|ignored|no answer|no reply|no response|support|on hold|customer service)",
     "how you were treated by our team"),
    (r"\b(leak|broken|broke|faulty|defect|damaged|cracked)", "the fault with your product"),
    (r"\b(cold|stale|wrong order|wrong item|missing item)", "getting the wrong or a poor order"),
]


def topic_of(text: str) -> str:
    """The specific problem a complaint is about, in words fit for a reply."""
    lowered = text.lower()
    for pattern, topic in _TOPICS:
        if re.search(pattern, lowered):
            return topic
    return "your experience"


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


def reply_draft(settings: Settings, *, brand: str, author: str, text: str) -> str:
    """A draft for a person to edit and send; listenpost never posts it."""
    config = settings.brand(brand) or Brand(name=brand)
    name = author.lstrip("@").strip()
    values = {
        "greeting": f"Hi {name}," if name else "Hi,",
        "name": name,
        "problem": topic_of(text),
        "contact": config.support_contact or "a direct message",
        "signature": config.reply_signature or f"The {brand or 'support'} team",
        "brand": brand,
    }
    template = config.reply_template or DEFAULT_TEMPLATE
    # format_map over a fixed dict: the template comes from settings, the values are plain text,
    # so nothing in a mention can reach attribute or index lookups.
    return template.format_map(values)

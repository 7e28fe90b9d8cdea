"""Reply drafts that follow what the post is: a complaint, a question, praise, or none of these.

A complaint gets an acknowledgement, an apology, the fix on offer and a private channel; a
question gets the answer's whereabouts; praise gets a thank-you; anything else (a community
member helping someone, a former employee, news) gets no draft. Each brand can set its own
``reply_template`` for complaints; listenpost only shows drafts, never posts them.
"""

from __future__ import annotations

import re

from alerts.message import plain
from alerts.outbox.safety import safety_kind
from monitor.core.config import Brand, Settings

DEFAULT_TEMPLATE = (
    "{greeting} thank you for telling us about {problem}, and I'm sorry it has caused you "
    "trouble. {fix} Could you send us {details} via {contact} so we can look into it straight "
    "away? – {signature}"
)
QUESTION_TEMPLATE = (
    "{greeting} thanks for asking. {answer} If that doesn't cover it, send us a message via "
    "{contact} and we'll help. – {signature}"
)
PRAISE_TEMPLATE = "{greeting} thank you for the kind words, it means a lot to the team. – {signature}"
# A report of harm or danger (alerts.outbox.safety): safety first, then the details; never a
# brand's everyday complaint template.
SAFETY_TEMPLATE = (
    "{greeting} thank you for letting us know, and I'm sorry this happened. For your safety, please "
    "stop using it for now. Could you send us {details} via {contact}? We'll look into it as a "
    "priority. – {signature}"
)
# A recall question: whether theirs is affected, not an apology for harm nobody reported.
RECALL_TEMPLATE = (
    "{greeting} thanks for checking. Please stop using it until we've confirmed whether yours is "
    "affected: send us the model and batch or serial number via {contact} and we'll tell you what "
    "to do next. – {signature}"
)
# A breach: secure the account first.
BREACH_TEMPLATE = (
    "{greeting} I'm sorry, that's worrying. Please change your password now and check your recent "
    "orders and payment methods, then send us the details via {contact} so we can secure your "
    "account and look into it as a priority. – {signature}"
)
# Legal threats get no draft: what is said to them is for a person to write.
_SAFETY_TEMPLATES = {"harm": SAFETY_TEMPLATE, "recall": RECALL_TEMPLATE, "breach": BREACH_TEMPLATE}
NOTICE_TEMPLATE = ("We know some of you are having trouble with {subject} and we're working on it. "
                   "We'll post updates here. Sorry for the disruption.")
# Once the brand posted a status notice for the incident, replies point to it.
NOTICE_FIX = "We've posted an update about this on our account and will keep it current there."
# The problem of a complaint topic (see _TOPICS) as a public status message names it.
_PUBLIC_SUBJECT = {
    "the charge on your account": "charges and refunds",
    "the app not working for you": "the app and website",
    "your order not arriving when it should": "deliveries",
    "how you were treated by our team": "reaching our support team",
    "the fault with your product": "a product fault",
    "getting the wrong or a poor order": "orders",
}
INTENTS = ("complaint", "question", "praise", "other")

_APP_PROBLEM = "the app not working for you"
# (pattern, the problem in a reply's words, the fix on offer); every pattern ends on a word boundary.
_TOPICS = [
    # "charge" as money, not as a battery: "won't charge", "fully charged" are a fault, not a bill.
    (r"\b(refunds?|refunded|charged (me|us|twice|again|my|for)|(double|over)[- ]?charged|"
     r"(a|the|this|that|extra|hidden|monthly|annual|late|unauthori[sz]ed) charges?(?! (level|port|cable|time|rate|"
     r"indicator|cycles?|speed))|charges? (on|to|for) my|"
     r"billing|billed|invoices?|prices?|pricing|price (rise|hike)|subscriptions?|cancel(led|ed)?)\b",
     "the charge on your account", "We'll check the charge and refund anything taken in error."),
    (r"\b(crash(es|ing|ed)?|bugs?|buggy|freez(e|es|ing)|frozen|won'?t (load|open)|errors?|down|outage|"
     r"log(ging)? (me )?out|login|log in|502|spinning)\b",
     _APP_PROBLEM, "Our team will help you get it working again."),
    (r"\b(late|delay(s|ed)?|lost|missing|never arrived|where is|not delivered|tracking|"
     r"marked (as )?delivered|parcel|package)\b",
     "your order not arriving when it should", "We'll trace it and arrange a redelivery or a refund."),
    (r"\b(rude|ignored|no answer|no reply|no response|nobody answers|support|on hold|customer service|"
     r"no human)\b",
     "how you were treated by our team", "We'll make sure someone picks this up personally."),
    (r"\b(leak(s|ing|ed)?|broken|broke|faulty|defects?|defective|damaged|cracked|puddle|soaked)\b",
     "the fault with your product", "We'll arrange a repair or a replacement."),
    (r"\b(cold|stale|wrong order|wrong item|missing item)\b",
     "getting the wrong or a poor order", "We'll put the order right."),
]
# Posts that talk about the brand without being a customer speaking for themselves.
_OTHER = re.compile(
    r"\b(i used to work|when i worked (at|for)|i worked (at|for)|former (employee|staff)|ex-?employee|"
    r"(have|has) anyone tried|have you tried|you (can|could|should|need to) (just )?(try|reset|hold|use|go)|"
    r"try (holding|resetting|turning|descaling)|fixed (it|mine) by|what worked for me|worked for me|"
    r"(that|this) (resets|fixes|fixed|solves|solved|clears|cleared)|but it works)\b"
    # advice that opens with an instruction: "Hold Steam + Brew for 10s ..."
    r"|^\s*(hold|press|unplug|reset|turn (it )?off|go to|tap|long-press)\b"
)
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|my|me|mine|we|our|us)\b")
_QUESTION_START = re.compile(r"^\s*(how|what|when|where|why|which|who|can|could|does|do|is|are|will|"
                             r"should|any(one)?)\b")
_PRAISE = re.compile(r"\b(love|loving|great|brilliant|amazing|awesome|excellent|fantastic|best|thanks|"
                     r"thank you|legend|perfect|superb)\b")
# An order, parcel or ticket reference as people write it: "order #TW-48812", "parcel PX-88213-GB".
_REFERENCE = re.compile(
    r"\b(order|parcel|package|tracking|ticket|case|ref(?:erence)?)\s*(?:no\.?|number|id)?\s*[#:]?\s*"
    r"([A-Z0-9][A-Z0-9-]{3,}[A-Z0-9])", re.IGNORECASE,
)
# Prefixes and suffixes platforms put on names, which nobody writes in a greeting.
_NAME_PREFIX = re.compile(r"^(@|/?u/|/?r/)")
_NAME_SUFFIX = re.compile(r"\.bsky\.social$")
# A name that could do something in public once pasted into a reply: mention someone else
# (@), carry markup or a link, or leak an email address. Such a name gets a plain "Hi,".
_NAME_UNSAFE = re.compile(r"[@<>*`~|\[\]\\#]|https?:|www\.|://")
_NAME_LIMIT = 40
# Posts about harm to a person or legal action: a canned reply would be wrong; a person writes it.
_SENSITIVE = re.compile(
    r"\b(suicid\w*|kill(ing)? (my|him|her|them)sel(f|ves)|self[- ]harm|end (my|it all)|"
    r"(killed|died|dead|injured|hurt|burn(ed|t)|hospitali[sz]ed|poisoned)\b.{0,40}\b(people|person|child|"
    r"children|kids?|son|daughter|baby|wife|husband|mum|mom|dad)|"
    r"(people|person|child|children|kids?|son|daughter|baby|wife|husband|mum|mom|dad) "
    r"(was |were |got |has been |have been )?(killed|died|injured|hurt|burn(ed|t)|hospitali[sz]ed|poisoned)|"
    r"lawyers?|lawsuit|solicitors?|legal action)\b"
)


# A crash or error is the app's only where the post speaks of an app or a site: "E17 error, machine
# refuses to brew" is about the machine, and a reply about "the app" would tell the customer we
# did not read it.
_APP_WORDS = re.compile(r"\b(apps?|website|site|web ?page|checkout|log(ging)? (me )?out|log ?in|login|"
                        r"account|update|updated|iphone|android|ios)\b")


def _topic(lowered: str) -> tuple[str, str] | None:
    for pattern, problem, fix in _TOPICS:
        found = re.search(pattern, lowered)
        if found:
            if problem == _APP_PROBLEM and not _APP_WORDS.search(lowered):
                if found.group(0).startswith("bug"):
                    continue  # "a bug in my salad", "a stomach bug": no software in sight
                problem = "it not working as it should"
            return problem, fix
    return None


def topic_of(text: str) -> str:
    """The specific problem a complaint is about, in words fit for a reply."""
    found = _topic(text.lower())
    return found[0] if found else "your experience"


def intent_of(text: str, label: str | None) -> str:
    """complaint, question, praise or other, from the post's words and its sentiment label."""
    lowered = text.lower()
    if _OTHER.search(lowered) or _SENSITIVE.search(lowered):
        return "other"
    asks = "?" in text or bool(_QUESTION_START.match(lowered))
    if label == "negative":
        if _topic(lowered) or _FIRST_PERSON.search(lowered) or not asks:
            return "complaint"
        return "question"
    if asks:
        return "question"
    if label == "positive" or (label is None and _PRAISE.search(lowered)):
        return "praise"
    return "other"


def order_reference(text: str) -> str | None:
    """The order, parcel or ticket a post already names ('order TW-48812'), if its number has a digit."""
    for match in _REFERENCE.finditer(text):
        if any(ch.isdigit() for ch in match.group(2)) and not _card_number(match.group(2)):
            return f"{match.group(1).lower()} {match.group(2)}"
    return None


def _card_number(reference: str) -> bool:
    """True for a payment card number (13-19 digits passing the Luhn check), never repeated in public."""
    if not re.fullmatch(r"[0-9-]+", reference):
        return False
    digits = [int(ch) for ch in reference if ch.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
    return total % 10 == 0


_QUOTED_LINE = re.compile(r"^\s*(>|&gt;).*$", re.MULTILINE)
_RETWEET = re.compile(r"^\s*RT @\w+:", re.IGNORECASE)


def own_words(text: str) -> str:
    """The post without what it quotes: "> " lines (a Reddit or forum quote) and a retweet's
    body, whose order numbers belong to someone else."""
    if _RETWEET.match(text):
        return ""
    return _QUOTED_LINE.sub("", text)


def greeting_name(author: str) -> str:
    """An author name as a person would write it in a greeting: no @, u/ or .bsky.social.

    "" (a plain "Hi,") for a name that is long, spans lines, or could mention someone, carry
    markup or a link, or leak an email address once the reply is posted.
    """
    name = " ".join(plain(author).split())
    name = _NAME_SUFFIX.sub("", _NAME_PREFIX.sub("", name)).strip()
    if len(name) > _NAME_LIMIT or _NAME_UNSAFE.search(name):
        return ""
    return name


def status_notice(text: str) -> str:
    """A public status message for the brand's own account about what several people report."""
    found = _topic(text.lower())
    subject = _PUBLIC_SUBJECT.get(found[0], "an issue") if found else "an issue several of you reported"
    return NOTICE_TEMPLATE.format(subject=subject)


def thank_you_draft(settings: Settings, *, brand: str, author: str) -> str:
    """A short thank-you for praise: no apology, no request for details."""
    config = settings.brand(brand) or Brand(name=brand)
    name = greeting_name(author)
    return PRAISE_TEMPLATE.format_map({"greeting": f"Hi {name}," if name else "Hi,",
                                       "signature": config.reply_signature or f"The {brand or 'support'} team"})


def reply_draft(settings: Settings, *, brand: str, author: str, text: str, label: str | None = "negative",
                title: str = "", rating: int | None = None, notice_posted: bool = False) -> str:
    """A draft for a person to edit and send, fitting the post's intent; "" where none fits.

    A 1-2 star review is a complaint whatever its words' label: it is never thanked for kind words.
    ``notice_posted``: the brand has posted a status notice about this incident; say so.
    """
    post = f"{title}\n{text}" if title else text
    if rating is not None and 1 <= rating <= 2:
        label = "negative"
    intent = intent_of(post, label)
    # A report of danger gets a draft of its kind, however calm; a legal threat, or harm naming a
    # hurt or dead person (_SENSITIVE), gets none: those are for a person to write.
    kind = safety_kind(post) if intent != "praise" else None
    if kind == "legal" or (kind and _SENSITIVE.search(post.lower())):
        return ""
    if intent == "other" and not kind:
        return ""
    config = settings.brand(brand) or Brand(name=brand)
    name = greeting_name(author)
    contact = config.support_contact or "a direct message"
    reference = order_reference(own_words(post))
    found = _topic(post.lower())
    values = {
        "greeting": f"Hi {name}," if name else "Hi,",
        "name": name or "there",  # a brand template's "Hello {name}!" never reads "Hello !"
        "problem": found[0] if found else "your experience",
        "fix": NOTICE_FIX if notice_posted else found[1] if found else "We want to put this right.",
        "details": (f"a message about {reference}" if reference
                    else "the details (order or account number)"),
        "contact": contact,
        "signature": config.reply_signature or f"The {brand or 'support'} team",
        "brand": brand,
        "answer": "You'll find the steps in our help pages, or we can walk you through it.",
    }
    if kind:
        return _SAFETY_TEMPLATES[kind].format_map(values)
    if intent == "question":
        return QUESTION_TEMPLATE.format_map(values)
    if intent == "praise":
        return PRAISE_TEMPLATE.format_map(values)
    template = config.reply_template or DEFAULT_TEMPLATE
    # format_map over a fixed dict: the template comes from settings, the values are plain text,
    # so nothing in a mention can reach attribute or index lookups.
    return template.format_map(values)

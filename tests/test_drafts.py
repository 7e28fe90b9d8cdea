"""Reply drafts follow what a post is: complaint, question, praise, or nothing to answer."""

from __future__ import annotations

import pytest

from alerts.outbox.drafts import greeting_name, intent_of, order_reference, reply_draft, topic_of

BRANDS = """
[[brands]]
name = "Acme"
support_contact = "a DM to @AcmeHelp"

[[brands]]
name = "Parcelly"
"""


@pytest.fixture
def settings(make_settings):
    return make_settings(BRANDS)


CASES = [
    ("My order #TW-48812 never arrived and support ignores me", "negative", "complaint"),
    ("You charged me twice!", "negative", "complaint"),
    ("How do I pair the Nest with a new phone?", "neutral", "question"),
    ("Does the Mini work with 110 V?", "positive", "question"),
    ("Love it! Schedules, recipes, everything works great.", "positive", "praise"),
    ("Have you tried holding the reset button for ten seconds? That fixed mine.", "neutral", "other"),
    ("I used to work at Parcelly: the Leeds depot is badly understaffed.", "negative", "other"),
    ("Parcelly publishes its quarterly results on Friday.", "neutral", "other"),
    ("Hold Steam + Brew for 10s after the descale, that resets the counter. Dumb but it works.", "negative",
     "other"),
]


@pytest.mark.parametrize(("text", "label", "intent"), CASES)
def test_intent_of_posts(text, label, intent) -> None:
    assert intent_of(text, label) == intent


def test_complaints_apologise_offer_the_fix_and_move_to_a_private_channel(settings) -> None:
    draft = reply_draft(settings, brand="Acme", author="u/leakylid", label="negative",
                        text="The lid leaks all over my desk. Broken after a week.")
    assert draft.startswith("Hi leakylid,") and "u/" not in draft
    assert "sorry" in draft and "replacement" in draft and "a DM to @AcmeHelp" in draft


def test_questions_and_praise_get_no_apology_and_other_posts_no_draft(settings) -> None:
    question = reply_draft(settings, brand="Acme", author="@ann", label="neutral",
                           text="How do I export my order history?")
    praise = reply_draft(settings, brand="Acme", author="ann.bsky.social", label="positive",
                         text="The new tracking map is brilliant")
    helper = reply_draft(settings, brand="Acme", author="bob", label="neutral",
                         text="Have you tried holding the reset button? That's what worked for me.")
    assert question.startswith("Hi ann,") and "sorry" not in question.lower() and "thanks for asking" in question
    assert praise.startswith("Hi ann,") and "sorry" not in praise.lower() and "thank you" in praise
    assert helper == ""


def test_a_draft_does_not_ask_for_an_order_number_the_post_gives(settings) -> None:
    given = reply_draft(settings, brand="Parcelly", author="tom", label="negative",
                        text="order #TW-48812 is 19 days late, a phone charger")
    assert "order TW-48812" in given and "order or account number" not in given
    assert "the charge on your account" not in given  # "charger" is not a charge
    assert "your order not arriving" in given
    plain = reply_draft(settings, brand="Parcelly", author="tom", label="negative", text="my parcel is late")
    assert "order or account number" in plain


@pytest.mark.parametrize(("text", "topic"), [
    ("my phone charger arrived broken", "the fault with your product"),
    ("charged twice for one parcel", "the charge on your account"),
    ("the price went up again", "the charge on your account"),
    ("downloaded the update, all good", "your experience"),
    # An error code on a machine is no app problem; a crash in the app is.
    ("Brewbird One, firmware 2.4.1. Descaled twice. Still E17 error. Machine refuses to brew.",
     "it not working as it should"),
    ("App crashes when I open brew history. Pixel 7, Android 15.", "the app not working for you"),
    ("the website is down again", "the app not working for you"),
    # a battery's charge is no bill
    ("Won't charge at all, tried three cables", "your experience"),
    ("Doesn't even show the charge level correctly", "your experience"),
    ("they charged me twice and nobody answers my emails", "the charge on your account"),
    ("an unauthorised charge on my card", "the charge on your account"),
])
def test_topics_match_whole_words(text, topic) -> None:
    assert topic_of(text) == topic


def test_order_references_and_greeting_names() -> None:
    assert order_reference("@parcelly parcel PX-88213-GB says 'out for delivery'") == "parcel PX-88213-GB"
    assert order_reference("my order is late") is None
    assert [greeting_name(a) for a in ("u/leakylid", "@ann", "/u/bob", "jen.bsky.social", "Priya Sharma")] == [
        "leakylid", "ann", "bob", "jen", "Priya Sharma"]


@pytest.mark.parametrize("author", [
    "<!channel>", "@everyone @ceo", "*boss*\n> fake quote", "<http://evil|click>", "bob@example.com",
    "x" * 10_000, "see https://evil.example", "@@bob",
])
def test_a_greeting_never_carries_a_hostile_or_private_author_name(settings, author) -> None:
    draft = reply_draft(settings, brand="Acme", author=author, text="You charged me twice!")
    assert draft.startswith("Hi, thank you")
    assert "\n" not in draft and len(draft) < 400


def test_a_card_number_is_never_repeated_as_an_order_reference(settings) -> None:
    assert order_reference("order 4111-1111-1111-1111 charged twice") is None
    assert order_reference("order 4111111111111111") is None
    assert order_reference("order 123-4567890-1234567") == "order 123-4567890-1234567"
    draft = reply_draft(settings, brand="Acme", author="ann", text="Acme order 4111-1111-1111-1111 charged twice")
    assert "4111" not in draft


@pytest.mark.parametrize("text", [
    "I'm going to kill myself because of the Acme billing mess",
    "The Acme outage killed 3 people at the hospital",
    "My kid got burned by the Acme kettle",
    "Talking to a lawyer about the Acme charge",
])
def test_harm_and_legal_posts_get_no_canned_draft(settings, text) -> None:
    assert intent_of(text, "negative") == "other"
    assert reply_draft(settings, brand="Acme", author="ann", text=text) == ""
    assert intent_of("my battery is dead after the update", "negative") == "complaint"


def test_a_brand_template_name_left_out_reads_there(make_settings) -> None:
    settings = make_settings('[[brands]]\nname = "Acme"\nreply_template = "Hello {name}! Sorry. {signature}"\n')
    assert reply_draft(settings, brand="Acme", author="<!channel>", text="You charged me twice!") == (
        "Hello there! Sorry. The Acme team")


def test_a_low_star_review_is_never_thanked_for_kind_words(settings) -> None:
    text = "Great design, love the colours. Shame it crashes every single time."
    assert "kind words" in reply_draft(settings, brand="Acme", author="ann", text=text, label="positive")
    draft = reply_draft(settings, brand="Acme", author="ann", text=text, label="positive", rating=1)
    assert "kind words" not in draft and "sorry" in draft


@pytest.mark.parametrize("text", [
    "> my order #ZZ-99999 never arrived\nSame, Acme is hopeless and my parcel is late too",
    "RT @carol: Acme lost my order #ZZ-99999, awful",
])
def test_an_order_number_quoted_from_someone_else_is_not_used(settings, text) -> None:
    draft = reply_draft(settings, brand="Acme", author="dan", text=text)
    assert draft and "ZZ-99999" not in draft
    own = reply_draft(settings, brand="Acme", author="dan", text="Acme lost my order #ZZ-99999, awful")
    assert "order ZZ-99999" in own


@pytest.mark.parametrize("text", [
    "my acme power bank started smoking in my bag",
    "Is my acme charger part of the recall? It gets too hot to touch",
])
def test_a_safety_report_gets_a_safety_first_draft(settings, text) -> None:
    draft = reply_draft(settings, brand="Acme", author="kim", text=text, label="neutral")
    assert "please stop using it for now" in draft and "sorry it has caused you trouble" not in draft


@pytest.mark.parametrize(("text", "expected"), [
    ("Is my acme bottle part of the recall?", "confirmed whether yours is affected"),
    ("my acme account was hacked and someone ordered 3 bottles", "change your password now"),
    ("found glass in my acme pesto", "please stop using it for now"),
    ("I'm going to sue acme", ""),  # a legal threat: for a person to write
])
def test_each_kind_of_safety_report_gets_its_own_draft(settings, text, expected) -> None:
    draft = reply_draft(settings, brand="Acme", author="kim", text=text, label="negative")
    assert (expected in draft) if expected else draft == ""


def test_a_bug_in_food_is_no_software_fault() -> None:
    assert topic_of("a hair and a bug in my acme salad") != "it not working as it should"
    assert topic_of("acme app is buggy and crashes on login") == "the app not working for you"

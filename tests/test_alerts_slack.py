"""Slack channel against a fake Web API: Block Kit posts, faults, the outbox, incidents, crash recovery."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from alerts.channels import build_channels
from alerts.channels.base import ChannelContext
from alerts.channels.slack.api import SlackChannel
from alerts.outbox.dispatch import build_message, dispatch_due
from monitor.app.pipeline import ingest
from monitor.core.errors import ChannelError, ConfigError
from monitor.core.records import Mention, utcnow
from tests.fakeslack import TOKEN, FakeSlack, settings_toml
from tests.httpfake import Response

pytestmark = pytest.mark.both_backends

COMPLAINT = "Acme lost my parcel and nobody answers. Terrible service, worst company ever."


@pytest.fixture
def slack(fake, monkeypatch) -> FakeSlack:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", TOKEN)
    return FakeSlack(fake).install()


@pytest.fixture
def settings(make_settings, slack):
    return make_settings(settings_toml(slack.base_url))


def mention(n: int, text: str = COMPLAINT, **kw) -> Mention:
    return Mention(source="reddit", external_id=f"t3_{n}", text=text, brand="Acme", author=f"user{n}",
                   url=f"https://reddit.example/r/x/{n}", created_at=kw.pop("created_at", utcnow()), **kw)


def texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_negative_mention_posts_block_kit_with_buttons_and_metadata(store, settings, slack, lexicon) -> None:
    earlier = mention(0, created_at=utcnow() - timedelta(days=2))
    ingest(store, settings, [earlier], lexicon)
    store._execute("UPDATE mentions SET author = 'user1' WHERE external_id = 't3_0'")
    result = ingest(store, settings, [mention(1, rating=2)], lexicon)
    assert result.alerts == 1
    report = dispatch_due(store, settings)
    assert report.sent == 2  # the earlier mention's alert too
    post = slack.posts()[-1]
    assert post["channel"] == "C0ALERTS"
    assert post["metadata"]["event_payload"]["alert_id"] == 2
    body = texts(post["blocks"])
    assert "Negative mention of Acme on Reddit" in body
    assert "2nd complaint from this author" in body  # the author's history
    assert "★★☆☆☆" in body and "negative 0." not in body and "just now" in body
    assert any(f"{words} negative" in body for words in ("clearly", "likely", "possibly"))
    assert "<https://reddit.example/r/x/1|Open on Reddit>" in body
    assert "Reply draft" in body and "support@acme.example" in body and "Sam, Acme support" in body
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "listenpost_claim", "listenpost_replied", "listenpost_false_positive", "listenpost_snooze"]
    assert {e["value"] for e in actions["elements"]} == {"2"}
    row = store.alert(2)
    assert row.status == "sent" and row.channel_message_id == f"C0ALERTS:{post['ts']}"
    draft = next(b["text"]["text"] for b in post["blocks"] if "Reply draft" in b.get("text", {}).get("text", ""))
    assert "```" not in draft and "\n&gt; Hi user1," in draft  # quoted text, ready to copy
    assert row.reply_draft.startswith("Hi user1,")  # the draft as sent, kept with the alert


def test_long_posts_are_cut_with_a_more_link_and_titles_stand_on_their_own_line(store, settings, slack,
                                                                                 lexicon) -> None:
    long_text = COMPLAINT + " " + " ".join(f"Day {n}: still nothing from support." for n in range(80))
    ingest(store, settings, [mention(1, text=long_text, title="Nineteen days and no parcel")], lexicon)
    dispatch_due(store, settings)
    blocks = slack.posts()[-1]["blocks"]
    body = next(b["text"]["text"] for b in blocks if "Nineteen days" in b.get("text", {}).get("text", ""))
    assert len(long_text) > 2000 and len(body) < 800
    assert body.startswith("*Nineteen days and no parcel*\n&gt; Acme lost my parcel")
    assert body.endswith("…<https://reddit.example/r/x/1|more>") or body.endswith("… <https://reddit.example/r/x/1|more>")


def test_claim_button_goes_once_the_alert_is_claimed(store, settings, slack, lexicon) -> None:
    from alerts.channels.slack.render import render
    from alerts.outbox.escalation import apply_action

    ingest(store, settings, [mention(1)], lexicon)
    dispatch_due(store, settings)
    apply_action(store, 1, "claim", "maria")
    _, blocks = render(build_message(store, settings, store.alert(1)), tz=UTC)
    actions = next(b for b in blocks if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [
        "listenpost_replied", "listenpost_false_positive", "listenpost_snooze"]
    assert "Claimed by maria" in texts(blocks)


def test_preview_shows_the_message_as_slack_renders_it(store, settings, slack, lexicon) -> None:
    from alerts.channels.slack.render import preview

    ingest(store, settings, [mention(1, text="Acme & co lost my parcel <again>, it's `urgent`")], lexicon)
    shown = preview(build_message(store, settings, store.alert(1)), tz=UTC)
    assert "*" not in shown and "```" not in shown and "&amp;" not in shown
    assert "│ Negative mention of Acme on Reddit" in shown and "│ ┃ Acme & co lost my parcel <again>" in shown
    assert "Open on Reddit (https://reddit.example/r/x/1)" in shown


@pytest.mark.parametrize(("answer", "permanent", "retry_after"), [
    (Response(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "42"}), False, 42.0),
    (Response(503, "upstream down"), False, None),
    (Response(200, b"{truncated"), False, None),
    (Response(200, {"ok": False, "error": "channel_not_found"}), True, None),
    (Response(200, {"ok": False, "error": "invalid_auth"}), True, None),
    (Response(200, {"ok": False, "error": "internal_error"}), False, None),
])
def test_web_api_faults_become_channel_errors(store, settings, slack, lexicon, answer, permanent,
                                              retry_after) -> None:
    ingest(store, settings, [mention(1)], lexicon)
    channel = build_channels(settings)["team"]
    slack.faults.append(answer)
    message = build_message(store, settings, store.alert(1))
    with pytest.raises(ChannelError) as caught:
        channel.send(message)
    assert caught.value.permanent is permanent
    assert caught.value.retry_after == retry_after


def test_outbox_retries_honouring_retry_after_then_delivers_once(store, settings, slack, lexicon) -> None:
    ingest(store, settings, [mention(1)], lexicon)
    slack.faults.append(Response(429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "600"}))
    first = dispatch_due(store, settings)
    assert (first.sent, first.retried) == (0, 1)
    row = store.alert(1)
    due = datetime.fromisoformat(row.next_attempt_at.replace("Z", "+00:00"))
    assert due - utcnow() > timedelta(seconds=590)  # Retry-After beats the 30 s first backoff
    assert dispatch_due(store, settings).sent == 0  # not due yet
    later = dispatch_due(store, settings, now=utcnow() + timedelta(minutes=11))
    assert later.sent == 1
    assert len(slack.posts(1)) == 1
    # The retry asked Slack first whether the alert had gone out: no blind re-post.
    assert slack.server.calls("/api/conversations.history")


def test_permanent_failure_is_marked_and_shown(store, settings, slack, lexicon, runner) -> None:
    ingest(store, settings, [mention(1)], lexicon)
    slack.faults.append(Response(200, {"ok": False, "error": "channel_not_found"}))
    assert dispatch_due(store, settings).failed == 1
    row = store.alert(1)
    assert row.status == "failed" and "channel_not_found" in row.last_error
    assert store.requeue_alerts([1]) == 1
    assert dispatch_due(store, settings).sent == 1


def test_transient_failures_stop_after_max_attempts(store, make_settings, slack, lexicon, tmp_path) -> None:
    settings = make_settings(settings_toml(slack.base_url, "[alerts]\nmax_attempts = 2"))
    ingest(store, settings, [mention(1)], lexicon)
    slack.faults.extend([Response(500, "boom"), Response(500, "boom")])
    assert dispatch_due(store, settings).retried == 1
    assert dispatch_due(store, settings, now=utcnow() + timedelta(hours=1)).failed == 1
    assert store.alert(1).status == "failed"


def test_crash_after_post_is_recovered_without_a_second_post(store, settings, slack, lexicon) -> None:
    """The post went out but the process died before recording it: the row is left 'sending'."""
    ingest(store, settings, [mention(1)], lexicon)
    channel = build_channels(settings)["team"]
    rows = store.claim_due_alerts()
    channel.send(build_message(store, settings, rows[0]))  # ... and then the process died
    assert store.alert(1).status == "sending"
    assert dispatch_due(store, settings).sent == 0  # within its lease nobody touches it
    report = dispatch_due(store, settings, now=utcnow() + timedelta(minutes=3))
    assert report.sent == 1
    assert len(slack.posts(1)) == 1
    assert store.alert(1).channel_message_id == f"C0ALERTS:{slack.posts(1)[0]['ts']}"


def test_crash_before_post_is_posted_on_recovery(store, settings, slack, lexicon) -> None:
    ingest(store, settings, [mention(1)], lexicon)
    store.claim_due_alerts()  # claimed, then the process died before posting
    assert dispatch_due(store, settings, now=utcnow() + timedelta(minutes=3)).sent == 1
    assert len(slack.posts(1)) == 1


def test_near_duplicates_join_one_thread_with_a_running_count(store, settings, slack, lexicon) -> None:
    ingest(store, settings, [mention(1)], lexicon)
    dispatch_due(store, settings)
    repost = COMPLAINT.replace("Terrible", "TERRIBLE!!") + " https://t.example/abc @acme"
    ingest(store, settings, [mention(2, text=repost), mention(3, text="RT " + COMPLAINT)], lexicon)
    unrelated = "The Acme app crashes on login since the update, awful and useless."
    ingest(store, settings, [mention(4, text=unrelated)], lexicon)
    report = dispatch_due(store, settings)
    assert report.sent == 4 and report.grouped == 2  # three reports make an incident: its notice too
    top = [m for m in slack.posts() if not m["thread_ts"]]
    assert len(top) == 2  # the first complaint and the unrelated one
    root = slack.posts(1)[0]
    replies = [m for m in slack.posts() if m["thread_ts"] == root["ts"]]
    assert len(replies) == 3 and "suggested status update" in replies[-1]["text"]  # two reposts, the notice
    assert root["updates"] == 2 and "3 similar mentions" in texts(root["blocks"])
    assert store.alert(4).kind == "notice"
    assert store.alert(2).group_key == store.alert(1).group_key != store.alert(5).group_key


def test_missing_token_skips_the_channel_and_names_the_variable(store, make_settings, slack, lexicon,
                                                                 monkeypatch, caplog) -> None:
    monkeypatch.delenv("LISTENPOST_SLACK_BOT_TOKEN")
    settings = make_settings(settings_toml(slack.base_url))
    ingest(store, settings, [mention(1)], lexicon)
    assert dispatch_due(store, settings).sent == 0
    assert "LISTENPOST_SLACK_BOT_TOKEN" in caplog.text
    assert store.alert(1).status == "pending"  # kept for when the token is there


def test_channel_option_is_required(make_settings, slack) -> None:
    settings = make_settings(settings_toml(slack.base_url).replace('channel = "C0ALERTS", ', ""))
    with pytest.raises(ConfigError, match=r"alerts\.channels\.team\.options\.channel"):
        SlackChannel("team", settings.alerts.channels["team"], ChannelContext.of(settings))


def test_quiet_hours_wait_holds_alerts_until_morning(store, make_settings, slack, lexicon) -> None:
    settings = make_settings(settings_toml(slack.base_url).replace(
        "[[alerts.routes]]", 'quiet_hours = "22:00-07:00"\n\n[[alerts.routes]]'))
    ingest(store, settings, [mention(1)], lexicon)
    night = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert dispatch_due(store, settings, now=night).sent == 0
    assert store.alert(1).status == "pending"
    morning = datetime(2026, 11, 24, 7, 5, tzinfo=UTC)
    assert dispatch_due(store, settings, now=max(morning, utcnow())).sent == 1


def test_quiet_hours_escalation_sends_to_on_call_only(store, make_settings, slack, lexicon) -> None:
    extra = """
[alerts.channels.oncall]
type = "slack"
options = { channel = "C0ONCALL", base_url = "BASE" }

[alerts.escalation]
channels = ["oncall"]
mention = "<!subteam^S0ONCALL>"
""".replace("BASE", slack.base_url)
    settings = make_settings(settings_toml(slack.base_url, extra).replace(
        "[[alerts.routes]]", 'quiet_hours = "00:00-23:59"\nquiet_mode = "escalation"\n\n[[alerts.routes]]'))
    ingest(store, settings, [mention(1)], lexicon)
    report = dispatch_due(store, settings)
    assert report.rerouted == 1 and store.alert(1).status == "suppressed"
    assert dispatch_due(store, settings).sent == 1
    posts = slack.posts()
    assert [p["channel"] for p in posts] == ["C0ONCALL"]
    assert posts[0]["blocks"][0]["text"]["text"] == (
        "<!subteam^S0ONCALL> *Negative mention of Acme on Reddit (quiet hours: on-call only)*")


def test_an_imported_posts_link_names_its_site_not_the_file(store, settings, slack, lexicon) -> None:
    from monitor.core.records import link_name

    imported = Mention(source="file", external_id="bw1", text=COMPLAINT, brand="Acme", author="@ann",
                       url="https://www.twitter.com/ann/status/1", created_at=utcnow())
    ingest(store, settings, [imported], lexicon)
    dispatch_due(store, settings)
    body = texts(slack.posts()[-1]["blocks"])
    assert "<https://www.twitter.com/ann/status/1|Open on twitter.com>" in body
    assert link_name("file", "") == "imported file" and link_name("file", "not a url") == "imported file"
    assert link_name("reddit", "https://reddit.example/r/x/1") == "Reddit"


def test_a_post_cut_because_escaping_made_it_long_still_gets_its_more_link() -> None:
    from zoneinfo import ZoneInfo

    from alerts.channels.slack.render import render
    from alerts.message import AlertMessage

    message = AlertMessage(
        alert_id=1, kind="mention", brand="Acme", source="x", external_id="1", author="b",
        text="&" * 560 + " the refund is the real point", url="https://x.example/1",
        created_at=datetime.now(UTC), label="negative", negative=0.9)
    _, blocks = render(message, tz=ZoneInfo("UTC"))
    body = blocks[2]["text"]["text"]
    assert "the refund" not in body and body.endswith("<https://x.example/1|more>")


def test_an_alert_closed_while_slack_was_posting_it_is_shown_closed(store, database, settings, slack,
                                                                    lexicon) -> None:
    import threading
    import time

    from alerts.outbox.escalation import apply_action
    from monitor.store import Store

    ingest(store, settings, [mention(1)], lexicon)
    slack.post_delay = 1.0  # Slack keeps the message, then answers a second later

    def resolve_meanwhile() -> None:
        deadline = time.monotonic() + 10
        while not slack.posts() and time.monotonic() < deadline:
            time.sleep(0.02)
        with Store(database) as other:  # another person, another connection
            apply_action(other, 1, "resolve", "maria")

    closer = threading.Thread(target=resolve_meanwhile)
    closer.start()
    dispatch_due(store, settings)
    closer.join()
    (message,) = slack.posts()
    assert message.get("updates", 0) >= 1  # re-rendered after the post, as the button would have done
    assert "maria" in json.dumps(message["blocks"])

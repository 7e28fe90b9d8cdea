"""The channel seams: declared abilities, typed options, one Slack message id, one Retry-After reader."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from alerts import CHANNEL_TYPES, channel_class
from alerts.channels import build_channels
from alerts.channels.base import Channel, ChannelContext
from alerts.channels.slack.ref import SlackRef
from alerts.message import AlertMessage
from monitor.core.config import Channel as ChannelSettings
from monitor.core.config import Settings
from monitor.core.errors import ChannelError, ConfigError
from monitor.core.records import utcnow
from tests.httpfake import Response


def message() -> AlertMessage:
    return AlertMessage(alert_id=1, kind="mention", brand="Acme", source="reddit", external_id="t3_1",
                        author="sam", text="Acme lost my parcel", url="", created_at=utcnow(),
                        label="negative", negative=0.9)


@pytest.mark.parametrize("kind", sorted(CHANNEL_TYPES))
def test_every_channel_declares_its_abilities(kind: str) -> None:
    cls = channel_class(kind)
    assert issubclass(cls, Channel)
    for ability in ("idempotent", "threads", "updates"):
        assert isinstance(getattr(cls, ability), bool)
    if cls.updates:
        assert cls.update is not Channel.update
    if cls.idempotent:
        assert cls.find_sent is not Channel.find_sent


@pytest.mark.parametrize(("message_id", "channel", "ts"), [
    ("C0123ABC:1700000000.000100", "C0123ABC", "1700000000.000100"),
    ("1700000000.000100", "CDEFAULT", "1700000000.000100"),
])
def test_slack_message_id_reads_and_writes_one_way(message_id: str, channel: str, ts: str) -> None:
    ref = SlackRef.parse(message_id, "CDEFAULT")
    assert ref == SlackRef(channel, ts)
    assert str(ref) == f"{channel}:{ts}"


@pytest.mark.parametrize(("kind", "options", "key"), [
    ("console", {"width": "wide"}, "width"),
    ("console", {"show_draft": "yes"}, "show_draft"),
    ("slack", {"channel": "C1", "timeout": True}, "timeout"),
    ("email", {"to": ["a@example.com"], "timeout": "soon"}, "timeout"),
])
def test_an_option_of_the_wrong_type_names_its_key(monkeypatch: pytest.MonkeyPatch, kind: str,
                                                    options: dict[str, object], key: str) -> None:
    monkeypatch.setenv("LISTENPOST_SLACK_BOT_TOKEN", "xoxb-test")
    with pytest.raises(ConfigError, match=rf"alerts\.channels\.team\.options\.{key}: expected"):
        channel_class(kind)("team", ChannelSettings(type=kind, options=options), ChannelContext.of(Settings()))


def test_email_channel_keeps_its_own_smtp_options(make_settings) -> None:
    settings = make_settings('[digest]\nsmtp_host = "mail.example.com"\n[alerts.channels.mail]\ntype = "email"\n'
                             'options = { to = ["a@example.com"], smtp_port = 2525, timeout = 5 }\n'
                             '[[alerts.routes]]\nchannels = ["mail"]\n')
    channel = build_channels(settings, skip_broken=False)["mail"]
    server = channel.server  # type: ignore[attr-defined]
    assert (server.host, server.port, server.timeout) == ("mail.example.com", 2525, 5.0)
    assert not hasattr(channel, "app")


def test_webhook_honours_a_retry_after_date(make_settings, fake, monkeypatch: pytest.MonkeyPatch) -> None:
    when = formatdate(utcnow().timestamp() + 120, usegmt=True)
    fake.route("POST", "/hook", Response(429, "rate limited", headers={"Retry-After": when}))
    monkeypatch.setenv("LISTENPOST_SLACK_WEBHOOK_URL", fake.url + "/hook")
    settings = make_settings('[alerts.channels.hook]\ntype = "slack_webhook"\n[[alerts.routes]]\nchannels = ["hook"]\n')
    channel = build_channels(settings, skip_broken=False)["hook"]
    with pytest.raises(ChannelError) as error:
        channel.send(message())
    assert error.value.retry_after is not None and 100 <= error.value.retry_after <= 121


@pytest.mark.parametrize("retry_after", ["99999999999999", "9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_channel_asking_for_a_wait_of_centuries_gets_its_alert_retried_within_a_day(
        make_settings, fake, store, monkeypatch: pytest.MonkeyPatch, retry_after: str) -> None:
    from alerts.outbox.dispatch import RETRY_AFTER_CAP, dispatch_due
    from monitor.core.retry import MAX_SERVER_WAIT, server_wait
    from monitor.core.times import parse_ts

    assert server_wait({"Retry-After": retry_after}) == MAX_SERVER_WAIT
    fake.route("POST", "/hook", Response(429, "rate limited", headers={"Retry-After": retry_after}))
    monkeypatch.setenv("LISTENPOST_SLACK_WEBHOOK_URL", fake.url + "/hook")
    settings = make_settings('[alerts.channels.hook]\ntype = "slack_webhook"\n[[alerts.routes]]\nchannels = ["hook"]\n')
    store.enqueue_alert(source="rss", external_id="1", brand="Acme", channel="hook")
    report = dispatch_due(store, settings)
    assert report.retried == 1
    (row,) = store.list_alerts()
    due = parse_ts(row.next_attempt_at)
    assert due is not None and 0 < (due - utcnow()).total_seconds() <= RETRY_AFTER_CAP


def test_a_case_reaches_the_renderers_as_typed_fields() -> None:
    from dataclasses import fields, replace
    from zoneinfo import ZoneInfo

    from alerts.channels.slack.render import preview
    from alerts.message import CaseStatus, IncidentEvidence

    assert "extra" not in {f.name for f in fields(AlertMessage)}
    claimed = replace(message(), status=CaseStatus(claimed_by="maria", claimed_at="2026-11-20T10:00:00Z"))
    shown = preview(claimed, tz=ZoneInfo("UTC"))
    assert "Claimed by maria at 10:00 UTC on 20 Nov" in shown and "[Claim]" not in shown
    closed = replace(claimed, status=replace(claimed.status, resolution="false_positive", closed_by="ed"))
    assert "Closed as false positive by ed" in preview(closed, tz=ZoneInfo("UTC"))
    assert "[Replied]" not in preview(closed, tz=ZoneInfo("UTC"))
    notice = replace(message(), kind="notice", source="notice", text="We know; a fix is coming.",
                     evidence=IncidentEvidence(count=4, first_at="2026-11-20T09:00:00Z",
                                               latest_at="2026-11-20T09:40:00Z", sources=("reddit", "x")))
    assert "4 reports · first posted 09:00 UTC on 20 Nov, latest 09:40 UTC on 20 Nov · Reddit, X" in preview(
        notice, tz=ZoneInfo("UTC"), columns=200)
    ping = replace(message(), kind="escalation", reason="quiet hours", on_call="<!subteam^S1>")
    shown = preview(ping, tz=ZoneInfo("UTC"))
    assert shown.startswith("│ <!subteam^S1> Negative mention of Acme on Reddit (quiet hours")


def test_a_post_dated_ahead_of_now_says_so() -> None:
    from datetime import timedelta

    from alerts.message import ago
    from monitor.core.records import utcnow

    now = utcnow()
    assert ago(now - timedelta(hours=3), now) == "3 hours ago"
    assert ago(now + timedelta(hours=2), now) == "2 hours in the future"  # a clock or time-zone mistake
    assert ago(now + timedelta(seconds=20), now) == "just now"  # a clock a little ahead is no mistake

"""Email (a real SMTP server, aiosmtpd) and Slack incoming webhook channels; `alerts test CHANNEL`."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller

from alerts.channels import build_channels
from alerts.outbox.dispatch import dispatch_due
from monitor.app.pipeline import ingest
from monitor.core.errors import ConfigError
from monitor.core.records import Mention, utcnow
from tests.httpfake import Response

pytestmark = pytest.mark.both_backends

HOSTILE = "Acme <script>alert(1)</script> lost my parcel & support is terrible. Worst service ever."


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.reply = "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.reply.startswith("250"):
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return self.reply


@pytest.fixture
def smtp():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port  # type: ignore[attr-defined]
    yield inbox
    controller.stop()


def email_settings(make_settings, port: int, to: str = '["care@acme.example"]'):
    return make_settings(f"""
[[brands]]
name = "Acme"
support_contact = "support@acme.example"

[alerts.channels.mail]
type = "email"
options = {{ to = {to}, smtp_host = "127.0.0.1", smtp_port = {port}, smtp_security = "plain" }}

[[alerts.routes]]
channels = ["mail"]
""")


def complaint(n: int = 1, text: str = HOSTILE) -> Mention:
    return Mention(source="appstore", external_id=f"r{n}", text=text, brand="Acme", author="<b>ann</b>",
                   kind="review", rating=1, url="https://apps.example/r1", created_at=utcnow())


def test_email_alert_is_sent_with_escaped_html(store, make_settings, smtp, lexicon) -> None:
    settings = email_settings(make_settings, smtp.port)
    ingest(store, settings, [complaint()], lexicon)
    assert dispatch_due(store, settings).sent == 1
    (mail,) = smtp.messages
    assert mail["Subject"] == "[listenpost] Negative mention of Acme on App Store"
    assert mail["To"] == "care@acme.example"
    plain_part = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",)).get_content()
    assert "<script>" in plain_part and "★☆☆☆☆" in plain_part and "support@acme.example" in plain_part
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part and "&lt;b&gt;ann" in html_part
    assert store.alert(1).channel_message_id == mail["Message-ID"]


def test_smtp_rejection_is_permanent_and_4xx_is_retried(store, make_settings, smtp, lexicon) -> None:
    settings = email_settings(make_settings, smtp.port)
    ingest(store, settings, [complaint(1), complaint(2, "Acme app crashes all the time, awful, hate it")], lexicon)
    smtp.reply = "451 try again later"
    assert dispatch_due(store, settings, limit=1).retried == 1
    smtp.reply = "554 rejected"
    assert dispatch_due(store, settings, limit=1).failed == 1


def test_unreachable_smtp_server_is_retried(store, make_settings, lexicon) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings = email_settings(make_settings, closed_port)
    ingest(store, settings, [complaint()], lexicon)
    report = dispatch_due(store, settings)
    assert report.retried == 1 and "SMTP server 127.0.0.1:" in store.alert(1).last_error


@pytest.mark.parametrize("to", ['[]', '["not-an-address"]', '["a@b.example\\nBcc: x@evil.example"]'])
def test_email_recipients_are_validated(make_settings, to) -> None:
    settings = email_settings(make_settings, 25, to)
    with pytest.raises(ConfigError, match=r"alerts\.channels\.mail\.options\.to"):
        build_channels(settings, skip_broken=False)


def webhook_settings(make_settings):
    return make_settings("""
[[brands]]
name = "Acme"

[alerts.channels.hook]
type = "slack_webhook"

[[alerts.routes]]
channels = ["hook"]
""")


def test_webhook_posts_blocks_without_buttons(store, make_settings, fake, lexicon, monkeypatch) -> None:
    fake.route("POST", "/services/T0/B0/secret", Response(200, "ok"))
    monkeypatch.setenv("LISTENPOST_SLACK_WEBHOOK_URL", fake.url + "/services/T0/B0/secret")
    settings = webhook_settings(make_settings)
    ingest(store, settings, [complaint()], lexicon)
    assert dispatch_due(store, settings).sent == 1
    (call,) = fake.calls("/services/T0/B0/secret")
    body = call.json()
    assert body["unfurl_links"] is False
    assert not any(b["type"] == "actions" for b in body["blocks"])
    assert "&lt;script&gt;" in str(body["blocks"]) and "<script>" not in str(body["blocks"])


@pytest.mark.parametrize(("answer", "status"), [
    (Response(429, "rate limited", headers={"Retry-After": "30"}), "pending"),
    (Response(500, "oops"), "pending"),
    (Response(404, "no_service"), "failed"),
    (Response(400, "invalid_payload"), "failed"),
])
def test_webhook_faults(store, make_settings, fake, lexicon, monkeypatch, answer, status) -> None:
    fake.route("POST", "/hook", answer)
    monkeypatch.setenv("LISTENPOST_SLACK_WEBHOOK_URL", fake.url + "/hook")
    settings = webhook_settings(make_settings)
    ingest(store, settings, [complaint()], lexicon)
    dispatch_due(store, settings)
    assert store.alert(1).status == status


def test_webhook_without_url_is_skipped_naming_the_variable(store, make_settings, lexicon, caplog,
                                                            monkeypatch) -> None:
    monkeypatch.delenv("LISTENPOST_SLACK_WEBHOOK_URL", raising=False)
    settings = webhook_settings(make_settings)
    ingest(store, settings, [complaint()], lexicon)
    assert dispatch_due(store, settings).sent == 0
    assert "LISTENPOST_SLACK_WEBHOOK_URL" in caplog.text and store.alert(1).status == "pending"


def test_alerts_test_command_sends_through_the_named_channel(runner, write_settings, fake, monkeypatch) -> None:
    from monitor.cli import cli

    fake.route("POST", "/hook", Response(200, "ok"))
    monkeypatch.setenv("LISTENPOST_SLACK_WEBHOOK_URL", fake.url + "/hook")
    config = write_settings('[alerts.channels.hook]\ntype = "slack_webhook"\n'
                            '[[alerts.routes]]\nchannels = ["hook"]\n')
    result = runner.invoke(cli, ["--config", str(config), "alerts", "test", "hook"])
    assert result.exit_code == 0, result.output
    assert "Test message sent through hook" in result.output
    assert "listenpost test alert" in fake.calls("/hook")[0].body.decode()
    missing = runner.invoke(cli, ["--config", str(config), "alerts", "test", "nope"])
    assert missing.exit_code == 2 and "no channel named 'nope'" in missing.output
    monkeypatch.delenv("LISTENPOST_SLACK_WEBHOOK_URL")
    unset = runner.invoke(cli, ["--config", str(config), "alerts", "test", "hook"])
    assert unset.exit_code == 2 and "LISTENPOST_SLACK_WEBHOOK_URL" in unset.output


def test_webhook_url_never_reaches_the_log(store, make_settings, fake, lexicon, monkeypatch, caplog) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    fake.route("POST", "/services/T0/B0/s3cr3t", Response(500, "oops"))
    monkeypatch.setenv("LISTENPOST_SLACK_WEBHOOK_URL", fake.url + "/services/T0/B0/s3cr3t")
    settings = webhook_settings(make_settings)
    ingest(store, settings, [complaint()], lexicon)
    dispatch_due(store, settings)
    assert fake.calls("/services/T0/B0/s3cr3t")
    assert "s3cr3t" not in caplog.text and "s3cr3t" not in (store.alert(1).last_error or "")

"""The digest and `report`: built from a real store, mailed through aiosmtpd on loopback, parsed back."""

from __future__ import annotations

import csv
import email
import email.policy
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.digest import build_digest, chart_points, grade, human_duration, render_digest, send_digest
from alerts.digest.themes import find_themes
from alerts.mailer import SmtpOptions, send_email
from monitor.cli import cli
from monitor.cli.digest import spreadsheet_safe
from monitor.core.config import Settings
from monitor.core.errors import ChannelError, ConfigError, MissingCredential
from monitor.core.records import Classification, Mention
from monitor.core.rows import HourCount, ReportedMention
from monitor.store import Store, ts

pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)> "quoted" & \u202egnp.exe'
SETTINGS = """
timezone = "Europe/Berlin"
[[brands]]
name = "Parcelly"
ignore_authors = ["ParcellyHelp"]
[[brands]]
name = "Brewbird"
[digest]
recipients = ["leads@parcelly.example", "care@brewbird.example"]
sender = "listenpost@parcelly.example"
smtp_host = "127.0.0.1"
smtp_port = {port}
smtp_security = "{security}"
"""


def add(store: Store, eid: str, text: str, label: str, posted: datetime, *, brand: str = "Parcelly",
        source: str = "x", url: str = "", negative: float = 0.9, title: str = "") -> None:
    store.save_mentions([Mention(source=source, external_id=eid, text=text, created_at=posted,
                                 brand=brand, author=f"user_{eid}", url=url, title=title)])
    scores = (None, None, None) if label == "unscored" else (negative, 0.05, 0.05)
    store.save_classifications([Classification(source, eid, "test", label, *scores)])


def alert(store: Store, eid: str, *, source: str = "x", channel: str = "slack", created: datetime,
          **times: datetime | str) -> int:
    alert_id = store.enqueue_alert(source=source, external_id=eid, brand="Parcelly", channel=channel)
    assert alert_id is not None
    store.set_alert_fields(alert_id, created_at=created, status="sent", **times)
    return alert_id


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.tls.append(server.transport.get_extra_info("ssl_object") is not None)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret-pass", handled=False)  # server answers 535


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Mailbox]]:
    controllers: list[Controller] = []

    def start(*, tls_context: ssl.SSLContext | None = None, implicit_tls: bool = False) -> Mailbox:
        box = Mailbox(port=free_port())
        starttls = tls_context is not None and not implicit_tls
        controller = Controller(box, hostname="127.0.0.1", port=box.port, authenticator=box.authenticate,
                                # aiosmtpd only knows about STARTTLS; with implicit TLS it is TLS already
                                auth_require_tls=starttls,
                                tls_context=tls_context if starttls else None, require_starttls=starttls,
                                ssl_context=tls_context if implicit_tls else None)
        controller.start()
        controllers.append(controller)
        return box

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def settings_for(make_settings: Callable[..., Settings]) -> Callable[..., Settings]:
    def make(port: int = 1, security: str = "plain", **env: str) -> Settings:
        return make_settings(SETTINGS.format(port=port, security=security), **env)

    return make


@pytest.fixture
def busy_store(store: Store) -> Store:
    """A day of Parcelly and Brewbird mentions, the day before, alerts, a failed run."""
    hour = timedelta(hours=1)
    for i in range(8):
        add(store, f"out{i}", f"Is Parcelly down? tracking page stuck loading, outage number {i}",
            "negative", NOW - (i + 2) * hour, url=f"https://x.com/u/status/{i}", negative=0.8 + i / 100)
    for i in range(5):
        add(store, f"lost{i}", f"parcel marked delivered but never arrived, refund claim {i} rejected",
            "negative", NOW - (i + 3) * hour, source="reddit", url=f"https://reddit.com/r/p/{i}")
    add(store, "evil", HOSTILE, "negative", NOW - 30 * timedelta(minutes=1),
        url="javascript:alert(document.cookie)", negative=0.99)
    add(store, "huge", "unbearable " * 100_000, "negative", NOW - 40 * timedelta(minutes=1), negative=0.98)
    add(store, "ok1", "fast delivery, thanks", "positive", NOW - 5 * hour)
    add(store, "de1", "Paket seit 5 Tagen unterwegs", "unscored", NOW - 4 * hour)
    add(store, "bb1", "love my brewbird", "positive", NOW - 6 * hour, brand="Brewbird", source="bluesky")
    for i in range(3):  # the previous day
        add(store, f"old{i}", f"parcel marked delivered but not here {i}", "negative",
            NOW - timedelta(hours=30 + i), source="reddit")
    alert(store, "out0", created=NOW - 2 * hour, sent_at=NOW - 2 * hour + timedelta(minutes=1),
          claimed_at=NOW - hour, replied_at=NOW - hour + timedelta(minutes=10), replied_by="sam")
    alert(store, "out7", created=NOW - 9 * hour, claimed_at=NOW - 8 * hour, claimed_by="jo")
    run = store.start_run("reddit", "collect")
    store.finish_run(run, fetched=0, new=0, error="reddit: 503 Service Unavailable")
    store._execute("UPDATE runs SET started_at = ? WHERE id = ?", [ts(NOW - 3 * hour), run])
    return store


def parts(message: EmailMessage) -> dict[str, Any]:
    """The digest's MIME tree: text, html and the images by content id."""
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_payload()
    assert text_part.get_content_type() == "text/plain"
    images = []
    if html_part.get_content_type() == "multipart/related":  # only when there are charts
        html_part, *images = html_part.get_payload()
    assert html_part.get_content_type() == "text/html"
    return {
        "text": text_part.get_content(), "html": html_part.get_content(),
        "images": {img["Content-ID"].strip("<>"): img.get_content() for img in images
                   if img.get_content_type() == "image/png"},
    }


def test_digest_arrives_over_smtp_with_chart_links_and_escaped_text(
    busy_store: Store, settings_for: Callable[..., Settings], smtp_server: Callable[..., Mailbox]
) -> None:
    box = smtp_server()
    settings = settings_for(box.port, SMTP_USER="digest-bot", SMTP_PASSWORD="s3cret-pass")
    env = {"LISTENPOST_SMTP_USER": "digest-bot", "LISTENPOST_SMTP_PASSWORD": "s3cret-pass"}

    message_id = send_digest(busy_store, settings, now=NOW, environ=env)

    assert box.logins == [(b"digest-bot", b"s3cret-pass")]
    assert box.envelopes[0].rcpt_tos == ["leads@parcelly.example", "care@brewbird.example"]
    message = box.messages[0]
    assert message["Message-ID"] == message_id
    # long subjects are folded onto a continuation line; unfolding leaves the usual leading space
    assert message["Subject"].strip() == "Daily digest, Mon 23 Nov 2026: 15 negative of 18 mentions, 17 unanswered"
    p = parts(message)
    # one chart per brand with mentions, each referenced from the HTML and a real PNG
    assert len(p["images"]) == 2
    for cid, png in p["images"].items():
        assert f'src="cid:{cid}"' in p["html"]
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert 'href="https://x.com/u/status/7"' in p["html"]
    assert "https://reddit.com/r/p/0" in p["text"]
    assert "[X] user_out7, waiting 9 hours · claimed by jo: Is Parcelly down?" in p["text"]
    assert "[Reddit] user_old2, waiting 1 day · unclaimed: parcel marked delivered but not here 2" in p["text"]
    # hostile text is escaped, its bidi override removed, its javascript: link not linked
    assert "<script" not in p["html"] and "<img src=x" not in p["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in p["html"]
    assert "&#34;quoted&#34; &amp;" in p["html"]
    assert "\u202e" not in p["html"] and "\u202e" not in p["text"]
    assert "javascript:" not in p["html"]
    assert "<script>alert(1)</script>" in p["text"]  # plain text shows it as written
    # a million-character mention is shortened, not mailed whole
    assert len(p["html"]) < 100_000 and "unbearable unbearable" in p["html"]
    # local time, failures and other-language mentions are all stated
    assert "(Europe/Berlin)" in p["text"] and "08:00 –" not in p["text"]
    assert "reddit: 1 of 1 collection runs failed (last error: reddit: 503 Service Unavailable)" in p["text"]
    assert "1 mention in languages the sentiment model does not cover: not scored, so read them" in p["text"]
    assert "Paket seit 5 Tagen unterwegs" in p["text"]  # listed under its brand, not only counted


def test_digest_compares_sources_with_the_previous_period(busy_store: Store, settings_for: Any) -> None:
    digest = build_digest(busy_store, settings_for(), now=NOW)
    parcelly = next(b for b in digest.brands if b.name == "Parcelly")
    reddit = next(s for s in parcelly.sources if s.source == "reddit")
    assert (reddit.now["negative"], reddit.before["negative"]) == (5, 3)
    assert parcelly.count("negative") == 15 and parcelly.count("negative", previous=True) == 3
    assert parcelly.top[0].url == ""  # the javascript: link was dropped
    assert len(parcelly.top[1].text) <= 280 and parcelly.top[1].text.endswith("…")
    assert parcelly.unanswered_total == 17  # out0 was replied to; the previous day's are still open
    _, text, _ = render_digest(digest)
    assert "Reddit                 5         5        0         0            0" in text
    assert "+67%" in text  # negatives up from 3 to 5 on reddit, per the source table's delta


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_digest_over_tls_with_login(
    busy_store: Store, settings_for: Callable[..., Settings], smtp_server: Callable[..., Mailbox],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, security: str,
) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts only this test certificate
    box = smtp_server(tls_context=server_tls, implicit_tls=security == "ssl")
    settings = settings_for(box.port, security)
    env = {"LISTENPOST_SMTP_USER": "digest-bot", "LISTENPOST_SMTP_PASSWORD": "s3cret-pass"}
    send_digest(busy_store, settings, now=NOW, environ=env)
    assert box.tls == [True] and box.logins == [(b"digest-bot", b"s3cret-pass")]
    assert len(parts(box.messages[0])["images"]) == 2


def self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    import ipaddress

    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_empty_database_digest_is_sent_and_says_so(
    store: Store, settings_for: Callable[..., Settings], smtp_server: Callable[..., Mailbox]
) -> None:
    box = smtp_server()
    send_digest(store, settings_for(box.port), now=NOW, environ={})
    p = parts(box.messages[0])
    assert box.messages[0]["Subject"].strip() == "Daily digest, Mon 23 Nov 2026: 0 negative of 0 mentions"
    assert "No mentions in this period. Nothing needs an answer." in p["text"]
    assert "No mentions in this period" in p["html"] and "No alerts were sent in this period." in p["html"]
    assert p["images"] == {}


def test_empty_database_with_no_brands_prints_from_the_cli(runner: Any, write_settings: Any, tmp_path: Path) -> None:
    config = write_settings('database = "empty.db"\n')
    result = runner.invoke(cli, ["--config", str(config), "digest", "--since", "7d"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Weekly digest, ")
    assert "No mentions in this period, and no brands are configured yet." in result.output


def test_response_times_are_nearest_rank_percentiles_per_source_counting_each_mention_once(
    store: Store, settings_for: Callable[..., Settings]
) -> None:
    for i in range(1, 11):  # claimed after i*10 minutes, replied after i hours (1..10)
        posted = NOW - timedelta(hours=12)
        add(store, f"m{i}", f"problem {i}", "negative", posted)
        alert(store, f"m{i}", created=posted + timedelta(minutes=1), sent_at=posted + timedelta(minutes=2),
              claimed_at=posted + timedelta(minutes=10 * i), replied_at=posted + timedelta(hours=i))
    add(store, "open", "still waiting", "negative", NOW - timedelta(hours=2))
    alert(store, "open", created=NOW - timedelta(hours=2), sent_at=NOW - timedelta(hours=2))
    add(store, "esc", "escalated", "negative", NOW - timedelta(hours=3))
    alert(store, "esc", channel="email", created=NOW - timedelta(hours=3))
    alert(store, "m1", channel="console", created=NOW - timedelta(hours=12), sent_at=NOW - timedelta(hours=11))
    digest = build_digest(store, settings_for(), now=NOW)
    (slack,) = digest.timings  # one row per source, a mention alerted on two channels counted once
    assert slack.channels == ["console", "email", "slack"]
    assert slack.alerts == 12 and slack.n("claim") == 10 and slack.n("reply") == 10
    assert slack.value("claim", "median") == pytest.approx(50 * 60, abs=1)
    assert slack.value("claim", "p90") == pytest.approx(90 * 60, abs=1)
    assert slack.value("reply", "median") == pytest.approx(5 * 3600, abs=1)
    assert slack.value("reply", "p90") == pytest.approx(9 * 3600, abs=1)
    assert slack.value("alert", "median") == pytest.approx(120, abs=1)
    assert digest.grade(slack.value("claim", "median")) == "excellent"
    assert digest.grade(slack.value("claim", "p90")) == "average"


@pytest.mark.parametrize(("seconds", "expected"), [
    (None, ""), (0, "excellent"), (3600, "excellent"), (3601, "average"), (86400, "average"),
    (86401, "poor"),
])
def test_grades_follow_the_bands(seconds: float | None, expected: str) -> None:
    assert grade(seconds, 3600, 86400) == expected


def test_grade_bands_are_settings(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings('[digest]\ngrade_excellent = "15m"\ngrade_average = "4h"\n')
    assert grade(20 * 60, settings.digest.grade_excellent, settings.digest.grade_average) == "average"
    assert grade(5 * 3600, settings.digest.grade_excellent, settings.digest.grade_average) == "poor"


@pytest.mark.parametrize(("value", "expected"), [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"), ("+1", "'+1"), ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("slack", "slack"), (42, 42), (None, None),
])
def test_spreadsheet_formulas_are_neutralised(value: Any, expected: Any) -> None:
    assert spreadsheet_safe(value) == expected


def test_report_prints_and_writes_a_safe_csv(runner: Any, write_settings: Any, tmp_path: Path) -> None:
    config = write_settings(f'database = "{tmp_path / "r.db"}"\n')
    now = datetime.now(UTC)
    with Store(tmp_path / "r.db") as store:
        for i, channel in enumerate(["slack", "=cmd|' /C calc'!A0"]):
            posted = now - timedelta(days=2)
            add(store, f"r{i}", "bad", "negative", posted)
            alert(store, f"r{i}", channel=channel, created=posted, sent_at=posted + timedelta(minutes=1),
                  claimed_at=posted + timedelta(minutes=30), replied_at=posted + timedelta(hours=30))
    out = tmp_path / "times.csv"
    result = runner.invoke(cli, ["--config", str(config), "report", "--since", "30d", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    assert "Response times over the last 30 d" in result.output
    assert "slack" in result.output and "30 min" in result.output and "1 d 6 h" in result.output
    assert max(len(line) for line in result.output.splitlines() if "Written to" not in line) <= 80
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["channels"] for r in rows] == ["'=cmd|' /C calc'!A0, slack"]
    assert rows[0]["claim_median_s"] == "1800" and rows[0]["claim_median_grade"] == "excellent"
    assert rows[0]["reply_p90_grade"] == "poor"


def test_preview_writes_html_with_embedded_charts(runner: Any, write_settings: Any, tmp_path: Path) -> None:
    config = write_settings(f'database = "{tmp_path / "p.db"}"\n[[brands]]\nname = "Parcelly"\n')
    with Store(tmp_path / "p.db") as store:
        add(store, "a", "parcel lost again", "negative", datetime.now(UTC) - timedelta(hours=2))
    preview = tmp_path / "digest.html"
    result = runner.invoke(cli, ["--config", str(config), "digest", "--preview", str(preview)])
    assert result.exit_code == 0, result.output
    html = preview.read_text(encoding="utf-8")
    assert 'src="data:image/png;base64,' in html and "cid:" not in html
    assert "parcel lost again" in html and "<script" not in html


def negative(text: str, brand: str = "", **fields: object) -> ReportedMention:
    return ReportedMention(brand=brand, source="x", text=text, created_at="2026-11-20T12:00:00.000Z",
                           **fields)  # type: ignore[arg-type]


def test_themes_group_negatives_and_show_their_trend() -> None:
    outage = [negative(f"tracking page down again, app stuck loading {i}", "Parcelly",
                       url=f"https://x.com/{i}") for i in range(8)]
    refunds = [negative(f"still waiting on my refund after lost parcel claim {i}", "Parcelly")
               for i in range(6)]
    descale = [negative(f"E17 descaling error will not clear on the machine {i}", "Brewbird")
               for i in range(5)]
    previous = [negative("refund for lost parcel claim never came")] * 4
    themes = find_themes(outage + refunds + descale, previous, ignore_words=["Parcelly", "Brewbird"])
    by_word = {word: t for t in themes for keyword in t.keywords for word in keyword.split()}
    assert {t.count for t in themes} >= {8, 6, 5}
    assert by_word["tracking"].count == 8 and by_word["tracking"].previous == 0
    assert by_word["refund"].count == 6 and by_word["refund"].previous == 4
    assert by_word["descaling"].brands == {"Brewbird": 5}
    assert (by_word["tracking"].examples[0].url or "").startswith("https://x.com/")
    assert all("parcelly" not in t.label.lower() for t in themes)


def test_too_few_negatives_make_no_themes() -> None:
    assert find_themes([negative("bad")] * 3) == []


def test_missing_smtp_password_names_the_variable(settings_for: Callable[..., Settings]) -> None:
    with pytest.raises(MissingCredential, match="LISTENPOST_SMTP_PASSWORD"):
        send_email(SmtpOptions.of(settings_for().digest), ["a@example.com"], "s", "t",
                   environ={"LISTENPOST_SMTP_USER": "u"})


def test_plain_login_to_a_remote_server_is_refused(settings_for: Callable[..., Settings]) -> None:
    settings = settings_for()
    remote = replace(settings, digest=replace(settings.digest, smtp_host="mail.example.com"))
    env = {"LISTENPOST_SMTP_USER": "u", "LISTENPOST_SMTP_PASSWORD": "p"}
    with pytest.raises(ConfigError, match="unencrypted"):
        send_email(SmtpOptions.of(remote.digest), ["a@example.com"], "s", "t", environ=env)


def test_no_recipients_is_a_settings_error(runner: Any, write_settings: Any, tmp_path: Path) -> None:
    config = write_settings(f'database = "{tmp_path / "n.db"}"\n')
    result = runner.invoke(cli, ["--config", str(config), "digest", "--send"])
    assert result.exit_code == 2
    assert "digest.recipients" in result.output


def test_unreachable_server_and_refused_login_are_channel_errors(
    settings_for: Callable[..., Settings], smtp_server: Callable[..., Mailbox]
) -> None:
    with pytest.raises(ChannelError, match=r"127\.0\.0\.1:\d+ \(plain\): cannot deliver") as down:
        send_email(SmtpOptions.of(settings_for(free_port()).digest), ["a@example.com"], "s", "t", environ={})
    assert not down.value.permanent
    box = smtp_server()
    env = {"LISTENPOST_SMTP_USER": "u", "LISTENPOST_SMTP_PASSWORD": "wrong"}
    with pytest.raises(ChannelError, match="login refused") as refused:
        send_email(SmtpOptions.of(settings_for(box.port).digest), ["a@example.com"], "s", "t", environ=env)
    assert refused.value.permanent and "wrong" not in str(refused.value)
    assert box.messages == []


def test_durations_read_like_a_person_wrote_them() -> None:
    assert [human_duration(s) for s in (None, 20, 300, 3 * 3600 + 600, 30 * 3600, 2 * 86400)] == [
        "–", "<1 min", "5 min", "3 h 10 min", "1 d 6 h", "2 d"]


def test_chart_has_one_bar_per_local_day_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 25 Oct 2026 has 25 hours in Berlin; hourly UTC counts still land on their local day
    rows = [HourCount("P", "2026-10-24T22", n=2, negatives=1),  # 00:00 on the 25th in Berlin
            HourCount("P", "2026-10-25T22", n=3, negatives=0)]  # 23:00 on the 25th in Berlin
    points = chart_points(rows, datetime(2026, 10, 23, 12, tzinfo=UTC), datetime(2026, 10, 28, 12, tzinfo=UTC),
                          berlin, timedelta(days=1))
    assert [(p.start.day, p.start.hour, p.mentions, p.negatives) for p in points] == [
        (23, 0, 0, 0), (24, 0, 0, 0), (25, 0, 5, 1), (26, 0, 0, 0), (27, 0, 0, 0), (28, 0, 0, 0)]
    assert points[2].start.utcoffset() == timedelta(hours=2) and points[3].start.utcoffset() == timedelta(hours=1)


def test_a_five_year_chart_gathers_days_into_a_bounded_number_of_bars() -> None:
    # 2 x 1825 daily bars per brand took minutes to draw; 12-day bars keep every mention.
    until = datetime(2026, 11, 30, 12, tzinfo=UTC)
    start = until - timedelta(days=2 * 1825)
    rows = [HourCount("P", (start + timedelta(days=d, hours=3)).strftime("%Y-%m-%dT%H"), n=2, negatives=1)
            for d in range(0, 2 * 1825, 5)]
    step = timedelta(days=-(-2 * 1825 // 120))
    points = chart_points(rows, start, until, ZoneInfo("Europe/London"), step)
    assert len(points) <= 125
    assert sum(p.mentions for p in points) == 2 * len(rows) and sum(p.negatives for p in points) == len(rows)


def test_send_from_the_cli_reaches_the_recipients(
    runner: Any, write_settings: Any, tmp_path: Path, smtp_server: Callable[..., Mailbox]
) -> None:
    box = smtp_server()
    config = write_settings(f'database = "{tmp_path / "s.db"}"\n'
                            + SETTINGS.format(port=box.port, security="plain"))
    with Store(tmp_path / "s.db") as store:
        add(store, "s1", "where is my parcel", "negative", datetime.now(UTC) - timedelta(hours=1),
            url="https://x.com/s/1")
    result = runner.invoke(cli, ["--config", str(config), "digest", "--send"])
    assert result.exit_code == 0, result.output
    assert "Digest sent to 2 recipients: Daily digest" in result.output
    assert "where is my parcel" in parts(box.messages[0])["html"]


def test_digest_commands_load_no_heavy_modules() -> None:
    import subprocess
    import sys

    code = ("import sys, monitor.cli.digest; "
            "print(sorted(m for m in ('matplotlib', 'sklearn', 'jinja2', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_charts_start_where_the_data_does() -> None:
    from alerts.digest import from_first_data
    from alerts.digest.charts import Point

    day = timedelta(days=1)
    start = datetime(2025, 12, 1, tzinfo=UTC)
    points = [Point(start + n * day, 5 if n >= 360 else 0, 0) for n in range(365)]
    kept = from_first_data(points, day)
    assert kept[0].start == start + 358 * day and len(kept) == 7  # a week at least, not a squashed year
    assert from_first_data([Point(start, 0, 0)] * 3, day) == [Point(start, 0, 0)] * 3


def test_digest_reads_on_a_phone_and_speaks_to_managers(store: Store, settings_for: Callable[..., Settings]) -> None:
    for i in range(9):
        add(store, f"u{i}", f"parcel {i} never arrived", "negative", NOW - timedelta(hours=3 + i),
            url=f"https://x.com/u/status/{i}")
    digest = build_digest(store, settings_for(), now=NOW)
    _, text, html = render_digest(digest)
    assert "@media only screen and (max-width: 520px)" in html and 'class="card"' in html
    assert "listenpost " not in text and "<code>" not in html  # links and sentences, no commands
    assert "more waiting for a reply" in text
    assert "2026" in text.splitlines()[1]  # the period's dates carry the year


def test_theme_labels_are_words_not_fragments() -> None:
    from alerts.digest.themes import find_themes

    rows = [negative(t, "P", negative=0.9) for t in [
        "don't tell me my tracking is updated, tracking still broken", "tracking page don't load, tracking dead",
        "the tracking link doesn't work at all", "tracking says delivered, it wasn't", "returns label won't print",
        "returns portal don't accept my code", "returns refund still missing", "returns process is broken again",
    ]]
    labels = [t.label for t in find_themes(rows)]
    assert labels and all("don" not in label.split() and "·" not in label for label in labels)
    assert all(label[0].isupper() for label in labels)


def test_mentions_the_model_cannot_read_are_listed_for_a_person_newest_first(
        store: Store, settings_for: Callable[..., Settings]) -> None:
    """Counted is not read: a brand's unscored mentions are listed, capped, with the command for the rest."""
    texts = ["Parcelly me ha cobrado dos veces y nadie responde. Una vergüenza.",
             "Parcelly hat meine Lieferung wieder vergessen. Sehr enttäuschend!",
             "Livraison Parcelly impeccable, merci beaucoup !", "Consegna Parcelly in ritardo",
             "A entrega da Parcelly atrasou de novo", "Paczka Parcelly zaginęła", "Parcelly pakket kwijt"]
    languages = ["es", "de", "fr", "it", "pt", "pl", "nl"]
    for i, (text, language) in enumerate(zip(texts, languages, strict=True)):
        store.save_mentions([Mention(source="bluesky", external_id=f"u{i}", text=text, brand="Parcelly",
                                     created_at=NOW - timedelta(hours=i + 1), language=language,
                                     url=f"https://bsky.app/profile/u{i}/post/1")])
        store.save_classifications([Classification("bluesky", f"u{i}", "test", "unscored", None, None, None)])
    add(store, "en1", "Parcelly lost my parcel", "negative", NOW - timedelta(hours=1))
    add(store, "old", "Parcelly llegó tarde", "unscored", NOW - timedelta(days=2))  # the period before
    digest = build_digest(store, settings_for(), now=NOW)
    parcelly = next(b for b in digest.brands if b.name == "Parcelly")
    assert parcelly.unscored_total == 7
    assert [i.language for i in parcelly.unscored] == ["es", "de", "fr", "it", "pt"]
    assert parcelly.unscored[0].url == "https://bsky.app/profile/u0/post/1"
    _, text, html = render_digest(digest)
    section = text.split("In other languages (7;")[1]
    assert section.index("me ha cobrado") < section.index("Lieferung") < section.index("A entrega")
    assert "- [Bluesky] es, 1 hour ago: Parcelly me ha cobrado" in section
    assert "\n  https://bsky.app/profile/u0/post/1" in section
    assert "Paczka" not in section and "llegó tarde" not in section
    command = "listenpost mentions list --label unscored --brand Parcelly --since 2026-11-22T08:00:00Z --limit 20"
    assert f"and 2 more: {command}" in section
    assert "7 mentions in languages the sentiment model does not cover" in text
    assert "In other languages (7)" in html and "me ha cobrado" in html and f"and 2 more: <code>{command}" in html

"""Incidents and spikes, escalation of unclaimed alerts, reply drafts, and the `alerts` commands."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.outbox.dispatch import dispatch_due
from alerts.outbox.drafts import reply_draft
from alerts.outbox.escalation import escalate_due
from alerts.outbox.incidents import group_key_for, raise_spikes
from monitor.app.pipeline import ingest
from monitor.cli import cli
from monitor.core.errors import ConfigError
from monitor.core.records import Classification, Mention, utcnow
from tests.conftest import collected_for_days

pytestmark = pytest.mark.both_backends

SETTINGS = """
[[brands]]
name = "Acme"
reply_signature = "Sam, Acme support"
support_contact = "a DM to @AcmeHelp"

[[brands]]
name = "Brewbird"
reply_template = "Hello {name}! Sorry about {problem}. Write to {contact}. {signature}"
support_contact = "care@brewbird.example"

[alerts.channels.file]
type = "jsonl"
options = { path = "ALERTS_FILE" }

[alerts.channels.oncall]
type = "jsonl"
options = { path = "ONCALL_FILE" }

[alerts.escalation]
after = "30m"
channels = ["oncall"]
mention = "<!subteam^S0ONCALL>"

[[alerts.routes]]
channels = ["file"]
"""
COMPLAINT = "Acme lost my parcel again and nobody answers. Terrible, awful service, I hate it."


@pytest.fixture
def settings(make_settings, tmp_path):
    return make_settings(SETTINGS.replace("ALERTS_FILE", str(tmp_path / "alerts.jsonl"))
                         .replace("ONCALL_FILE", str(tmp_path / "oncall.jsonl")))


def mention(n: int, text: str = COMPLAINT, brand: str = "Acme", ago: timedelta = timedelta(0)) -> Mention:
    return Mention(source="x", external_id=str(n), text=text, brand=brand, author=f"user{n}",
                   created_at=utcnow() - ago)


def test_reposts_share_an_incident_and_other_complaints_do_not(store, settings, lexicon) -> None:
    ingest(store, settings, [mention(1)], lexicon)
    first = store.alert(1).group_key
    assert first == "x:1"
    repost = mention(2, "RT @someone: " + COMPLAINT.upper() + " https://t.co/xyz")
    assert group_key_for(store, settings, repost) == first
    other = mention(3, "The Acme app crashes every time I open the settings page, awful update.")
    assert group_key_for(store, settings, other) == "x:3"
    assert group_key_for(store, settings, mention(4, brand="Brewbird")) == "x:4"  # incidents are per brand
    later = utcnow() + timedelta(hours=7)  # past alerts.group_window (6h)
    assert group_key_for(store, settings, repost, now=later) == "x:2"


def add_negatives(store, hours_ago: list[float], brand: str = "Acme") -> None:
    mentions = [Mention(source="x", external_id=f"b{i}", text="bad", brand=brand,
                        created_at=utcnow() - timedelta(hours=h)) for i, h in enumerate(hours_ago)]
    store.save_mentions(mentions)
    store.save_classifications(Classification(m.source, m.external_id, "test", "negative", 0.9, 0.1, 0.0)
                               for m in mentions)


def test_spike_against_a_quiet_baseline_raises_one_alert(store, settings) -> None:
    collected_for_days(store, "Acme", 7)
    add_negatives(store, [h * 6.0 + 2 for h in range(27)] + [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    assert raise_spikes(store, settings, ["Acme"]) == 2  # the spike and its suggested status notice
    (row,) = [r for r in store.list_alerts() if r.kind == "spike"]
    assert (row.kind, row.channel, row.source) == ("spike", "file", "spike")
    assert "6 negative mentions of Acme in the last hour" in row.payload["text"]
    add_negatives(store, [0.05] * 1, brand="Acme")
    assert raise_spikes(store, settings, ["Acme"]) == 0  # one spike alert per brand per window


def test_busy_brand_baseline_is_not_a_spike(store, settings) -> None:
    # 0 to 8 negatives an hour all week (mean 4): six in the last hour is an ordinary hour.
    add_negatives(store, [h + 1.5 for h in range(168) for _ in range(h % 9)] + [0.1] * 6)
    assert raise_spikes(store, settings, ["Acme"]) == 0


def test_too_few_negatives_are_never_a_spike(store, settings) -> None:
    add_negatives(store, [0.1, 0.2, 0.3])
    assert raise_spikes(store, settings, ["Acme"]) == 0


def test_unclaimed_alert_escalates_once(store, settings, lexicon, tmp_path) -> None:
    ingest(store, settings, [mention(1)], lexicon)
    dispatch_due(store, settings)
    assert escalate_due(store, settings) == 0  # not yet 30 minutes
    later = utcnow() + timedelta(minutes=31)
    assert escalate_due(store, settings, now=later) == 1
    assert escalate_due(store, settings, now=later) == 0
    dispatch_due(store, settings)
    line = (tmp_path / "oncall.jsonl").read_text()
    assert '"kind": "escalation"' in line and COMPLAINT in line
    from alerts.channels.slack.render import headline
    from alerts.outbox.dispatch import build_message

    (row,) = [r for r in store.list_alerts() if r.kind == "escalation"]
    assert headline(build_message(store, settings, row)) == (
        "<!subteam^S0ONCALL> *Unclaimed for too long: negative mention of Acme (unclaimed for 30 minutes)*")


@pytest.mark.parametrize("action", ["claim", "snooze", "resolve"])
def test_claimed_snoozed_or_closed_alerts_do_not_escalate(store, settings, lexicon, action) -> None:
    from alerts.outbox.escalation import apply_action

    ingest(store, settings, [mention(1)], lexicon)
    dispatch_due(store, settings)
    apply_action(store, 1, action, "maria")
    assert escalate_due(store, settings, now=utcnow() + timedelta(minutes=31)) == 0
    if action == "snooze":  # an hour later the reminder comes
        assert escalate_due(store, settings, now=utcnow() + timedelta(minutes=61)) == 1


def test_reply_drafts_follow_the_brand_template(settings) -> None:
    acme = reply_draft(settings, brand="Acme", author="@ann", text="You charged me twice!")
    assert acme.startswith("Hi ann,") and "the charge on your account" in acme
    assert "sorry" in acme and "a DM to @AcmeHelp" in acme and acme.endswith("Sam, Acme support")
    brew = reply_draft(settings, brand="Brewbird", author="{signature}", text="my coffee order is late")
    assert brew == ("Hello {signature}! Sorry about your order not arriving when it should. "
                    "Write to care@brewbird.example. The Brewbird team")


@pytest.mark.parametrize(("template", "message"), [
    ("Hi {nmae}", r"brands\[0\]\.reply_template: unknown placeholder \{nmae\}"),
    ("Hi {name.__class__}", r"unknown placeholder"),
    ("Hi {name", r"brands\[0\]\.reply_template"),
])
def test_bad_reply_templates_are_config_errors(make_settings, template, message) -> None:
    with pytest.raises(ConfigError, match=message):
        make_settings(f'[[brands]]\nname = "Acme"\nreply_template = "{template}"\n')


@pytest.mark.parametrize("spec", ["22-07", "25:00-07:00", "soon"])
def test_bad_quiet_hours_are_config_errors(make_settings, spec) -> None:
    with pytest.raises(ConfigError, match=r"alerts\.channels\.console\.quiet_hours"):
        make_settings(f'[alerts.channels.console]\ntype = "console"\nquiet_hours = "{spec}"\n')


def test_alerts_commands(runner, settings, store, lexicon, database) -> None:
    ingest(store, settings, [mention(1)], lexicon)
    base = ["--config", settings.path, "--db", database]

    def run(*args: str) -> str:
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "1 sent" in run("alerts", "dispatch")
    assert "claimed by maria" in run("alerts", "claim", "1", "--by", "maria")
    assert "already claimed by maria" in run("alerts", "claim", "1", "--by", "li")
    assert "marked replied by maria" in run("alerts", "replied", "1", "--by", "maria")
    shown = run("alerts", "show", "1")
    assert "claimed by maria" in shown and "replied by maria" in shown and COMPLAINT[:40] in shown
    assert "Draft reply" in shown
    listed = run("alerts", "list")
    assert "#1" in listed and "replied by maria" in listed
    ingest(store, settings, [mention(2, "Acme is a total scam, refund my money, terrible!")], lexicon)
    assert "closed as false positive" in run("alerts", "resolve", "2", "--false-positive", "--by", "li")
    assert store.labeled_examples()[0].origin == "false_positive"
    store.mark_failed(2, "boom")
    assert "1 alert queued again" in run("alerts", "retry", "--failed")
    missing = runner.invoke(cli, [*base, "alerts", "show", "99"])
    assert missing.exit_code == 2 and "no alert #99" in missing.output


def test_alerts_list_one_line_per_alert_with_handling_filters_and_a_header(
        runner, make_settings, store, lexicon, database, tmp_path, monkeypatch) -> None:
    settings = make_settings(SETTINGS.replace("ALERTS_FILE", str(tmp_path / "alerts.jsonl"))
                             .replace("ONCALL_FILE", str(tmp_path / "oncall.jsonl")) + """
[alerts.channels.screen]
type = "console"
[[alerts.routes]]
channels = ["screen"]
""")
    base = ["--config", settings.path, "--db", database]
    ingest(store, settings, [mention(1), mention(2, "Acme charged me twice, awful, refund now!")], lexicon)
    assert {r.channel for r in store.list_alerts()} == {"file", "screen"}

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, [*base, *args], env={"COLUMNS": "72"})
        assert result.exit_code == code, result.output
        return result.output

    listed = run("alerts", "list")
    lines = listed.splitlines()
    assert lines[0].split()[:5] == ["alert", "delivery", "brand", "source", "handling"]
    assert sum(line.startswith("#") for line in lines) == 2  # two alerts, not one line per channel
    assert "via file #3, screen #4" in listed and "via file #1, screen #2" in listed
    assert max(len(line) for line in lines) <= 72
    missing = run("alerts", "claim", "1", code=2)
    assert "--as NAME" in missing and "LISTENPOST_USER" in missing
    monkeypatch.setenv("LISTENPOST_USER", "maria")
    assert "claimed by maria" in run("alerts", "claim", "1")
    assert "claimed by li" in run("alerts", "claim", "3", "--as", "li")
    assert "No alerts." in run("alerts", "list", "--status", "open")
    run("alerts", "resolve", "3", "--as", "li")
    claimed = run("alerts", "list", "--status", "claimed")
    assert "claimed by maria" in claimed and "charged me twice" not in claimed
    assert "charged me twice" in run("alerts", "list", "--status", "closed")


def test_an_incident_is_one_case_for_claims_and_escalation(store, settings, lexicon) -> None:
    from alerts.outbox.escalation import apply_action

    ingest(store, settings, [mention(1), mention(2, "RT " + COMPLAINT), mention(3, COMPLAINT + " !!")], lexicon)
    dispatch_due(store, settings)
    later = utcnow() + timedelta(minutes=31)
    assert escalate_due(store, settings, now=later) == 1  # one escalation for three reposts
    ingest(store, settings, [mention(4, COMPLAINT + " #fail")], lexicon)
    dispatch_due(store, settings)
    outcome = apply_action(store, 1, "claim", "maria")
    reports = [r.id for r in store.list_alerts() if r.kind in ("mention", "escalation")]
    assert {store.alert(i).claimed_by for i in reports} == {"maria"}
    assert set(outcome.alert_ids) >= set(reports)
    assert escalate_due(store, settings, now=later + timedelta(hours=1)) == 0


def test_alerts_show_repeats_the_draft_that_was_sent(store, settings, make_settings, lexicon, tmp_path) -> None:
    from alerts.outbox.dispatch import build_message

    ingest(store, settings, [mention(1)], lexicon)
    dispatch_due(store, settings)
    sent = store.alert(1).reply_draft
    assert sent and sent.endswith("Sam, Acme support")
    changed = make_settings(SETTINGS.replace("Sam, Acme support", "Kim, Acme care")
                            .replace("ALERTS_FILE", str(tmp_path / "alerts.jsonl"))
                            .replace("ONCALL_FILE", str(tmp_path / "oncall.jsonl")))
    assert build_message(store, changed, store.alert(1)).reply_draft == sent
    assert {"0015_sent_reply_drafts", "0016_mention_reach"} <= set(store.applied_migrations())


def test_a_comment_draft_ignores_its_threads_title(store, settings, lexicon) -> None:
    from dataclasses import replace

    from alerts.outbox.dispatch import build_message

    # A Reddit comment carries its submission's title, written by someone else.
    comment = replace(mention(1, "Same here, the Acme app is useless and awful"), source="reddit",
                      kind="comment", title="Acme lost my order #ZZ-99999, anyone else?")
    ingest(store, settings, [comment], lexicon)
    draft = build_message(store, settings, store.alert(1)).reply_draft
    assert draft and "ZZ-99999" not in draft


def test_an_alert_closed_before_delivery_is_not_sent(runner, store, settings, lexicon, database, tmp_path) -> None:
    from alerts.outbox.escalation import apply_action

    ingest(store, settings, [mention(1), mention(2, "RT " + COMPLAINT)], lexicon)
    apply_action(store, 1, "false_positive", "maria")  # closes the whole incident, both reports
    base = ["--config", settings.path, "--db", database]
    result = runner.invoke(cli, [*base, "alerts", "dispatch"])
    assert result.exit_code == 0, result.output
    assert "0 sent" in result.output and "2 not sent (closed before delivery)" in result.output
    assert not (tmp_path / "alerts.jsonl").exists() or not (tmp_path / "alerts.jsonl").read_text()
    assert {store.alert(i).status for i in (1, 2)} == {"skipped"}
    listed = runner.invoke(cli, [*base, "alerts", "list"]).output
    assert "skipped: closed before delivery" in listed
    assert "skipped: closed before delivery" in runner.invoke(cli, [*base, "alerts", "show", "1"]).output


def test_an_escalation_of_a_case_closed_before_it_went_out_is_not_sent(store, settings, lexicon, tmp_path) -> None:
    from alerts.outbox.escalation import apply_action

    ingest(store, settings, [mention(1)], lexicon)
    dispatch_due(store, settings)
    assert escalate_due(store, settings, now=utcnow() + timedelta(minutes=31)) == 1
    apply_action(store, 1, "replied", "maria")
    report = dispatch_due(store, settings)
    assert (report.sent, report.skipped) == (0, 1)
    assert not (tmp_path / "oncall.jsonl").exists() or not (tmp_path / "oncall.jsonl").read_text()
    (escalation,) = [r for r in store.list_alerts() if r.kind == "escalation"]
    assert (escalation.status, escalation.last_error) == ("skipped", "closed before delivery")


def test_two_people_closing_one_alert_at_once_leave_the_first_record_whole(store, settings, lexicon,
                                                                            monkeypatch) -> None:
    from alerts.outbox.escalation import apply_action

    ingest(store, settings, [mention(1)], lexicon)
    dispatch_due(store, settings)
    seen_open = store.alert(1)  # bob's command read the alert while it was open...
    assert apply_action(store, 1, "resolve", "alice").alert_ids  # ...then alice closed it
    monkeypatch.setattr(store, "alert", lambda alert_id: seen_open)
    outcome = apply_action(store, 1, "replied", "bob")
    monkeypatch.undo()
    assert outcome.alert_ids == [] and "nothing changed" in outcome.summary
    row = store.alert(1)
    assert (row.closed_by, row.resolution, row.replied_by) == ("alice", "resolved", None)

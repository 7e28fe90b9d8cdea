"""`listenpost alerts ...` (the outbox and what people do with alerts) and `listenpost serve`."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

import click

from alerts.message import inline, plain, plural, truncate
from monitor.cli import App, cell, fit, pass_app, say, width
from monitor.core.records import ALERT_STATUSES, HANDLING
from monitor.core.rows import ListedAlert
from monitor.core.times import local_time

# An alert id as SQLite can hold it: a larger one was "unexpected OverflowError".
ALERT_ID = click.IntRange(0, 2**63 - 1)
ROWS_PER_ALERT = 8  # outbox rows read per alert listed: one per channel it went to


def _who(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    """--as NAME, else $LISTENPOST_USER: the name the team sees on the alert."""
    name = (value or os.environ.get("LISTENPOST_USER") or "").strip()
    if not name:
        raise click.UsageError("say who you are: --as NAME, or set LISTENPOST_USER=NAME once in your shell profile")
    return name


_by = click.option("--as", "--by", "who", callback=_who, metavar="NAME",
                   help="Your name as the team sees it on the alert (default: $LISTENPOST_USER).")


@click.group()
def alerts() -> None:
    """The alerts outbox: list, show, claim, mark replied, resolve, retry, test a channel."""


def _cases(rows: list[ListedAlert]) -> list[list[ListedAlert]]:
    """Outbox rows grouped into alerts: one per mention and kind, whatever the channels."""
    cases: dict[tuple[str, str, str], list[ListedAlert]] = {}
    for r in rows:
        cases.setdefault((r.source, r.external_id, r.kind), []).append(r)
    return list(cases.values())


def _handling(rows: list[ListedAlert]) -> str:
    first = rows[0]
    if first.resolution:
        who = f" by {plain(first.closed_by)}" if first.closed_by else ""
        return f"{first.resolution.replace('_', ' ')}{who}"
    if first.replied_by:
        return f"replied by {plain(first.replied_by)}"
    if first.claimed_by:
        return f"claimed by {plain(first.claimed_by)}"
    return "open" if first.kind in ("mention", "escalation") else ""


def _channels(case: list[ListedAlert]) -> str:
    """'slack' for one channel; 'slack #39, file #40' when the alert went to several."""
    rows = sorted(case, key=lambda r: r.id)
    if len(rows) == 1:
        return inline(rows[0].channel)
    return ", ".join(f"{inline(r.channel)} #{r.id}" for r in rows)


@alerts.command("list")
@click.option("--status", type=click.Choice([*ALERT_STATUSES, *HANDLING]),
              help="Delivery (pending, sent, failed, ...) or handling: open (nobody has it yet), "
                   "claimed (someone is on it), closed (replied or resolved).")
@click.option("--brand")
@click.option("--limit", type=click.IntRange(1, 100000), default=20, show_default=True)
@pass_app
def alerts_list(app: App, status: str | None, brand: str | None, limit: int) -> None:
    """Alerts newest first, one line each: delivery, channels, who has it, the post."""
    with app.store() as store:
        if status in HANDLING:
            rows = store.list_alerts(handling=status, brand=app.brand_name(brand), limit=limit * ROWS_PER_ALERT)
        else:
            rows = store.list_alerts(status=status, brand=app.brand_name(brand), limit=limit * ROWS_PER_ALERT)
    cases = _cases(rows)[:limit]
    if not cases:
        click.echo("No alerts.")
        return
    columns = width()
    click.echo(fit(f"{'alert':<7}{'delivery':<10}{'brand':<11}{'source':<13}{'handling':<20}author", columns))
    for case in cases:
        first = case[0]
        delivery = "/".join(sorted({r.status for r in case}))
        ident = "#" + str(min(r.id for r in case))
        line = (f"{ident:<7}{cell(delivery, 10)}{cell(first.brand or '-', 11)}"
                f"{cell(first.source, 13)}{cell(_handling(case), 20)}{inline(first.author or '')}")
        click.echo(fit(line, columns))
        errors = {inline(r.last_error) for r in case if r.last_error and r.status not in ("sent", "skipped")}
        skipped = {inline(r.last_error) for r in case if r.last_error and r.status == "skipped"}
        details = (f"{first.kind} via {_channels(case)}"
                   + (f"; last error: {'; '.join(sorted(errors))}" if errors else "")
                   + (f"; skipped: {'; '.join(sorted(skipped))}" if skipped else ""))
        click.echo(fit(f"       {details}", columns))
        click.echo(fit(f"       {plain(truncate(first.text or '', columns))}", columns))
    if any(len(case) > 1 for case in cases):
        say("An alert sent to several channels has one number per channel (\"slack #39, file #40\"); the list "
            "shows the first, and any of them works with alerts show, claim, replied and resolve.")


@alerts.command("show")
@click.argument("alert_id", type=ALERT_ID)
@pass_app
def alerts_show(app: App, alert_id: int) -> None:
    """One alert as its channel shows it, with its delivery and handling history."""
    from alerts.channels.base import ChannelContext
    from alerts.channels.console import ConsoleChannel
    from alerts.outbox.dispatch import build_message
    from alerts.outbox.escalation import UnknownAlert, alert_name
    from monitor.core.config import Channel

    with app.store() as store:
        row = store.alert(alert_id)
        if row is None:
            raise UnknownAlert(f"no alert #{alert_id}")
        message = build_message(store, app.settings, row)
        name = alert_name(store, row)
    console = ConsoleChannel("show", Channel(type="console", options={"width": 2000}), ChannelContext.of(app.settings))
    click.echo(console.render(message))
    click.echo()
    tz = app.settings.tz
    if name != f"alert #{row.id}":
        say(name, "  ")  # the channel copy of the alert that `alerts list` shows
    say(f"status {row.status} on {row.channel} after {plural(row.attempts, 'attempt')}; "
        f"queued {local_time(row.created_at, tz)}, sent {local_time(row.sent_at, tz)}", "  ")
    for verb, who, at in (("claimed", row.claimed_by, row.claimed_at), ("replied", row.replied_by, row.replied_at),
                          ("closed", row.closed_by, row.closed_at)):
        if who:
            say(f"{verb} by {inline(who)} at {local_time(at, tz)}", "  ")
    for label, value, is_time in (("resolution", row.resolution, False), ("snoozed until", row.snoozed_until, True),
                                  ("escalated", row.escalated_at, True), ("incident", row.group_key, False),
                                  ("skipped" if row.status == "skipped" else "last error", row.last_error, False)):
        if value:
            say(f"{label}: {local_time(value, tz) if is_time else inline(value)}", "  ")


def _act(app: App, alert_id: int, action: str, who: str) -> None:
    from alerts.outbox.dispatch import refresh_case
    from alerts.outbox.escalation import apply_action

    with app.store() as store:
        outcome = apply_action(store, alert_id, action, who, tz=app.settings.tz)
        # The Slack messages show the change too, as if the button had been clicked.
        refresh_case(store, app.settings, outcome.alert_ids)
    click.echo(outcome.summary)


@alerts.command("claim")
@click.argument("alert_id", type=ALERT_ID)
@_by
@pass_app
def alerts_claim(app: App, alert_id: int, who: str) -> None:
    """Take an alert: the team sees who is answering it, and it is not escalated."""
    _act(app, alert_id, "claim", who)


@alerts.command("replied")
@click.argument("alert_id", type=ALERT_ID)
@_by
@pass_app
def alerts_replied(app: App, alert_id: int, who: str) -> None:
    """Record that the customer has been answered; closes the alert."""
    _act(app, alert_id, "replied", who)


@alerts.command("resolve")
@click.argument("alert_id", type=ALERT_ID)
@click.option("--false-positive", is_flag=True,
              help="Not a complaint: keep the mention as a labeled example for `listenpost train`.")
@_by
@pass_app
def alerts_resolve(app: App, alert_id: int, false_positive: bool, who: str) -> None:
    """Close an alert without a reply (or as a false positive)."""
    _act(app, alert_id, "false_positive" if false_positive else "resolve", who)


@alerts.command("retry")
@click.argument("alert_ids", type=ALERT_ID, nargs=-1)
@click.option("--failed", "all_failed", is_flag=True, help="Every failed alert.")
@pass_app
def alerts_retry(app: App, alert_ids: tuple[int, ...], all_failed: bool) -> None:
    """Put failed alerts back in the outbox; the next dispatch sends them."""
    if not alert_ids and not all_failed:
        raise click.UsageError("give alert ids or --failed")
    with app.store() as store:
        ids = list(alert_ids) + [r.id for r in store.list_alerts(status="failed", limit=100000)
                                 if all_failed]
        count = store.requeue_alerts(ids)
    click.echo(f"{plural(count, 'alert')} queued again.")


@alerts.command("test")
@click.argument("channel")
@pass_app
def alerts_test(app: App, channel: str) -> None:
    """Send a test message through CHANNEL (a name under [alerts.channels])."""
    from alerts.channels import build_channels
    from alerts.message import AlertMessage
    from monitor.core.errors import ConfigError
    from monitor.core.records import utcnow

    settings = app.settings
    if channel not in settings.alerts.channels:
        raise ConfigError(f"no channel named {channel!r} under [alerts.channels] "
                          f"(known: {', '.join(sorted(settings.alerts.channels)) or 'none'})")
    target = build_channels(settings, [channel], skip_broken=False).get(channel)
    if target is None:
        raise ConfigError(f"alerts.channels.{channel}.enabled is false")
    brand = settings.brands[0].name if settings.brands else "Example"
    message = AlertMessage(
        alert_id=0, kind="test", brand=brand, source="test", external_id="test", author="listenpost",
        text="If you can read this, listenpost can post alerts here.", url="", created_at=utcnow(),
        label=None, negative=None,
    )
    message_id = target.send(message)
    click.echo(f"Test message sent through {channel}" + (f" ({message_id})." if message_id else "."))


PASS = 100  # alerts one dispatch pass takes


@alerts.command("dispatch")
@click.option("--watch", is_flag=True, help="Keep running: deliver new alerts as they are queued.")
@click.option("--poll", type=click.FloatRange(0.05, 3600), default=1.0, show_default=True,
              help="Seconds between outbox checks with --watch.")
@click.option("--lease", type=click.FloatRange(0.1, 86400), default=120.0, show_default=True,
              help="Seconds after which an alert left 'sending' by a dispatcher that died is taken over.")
@pass_app
def alerts_dispatch(app: App, watch: bool, poll: float, lease: float) -> None:
    """Deliver due alerts now (and queue escalations for unclaimed ones)."""
    from alerts.outbox.dispatch import dispatch_due, run_dispatcher
    from alerts.outbox.escalation import escalate_due

    if watch:
        app.check_database()
        with contextlib.suppress(KeyboardInterrupt):
            run_dispatcher(app.settings, poll=poll, lease=lease)
        return
    from alerts.outbox.dispatch import DispatchReport

    report = DispatchReport()
    with app.store() as store:
        escalated = escalate_due(store, app.settings)
        # A pass takes up to PASS alerts; a big import queues more: pass again until one takes fewer,
        # so "sends them now" sends them all (Ctrl-C stops between passes with what went out).
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                step = dispatch_due(store, app.settings, limit=PASS, lease=lease)
                report.add(step)
                if step.handled < PASS:
                    break
    click.echo(f"{report.sent} sent, {report.retried} to retry, {report.failed} failed, "
               f"{report.grouped} joined an incident, {escalated} escalated"
               + (f", {report.skipped} not sent (closed before delivery)." if report.skipped else "."))


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=3000, show_default=True)
@click.option("--path", default="/slack/actions", show_default=True, help="The Slack Request URL path.")
@click.option("--socket-mode", is_flag=True,
              help="Take button clicks over Slack's Socket Mode instead (LISTENPOST_SLACK_APP_TOKEN).")
@click.option("--dispatch/--no-dispatch", default=True, show_default=True,
              help="Also deliver queued alerts (one second polling).")
@pass_app
def serve(app: App, host: str, port: int, path: str, socket_mode: bool, dispatch: bool) -> None:
    """Answer Slack's alert buttons (Claim, Replied, False positive, Snooze 1 h)."""
    from alerts.outbox.dispatch import run_dispatcher
    from monitor.app.preflight import check_settings
    from monitor.app.serve import make_server, run_socket_mode

    settings = app.settings
    check_settings(settings)
    app.check_database()  # an unreachable database ends here, not in every dispatch and click
    stop = threading.Event()
    workers: list[threading.Thread] = []
    if dispatch:
        workers.append(threading.Thread(target=run_dispatcher, args=(settings,),
                                        kwargs={"stop": stop}, daemon=True, name="dispatch"))
    server: Any = None
    if not socket_mode:
        server = make_server(settings, host=host, port=port, path=path)
        click.echo(f"Listening for Slack interactivity on http://{host}:{server.server_port}{path}")
    for worker in workers:
        worker.start()
    try:
        if socket_mode:
            run_socket_mode(settings, stop, on_ready=lambda: click.echo("Connected to Slack (Socket Mode)."))
        else:
            server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if server is not None:
            server.server_close()

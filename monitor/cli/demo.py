"""`listenpost demo` printed: what the offline run collected, classified, alerted and delivered."""

from __future__ import annotations

import shutil
import textwrap

import click

from alerts.digest.voice import percent
from alerts.message import inline, plain, plural
from monitor.app.demo import DEMO_ESCALATE_REACH, DemoReport, run_demo
from monitor.cli import progress
from monitor.core.records import LABELS, UNSCORED, source_name
from monitor.core.rows import LabelCount


def demo_command(db_path: str, model: str | None, show: int, *, only_demo_brands: bool = True) -> None:
    columns = max(40, shutil.get_terminal_size((80, 24)).columns)
    report = run_demo(db_path=db_path, model=model, show=show, columns=columns, announce=click.echo,
                      progress=progress, only_demo_brands=only_demo_brands)
    print_report(report, columns)


# What each kind of outbox row is, in the words of the demo's summary.
KIND_WORDS = {"mention": "complaint", "escalation": "on-call escalation", "notice": "status notice",
              "praise": "praise alert", "spike": "spike warning"}


def queued_words(queued: dict[str, int]) -> str:
    """'53 alert messages queued (51 complaints, 1 status notice, …; one per channel)'."""
    total = sum(queued.values())
    kinds = [plural(n, KIND_WORDS.get(kind, kind)) for kind, n in sorted(
        queued.items(), key=lambda item: list(KIND_WORDS).index(item[0]) if item[0] in KIND_WORDS else 99) if n]
    text = f"{plural(total, 'new alert message')} queued"
    return text + (f" ({', '.join(kinds)}; one message per channel it goes to)" if kinds else "")


def print_report(report: DemoReport, columns: int) -> None:
    run, sent, db_path = report.pipeline, report.sent, report.db_path
    summary = (f"{plural(run.fetched, 'mention')} read ({run.fetched - run.new} already stored, "
               f"{run.new} new); {plural(run.negatives, 'new negative')}, {run.unscored} in "
               f"languages the model does not cover (stored as unscored); "
               f"{queued_words(report.queued)}, {sent.sent} delivered to the demo's alert files"
               + (f", {sent.grouped} grouped into an earlier incident." if sent.grouped else "."))

    def say(text: str) -> None:
        click.echo(textwrap.fill(text, columns, break_on_hyphens=False))

    click.echo()
    say(summary)
    _print_table(report.stats)
    if report.agreement:
        a = report.agreement
        click.echo()
        say(f"Agreement with the hand labels bundled with the demo data: "
            f"{a.agreed}/{a.labeled} ({a.agreed / a.labeled:.0%}).")
        if a.alerts:
            say(f"Of these {a.labeled} hand-labeled mentions, {a.alerts} were alerted as complaints: "
                f"{a.alerts_negative} hand-labeled negative ({a.alerts_negative / a.alerts:.0%} precision, "
                f"{a.alerts_negative}/{a.negatives} of the negatives) and {a.alerts_positive} hand-labeled "
                f"positive.")
    reach = report.reach
    say(f"Reach: {reach.given} of {reach.total} mentions carry an audience figure (the others' sources "
        f"gave none); {plural(reach.escalated, 'negative')} seen by {DEMO_ESCALATE_REACH:,} followers or "
        f"more went straight to on-call.")
    if report.notices:
        first = report.notices[-1]
        say(f"Status notices: {plural(len(report.notices), 'incident')} of several people reporting the same "
            f"problem, each with a suggested post for the brand's own account; for {inline(first.brand)} "
            f"({first.payload.get('count')} reports): \"{plain(str(first.payload.get('text', '')))}\"")
    if report.praise:
        top = report.praise[0]
        seen = f"reach {top.reach:,}" if top.reach is not None else "no reach given"
        say(f"Say thanks: {plural(report.praise_total, 'mention')} of praise to thank, each also in the demo's "
            f"fans file with a thank-you draft; widest reach first: {inline(top.author)} on "
            f"{source_name(top.source)} ({seen}).")
    say("Share of voice over the last 7 days (negative share in brackets): " + ", ".join(
        f"{v.brand}{' (competitor, never alerted)' if v.competitor else ''} {percent(v.share)} "
        f"({percent(v.negative_share)} negative)" for v in report.voice) + ".")
    say(f"Kept without an alert: {run.worth_a_look} possibly negative (listed as \"worth a look\" in "
        f"the digest), {run.spam} spam, {run.off_topic} not about the brands.")
    click.echo()
    say(f"{plural(report.negatives, 'complaint')} alerted to the team (each once, whatever its channels). "
        f"The {len(report.rendered)} newest:")
    click.echo()
    for text in report.rendered:
        click.echo(text + "\n")
    if report.in_slack:
        click.echo("The newest as a Slack alert (see docs/alerts-and-slack.md):\n")
        click.echo(report.in_slack + "\n")
    click.echo(f"Done in {report.elapsed:.1f}s. Look further:")
    commands = [
        f"listenpost --db {db_path} mentions list --label negative --limit 10",
        f"listenpost --db {db_path} mentions search \"refund\"",
        f"listenpost --db {db_path} alerts list",
        f"listenpost --db {db_path} stats",
    ]
    if "://" not in db_path:  # Datasette browses SQLite files
        commands.append(f"listenpost --db {db_path} browse --open   # read-only, in Datasette")
    for command in commands:
        click.echo(f"  {command}")


def _print_table(stats: list[LabelCount]) -> None:
    totals: dict[tuple[str, str], int] = {}
    for r in stats:
        totals[(r.brand or "-", r.label)] = totals.get((r.brand or "-", r.label), 0) + r.n
    brands = sorted({b for b, _ in totals})
    labels = [*LABELS, UNSCORED]
    click.echo("\n" + f"{'':<12}" + "".join(f"{label:>10}" for label in labels))
    for brand in brands:
        cells = "".join(f"{totals.get((brand, label), 0):>10}" for label in labels)
        click.echo(f"{plain(brand):<12}{cells}")

"""`listenpost db`: the database itself — copying an install into another database."""

from __future__ import annotations

import click

from alerts.message import plural
from monitor.cli import App, fail, pass_app, progress


@click.group()
def db() -> None:
    """Copy the database to another one (SQLite to PostgreSQL, or a backup file)."""


@db.command("copy")
@click.option("--to", "target", required=True, metavar="DATABASE",
              help="The database to copy into: a file, or a postgresql://host/dbname URL "
                   "(user and password from PGUSER / PGPASSWORD).")
@click.option("--from", "source", metavar="DATABASE",
              help="The database to copy from (default: the configured one, --db or `database`).")
@click.pass_context
@pass_app
def copy(app: App, ctx: click.Context, target: str, source: str | None) -> None:
    """Copy mentions, verdicts, alerts (with their Slack message ids), cases, cursors, runs,
    labeled examples and thanks into another database, then check the counts.

    Rows already in the target are kept, so running it again adds nothing new. Stop the
    workers first: a mention collected during the copy shows up as a count that differs, and
    another run copies it. Exit 1 when a count differs or the target holds other contents under
    a copied row's key.

    \b
    Example (PGUSER and PGPASSWORD in the environment):
      listenpost --db listenpost.db db copy --to postgresql://db.internal/listenpost
    """
    from monitor.app.copy import copy_database

    report = copy_database(source or app.settings.database, target, progress=progress)
    click.echo(f"Copied {report.source} → {report.target} in {report.elapsed:.1f}s: "
               f"{report.added:,} row{'' if report.added == 1 else 's'} added.")
    name_width = max(len(t.table) for t in report.tables)
    count_width = max(len(f"{t.source:,}") for t in report.tables)
    for table in report.tables:
        mark = "✓" if table.matches else "✗"
        sign = "=" if table.source == table.target else "≠"
        line = f"  {table.table:<{name_width}}  {table.source:>{count_width},} {sign} {table.target:,} {mark}"
        if table.conflicts:
            keys = ", ".join(table.conflict_keys)
            line += f"  ({plural(table.conflicts, 'row')} with other contents in the target, kept: {keys})"
        click.echo(line)
    if not report.ok:
        wrong = [t.table for t in report.tables if not t.matches]
        fail(ctx, f"the copy does not match the source in {', '.join(wrong)}: either the target already holds "
                  "newer rows (workers ran on it since: expected once the install has moved), or the source "
                  "changed during the copy (stop what writes to the source and run it again)", 1)
